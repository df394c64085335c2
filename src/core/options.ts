import type { PresenceOptions } from './types';

export const DEFAULT_BASE_URL = 'http://localhost:5000';
export const DEFAULT_ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'scroll', 'focus'];
const MAX_DELAY = 2_147_483_647;

/** Checks one timing option. `min` is the smallest allowed value, in ms. */
function checkDelay(name: string, value: unknown, min: number, allowFalse: boolean) {
  if (value === undefined || (allowFalse && value === false)) return;

  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_DELAY) {
    const allowed = `an integer from ${min} to ${MAX_DELAY} ms${allowFalse ? ' or false' : ''}`;
    throw new RangeError(`Invalid ${name} ${String(value)}: expected ${allowed}.`);
  }
}

function isAbsoluteUrl(value: unknown): boolean {
  try {
    new URL(value as string);
    return typeof value === 'string';
  } catch {
    return false;
  }
}

/** Throws a TypeError or RangeError that names the first invalid option. */
export function validateOptions(options: PresenceOptions): void {
  const { token, baseUrl, activityEvents, requestBody } = options;

  if (typeof token !== 'string' && typeof token !== 'function') {
    throw new TypeError(`Invalid token: expected a string or a function, got ${token === null ? 'null' : typeof token}.`);
  }
  if (baseUrl !== undefined && !isAbsoluteUrl(baseUrl)) {
    throw new TypeError(`Invalid baseUrl ${JSON.stringify(baseUrl)}: expected an absolute URL such as "${DEFAULT_BASE_URL}".`);
  }
  if (activityEvents !== undefined && !(Array.isArray(activityEvents) && activityEvents.every((e) => typeof e === 'string'))) {
    throw new TypeError('Invalid activityEvents: expected an array of event names.');
  }
  if (requestBody !== undefined && typeof requestBody !== 'function') {
    throw new TypeError('Invalid requestBody: expected a function that maps a status to a JSON body.');
  }

  checkDelay('idleTimeout', options.idleTimeout, 1, true);
  checkDelay('hiddenTimeout', options.hiddenTimeout, 0, true);
  checkDelay('heartbeatInterval', options.heartbeatInterval, 1, true);
  checkDelay('requestTimeout', options.requestTimeout, 1, false);
}
