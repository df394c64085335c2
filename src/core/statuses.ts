import type { PresenceStatus } from './types';

export const STATUSES: readonly PresenceStatus[] = ['online', 'away', 'offline'];

export function isStatus(value: unknown): value is PresenceStatus {
  return STATUSES.includes(value as PresenceStatus);
}

/** Throws a TypeError naming the value unless it is a status. */
export function assertStatus(value: unknown): asserts value is PresenceStatus {
  if (!isStatus(value)) {
    const shown = typeof value === 'string' ? `"${value}"` : typeof value === 'object' && value ? 'object' : String(value);
    throw new TypeError(`Invalid presence status ${shown}: expected "online", "away" or "offline".`);
  }
}
