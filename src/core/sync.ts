import { PresenceHttpError } from './errors';
import { MAX_DELAY } from './options';
import { isRetryable } from './transport';
import type { PresenceState, PresenceStatus } from './types';

const RETRY_BASE = 1000;
const RETRY_CAP = 30_000;

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
  /** Stops the engine and sends a last status once, without retries, unless the server has it. */
  finish(status: PresenceStatus): void;
  /** Arms the heartbeat again, after `heartbeatInterval` changed. */
  restartHeartbeat(): void;
  /** Lets a status that failed without retry be sent again, because the user chose it again. */
  retryFailed(): void;
  stop(): void;
}

/**
 * Creates the engine that brings the server to the newest wanted status: one request at a time,
 * newer statuses replacing queued ones, retries with backoff, and a heartbeat.
 */
export function createSync(options: SyncOptions): Sync {
  let wanted: PresenceStatus | null = null;
  let acked = options.acked;
  let inFlight: PresenceStatus | null = null;
  let gaveUp: PresenceStatus | null = null;
  let force = false;
  let wasOffline = false;
  let stopped = false;
  // A stopped engine stays silent, except for the last status that `finish` sends.
  let finishing = false;
  let attempt = 0;
  let lastOkAt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeatTimer: ReturnType<typeof setTimeout> | undefined;

  const needsSend = () => wanted !== null && (force || (wanted !== acked && wanted !== gaveUp));

  function report() {
    if (stopped && !finishing) return;
    const isSyncing = inFlight !== null || retryTimer !== undefined || needsSend();
    options.onChange({ syncedStatus: acked, isSyncing });
  }

  function clearRetry() {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    attempt = 0;
  }

  function armHeartbeat() {
    clearTimeout(heartbeatTimer);
    const interval = options.heartbeatInterval();
    if (interval === false || stopped) return;

    heartbeatTimer = setTimeout(() => wanted && sync.want(wanted, true), Math.min(interval, MAX_DELAY));
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
      Math.min(delay, MAX_DELAY),
    );
  }

  function settle(status: PresenceStatus, error: unknown) {
    // A response that arrives after stop belongs to a tab that no longer leads or is gone.
    if (stopped) return;
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
    if (status !== wanted || stopped) return;

    if (!isRetryable(error)) {
      // Nothing more is sent for this status until it changes or the heartbeat sends it again.
      gaveUp = status;
      armHeartbeat();
    } else if (options.isOnline()) {
      scheduleRetry(error as Error);
    } else {
      // Offline failures spend no attempt: the `online` event sends again.
      wasOffline = true;
    }
  }

  function pump() {
    if (!options.isOnline()) wasOffline = true;
    if (stopped || inFlight || retryTimer || !needsSend() || wasOffline) {
      report();
      return;
    }

    const status = wanted as PresenceStatus;
    force = false;
    inFlight = status;
    report();
    // A synchronous throw inside send (from requestBody, say) becomes a rejection.
    Promise.resolve()
      .then(() => options.send(status, false))
      .then(
        () => settle(status, undefined),
        (error: unknown) => settle(status, error ?? new Error('Request failed')),
      )
      .finally(() => {
        inFlight = null;
        pump();
      });
  }

  const sync: Sync = {
    want(status, forceSend = false) {
      if (stopped) return;
      if (status !== wanted) {
        wanted = status;
        gaveUp = null;
        clearRetry();
      }
      // A request in flight for the same status already does what a forced send would.
      if (forceSend && inFlight !== status) {
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
      // Back online, the status goes out now rather than when a backoff delay ends.
      if (reconnected) clearRetry();

      if (wanted && !inFlight && (reconnected || stale)) sync.want(wanted, true);
      else pump();
    },
    finish(status) {
      const alreadySent = inFlight ? inFlight === status : acked === status;
      sync.stop();
      wanted = status;
      if (alreadySent) return;

      finishing = true;
      // Handed to the transport at once: its queue sends it after the request in flight.
      Promise.resolve()
        .then(() => options.send(status, true))
        .then(
          () => {
            acked = status;
            report();
          },
          (error: Error) => options.onError(error, status),
        );
    },
    restartHeartbeat() {
      if (acked !== null) armHeartbeat();
    },
    retryFailed() {
      gaveUp = null;
      pump();
    },
    stop() {
      stopped = true;
      clearTimeout(heartbeatTimer);
      clearRetry();
    },
  };
  return sync;
}
