import { isStatus } from './statuses';
import type { PresenceEnvironment, PresenceStatus } from './types';

type Storage = PresenceEnvironment['localStorage'];

/** Reads the stored chosen status. Missing, invalid or blocked storage gives `"online"`. */
export function readChosenStatus(storage: Storage, key: string): PresenceStatus {
  try {
    const stored = storage?.getItem(key);
    return isStatus(stored) ? stored : 'online';
  } catch {
    return 'online';
  }
}

/** Stores the chosen status. `"online"`, the default, removes the entry. */
export function writeChosenStatus(storage: Storage, key: string, status: PresenceStatus): void {
  try {
    if (status === 'online') storage?.removeItem(key);
    else storage?.setItem(key, status);
  } catch {
    // Storage is full or blocked: the choice then lasts until the page reloads.
  }
}
