import { isStatus } from './statuses';
import type { PresenceEnvironment, PresenceState, PresenceStatus } from './types';

/** Error as tabs share it: structured cloning drops the class and may fail on its `cause`. */
export interface SharedError {
  name: string;
  message: string;
}

export type SharedState = Omit<PresenceState, 'error'> & { error: SharedError | null };

/** The leader's state as followers receive it. */
export interface LeaderState {
  state: SharedState;
  /** Number of failed requests so far, so that followers can tell a new error from a copy. */
  failures: number;
  /** Status of the latest failed request, or null when none failed. */
  failedStatus: PresenceStatus | null;
  /** Time at which the chosen status was chosen, in whichever tab. */
  chosenAt: number;
}

/** Messages between tabs. None carries the token. */
export type TabMessage =
  /** A tab's visibility. `ask` requests a `tab` reply from every other tab and the leader's state. */
  | { type: 'tab'; id: string; hiddenSince: number | null; ask?: boolean }
  | { type: 'bye'; id: string }
  | { type: 'input'; at: number }
  /** A status chosen in a tab at time `at`. A choice older than the leader's current one loses. */
  | { type: 'chosen'; status: PresenceStatus; at: number }
  | ({ type: 'state' } & LeaderState);

export interface Tabs {
  post(message: TabMessage): void;
  close(): void;
}

/**
 * Opens the channel and queues for the leader lock, which is held until `close`. Returns `null`
 * when the browser lacks BroadcastChannel or Web Locks, and the tab then works alone.
 */
export function openTabs(
  environment: PresenceEnvironment,
  name: string,
  onMessage: (message: TabMessage) => void,
  onLeader: () => void,
): Tabs | null {
  const { BroadcastChannel: Channel, navigator } = environment;
  if (!Channel || !navigator.locks) return null;

  const channel = new Channel(name);
  const abort = new AbortController();
  let releaseLock = () => {};
  let closed = false;

  channel.onmessage = (event: MessageEvent) => {
    if (isTabMessage(event.data)) onMessage(event.data);
  };
  navigator.locks
    .request(name, { signal: abort.signal }, () => {
      // A grant that raced with close is released at once: aborting a granted request does nothing.
      if (closed) return;
      onLeader();
      return new Promise<void>((resolve) => {
        releaseLock = resolve;
      });
    })
    // Rejects with an AbortError when the tab closes before it became the leader.
    .catch(() => {});

  return {
    post(message) {
      try {
        channel.postMessage(message);
      } catch {
        // A closed channel throws InvalidStateError. The message is dropped, so that the error
        // does not escape the event handler that posted it.
      }
    },
    close() {
      closed = true;
      abort.abort();
      releaseLock();
      channel.close();
    },
  };
}

const isTime = (value: unknown) => typeof value === 'number' && Number.isFinite(value);

const REASONS = ['manual', 'active', 'idle', 'hidden', 'pagehide', 'unmount'];

function isSharedError(value: unknown): value is SharedError {
  const error = value as Record<keyof SharedError, unknown> | null;
  return !!error && typeof error.name === 'string' && typeof error.message === 'string';
}

function isState(value: unknown): value is SharedState {
  const state = value as Record<keyof SharedState, unknown> | null;
  return (
    !!state &&
    isStatus(state.status) &&
    isStatus(state.chosenStatus) &&
    (state.syncedStatus === null || isStatus(state.syncedStatus)) &&
    REASONS.includes(state.reason as string) &&
    typeof state.isIdle === 'boolean' &&
    typeof state.isHidden === 'boolean' &&
    typeof state.isSyncing === 'boolean' &&
    (state.error === null || isSharedError(state.error)) &&
    isTime(state.lastActiveAt)
  );
}

/** Drops messages of other versions or other senders on the same channel. */
function isTabMessage(value: unknown): value is TabMessage {
  const message = value as Record<string, unknown> | null;
  if (!message || typeof message !== 'object') return false;

  switch (message.type) {
    case 'tab':
      return typeof message.id === 'string' && (message.hiddenSince === null || isTime(message.hiddenSince));
    case 'bye':
      return typeof message.id === 'string';
    case 'input':
      return isTime(message.at);
    case 'chosen':
      return isStatus(message.status) && isTime(message.at);
    case 'state':
      return (
        isState(message.state) &&
        isTime(message.failures) &&
        isTime(message.chosenAt) &&
        (message.failedStatus === null || isStatus(message.failedStatus))
      );
    default:
      return false;
  }
}
