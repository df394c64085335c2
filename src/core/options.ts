import type { PresenceOptions } from './types';

export const DEFAULT_BASE_URL = 'http://localhost:5000';
export const DEFAULT_ACTIVITY_EVENTS = [
  'pointerdown',
  'pointermove',
  'keydown',
  'wheel',
  'touchstart',
  'scroll',
  'focus',
];
export const MAX_DELAY = 2_147_483_647;
export const DEFAULT_IDLE_TIMEOUT = 300_000;
export const DEFAULT_HIDDEN_TIMEOUT = 60_000;
export const DEFAULT_HEARTBEAT_INTERVAL = 60_000;
export const DEFAULT_REQUEST_TIMEOUT = 10_000;

// Smallest allowed value of each timing option, in ms. Only requestTimeout cannot be `false`.
const MIN_DELAYS = { idleTimeout: 1, hiddenTimeout: 0, heartbeatInterval: 1, requestTimeout: 1 } as const;

/** Formats a rejected value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  return typeof value === 'object' && value ? typeof value : String(value);
}

function invalid(name: string, value: unknown, expected: string): TypeError {
  return new TypeError(`Invalid ${name} ${describeValue(value)}: expected ${expected}.`);
}

function isHttpUrl(value: unknown): boolean {
  try {
    return typeof value === 'string' && ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Throws a TypeError or RangeError that names the first invalid option and its value. */
export function validateOptions(options: PresenceOptions): void {
  const { token, baseUrl, activityEvents, requestBody } = options;

  if (typeof token !== 'string' && typeof token !== 'function') {
    throw invalid('token', token, 'a string or a function that returns one');
  }
  if (baseUrl !== undefined && !isHttpUrl(baseUrl))
    throw invalid('baseUrl', baseUrl, `an absolute http or https URL such as "${DEFAULT_BASE_URL}"`);
  if (
    activityEvents !== undefined &&
    !(Array.isArray(activityEvents) && activityEvents.every((type) => typeof type === 'string'))
  ) {
    throw invalid('activityEvents', activityEvents, 'an array of event names');
  }
  if (requestBody !== undefined && typeof requestBody !== 'function') {
    throw invalid('requestBody', requestBody, 'a function');
  }

  for (const [name, min] of Object.entries(MIN_DELAYS)) {
    const value = options[name as keyof typeof MIN_DELAYS];
    if (value === undefined || (value === false && name !== 'requestTimeout')) continue;

    const orFalse = name === 'requestTimeout' ? '' : ' or false';
    const expected = `an integer from ${min} to ${MAX_DELAY} ms${orFalse}`;
    if (typeof value !== 'number') throw invalid(name, value, expected);
    if (!Number.isInteger(value) || value < min || value > MAX_DELAY) {
      throw new RangeError(`Invalid ${name} ${describeValue(value)}: expected ${expected}.`);
    }
  }
}
