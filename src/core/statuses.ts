import { describeValue } from './options';
import type { PresenceStatus } from './types';

export const isStatus = (value: unknown): value is PresenceStatus =>
  value === 'online' || value === 'away' || value === 'offline';

/** Throws a TypeError naming the value unless it is a status. */
export function assertStatus(value: unknown): asserts value is PresenceStatus {
  if (!isStatus(value)) {
    throw new TypeError(`Invalid presence status ${describeValue(value)}: expected "online", "away" or "offline".`);
  }
}
