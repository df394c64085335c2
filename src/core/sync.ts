import { PresenceHttpError } from './errors';
import { isRetryable } from './transport';
import type { PresenceState, PresenceStatus } from './types';

const RETRY_BASE = 1000;
const RETRY_CAP = 30_000;
const MAX_TIMER = 2_147_483_647;

export interface SyncOptions {
  /** Status the server acknowledged before this engine started, as the previous leader reported. */
  acked: PresenceStatus | null;
  send: (status: PresenceStatus, keepalive: boolean) => Promise<void>;
  onChange: (patch: Pick<PresenceState, 'syncedStatus' | 'isSyncing'> | Pick<PresenceState, 'error'>) => void;
  /** Called with each failed attempt and the status it tried to send. */
  onError: (error: Error, status: PresenceStatus) => void;
  isOnline: () => boolean;
  heartbeatInterval: () => number | false;
  now: () => number;
  random: () => number;
}

export interface Sync {
  /** Makes `status` the one to converge to. `force` re-sends it even when the server has it. */
  want(status: PresenceStatus, force?: boolean): void;
  /**
   * Re-checks after a wake, `pageshow`, `online` or `offline`: sends at once after a reconnect,
   * or when the last success is older than one heartbeat interval.
   */
  wake(): void;
  /** Sends a last status once, without retries or heartbeat, then stops. */
  finish(status: PresenceStatus): void;
  stop(): void;
}

/**
 * Creates the engine that brings the server to the newest wanted status: one request at a time,
 * newer statuses replacing queued ones, retries with backoff, and a heartbeat.
 */
export function createSync(options: SyncOptions): Sync {
  let wanted: PresenceStatus | null = null;
  let acked = options.acked;
  let gaveUp: PresenceStatus | null = null;
  let force = false;
  let busy = false;
  let finishing = false;
  let wasOffline = false;
  let stopped = false;
  let attempt = 0;
  let lastOkAt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeatTimer: ReturnType<typeof setTimeout> | undefined;

  const needsSend = () => wanted !== null && (force || (wanted !== acked && wanted !== gaveUp));

  function report() {
    options.onChange({ syncedStatus: acked, isSyncing: busy || retryTimer !== undefined || needsSend() });
  }

  function clearRetry() {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    attempt = 0;
  }

  function armHeartbeat() {
    clearTimeout(heartbeatTimer);
    const interval = options.heartbeatInterval();
    if (interval === false || finishing) return;

    heartbeatTimer = setTimeout(() => wanted && sync.want(wanted, true), Math.min(interval, MAX_TIMER));
  }

  function scheduleRetry(error: Error) {
    const retryAfter = error instanceof PresenceHttpError ? error.retryAfter : null;
    const backoff = Math.min(RETRY_CAP, RETRY_BASE * 2 ** attempt);
    const delay = retryAfter ?? options.random() * backoff;
    attempt++;
    retryTimer = setTimeout(
      () => {
        retryTimer = undefined;
        pump();
      },
      Math.min(delay, MAX_TIMER),
    );
  }

  function settle(status: PresenceStatus, error: unknown) {
    if (error === undefined) {
      acked = status;
      lastOkAt = options.now();
      attempt = 0;
      options.onChange({ error: null });
      armHeartbeat();
      return;
    }

    options.onError(error as Error, status);
    // A newer status is already wanted, so the failed one is dropped rather than retried.
    if (status !== wanted) return;

    if (finishing || !isRetryable(error)) gaveUp = status;
    else if (options.isOnline()) scheduleRetry(error as Error);
    // Offline failures spend no attempt: the `online` event sends again.
    else wasOffline = true;
  }

  function pump() {
    if (!options.isOnline()) wasOffline = true;
    if (stopped || busy || retryTimer || !needsSend() || wasOffline) {
      report();
      return;
    }

    const status = wanted as PresenceStatus;
    force = false;
    busy = true;
    report();
    options
      .send(status, finishing)
      .then(
        () => settle(status, undefined),
        (error: unknown) => settle(status, error ?? new Error('Request failed')),
      )
      .finally(() => {
        busy = false;
        if (finishing && !needsSend()) sync.stop();
        pump();
      });
  }

  const sync: Sync = {
    want(status, forceSend = false) {
      if (stopped || finishing) return;
      if (status !== wanted) {
        wanted = status;
        gaveUp = null;
        clearRetry();
      }
      if (forceSend) {
        force = true;
        gaveUp = null;
      }
      pump();
    },
    wake() {
      if (!options.isOnline()) {
        wasOffline = true;
        return;
      }
      const reconnected = wasOffline;
      const interval = options.heartbeatInterval();
      const stale = interval !== false && acked !== null && options.now() - lastOkAt >= interval;
      wasOffline = false;

      if (wanted && !busy && !finishing && (reconnected || stale)) sync.want(wanted, true);
      else pump();
    },
    finish(status) {
      clearTimeout(heartbeatTimer);
      clearRetry();
      finishing = true;
      if (status !== wanted) {
        wanted = status;
        gaveUp = null;
      }
      if (needsSend() || busy) pump();
      else sync.stop();
    },
    stop() {
      stopped = true;
      clearTimeout(heartbeatTimer);
      clearRetry();
    },
  };
  return sync;
}
