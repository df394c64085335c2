import type { KyInstance } from 'ky';

/** A user's presence as the chat backend stores it. */
export type PresenceStatus = 'online' | 'away' | 'offline';

/** Cause of the latest change of the effective status. */
export type PresenceReason = 'manual' | 'active' | 'idle' | 'hidden' | 'pagehide' | 'unmount';

/** Snapshot that `usePresence` returns. */
export interface PresenceState {
  /** Effective status: the one sent to the server. */
  status: PresenceStatus;
  /** Status the user picked. `"online"` lets the package switch to `"away"` and back. */
  chosenStatus: PresenceStatus;
  /** Cause of the latest change of `status`. */
  reason: PresenceReason;
  /** True while no tab has seen input for `idleTimeout`. */
  isIdle: boolean;
  /** True while every tab is hidden. */
  isHidden: boolean;
  /** Last status the server acknowledged, or `null` before the first success. */
  syncedStatus: PresenceStatus | null;
  /** True while a request is in flight or a send is pending or waiting to retry. */
  isSyncing: boolean;
  /** Error of the latest failed request, cleared by the next success. */
  error: Error | null;
  /**
   * Time of the latest input (ms since the epoch), as of the latest state change. It is not
   * updated on every event, so that input causes no renders.
   */
  lastActiveAt: number;
}

/** Access token, or a function that returns one and is called before every request. */
export type PresenceToken = string | (() => string | Promise<string>);

/** Options shared by `PresenceProvider` and `createPresence`. */
export interface PresenceOptions {
  /** Access token sent as `Authorization: Bearer <token>`. */
  token: PresenceToken;
  /** Origin of the chat backend. @default "http://localhost:5000" */
  baseUrl?: string;
  /** Maps a status to the JSON body the server expects. @default status => ({ status }) */
  requestBody?: (status: PresenceStatus) => unknown;
  /** A ky instance to send through, for the app's own hooks and headers. @default ky */
  ky?: KyInstance;
  /** Called with every error a request or the token function produces. */
  onError?: (error: Error) => void;
  /** Called after the effective status changes, with the new status and its cause. */
  onStatusChange?: (status: PresenceStatus, reason: PresenceReason) => void;
  /** Milliseconds without input before away, or `false` to turn idle detection off. @default 300000 */
  idleTimeout?: number | false;
  /** Milliseconds the page may stay hidden before away (`0`: at once), or `false`. @default 60000 */
  hiddenTimeout?: number | false;
  /** Events on `window` that count as input. Replaces the default list, window `focus` included. @default pointerdown, pointermove, keydown, wheel, touchstart, scroll, focus */
  activityEvents?: readonly string[];
  /** Milliseconds between re-sends of the current status, or `false`. @default 60000 */
  heartbeatInterval?: number | false;
  /** Milliseconds before a request times out and is retried. @default 10000 */
  requestTimeout?: number;
  /** Name of the BroadcastChannel, lock and storage key shared by tabs. @default "react-presence:" + baseUrl */
  channelName?: string;
  /** Browser objects to use in place of the globals, for tests and embedding. */
  environment?: Partial<PresenceEnvironment>;
}

/** Browser objects the core touches. Every member defaults to the global of the same name. */
export interface PresenceEnvironment {
  window: EventTarget;
  document: EventTarget & { visibilityState: DocumentVisibilityState };
  navigator: { onLine: boolean; locks?: Pick<LockManager, 'request'> };
  localStorage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  BroadcastChannel: (new (name: string) => BroadcastChannel) | null;
  fetch: typeof fetch;
  now: () => number;
  random: () => number;
}
