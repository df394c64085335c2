import kyDefault from 'ky';
import { checkAway } from './away';
import { createCallbackRunner } from './callbacks';
import { resolveEnvironment } from './environment';
import { PresenceError } from './errors';
import { createTabGroup, type LeaderState, toSharedState } from './group';
import { addPageListeners, type PageListeners } from './listeners';
import {
  DEFAULT_ACTIVITY_EVENTS,
  DEFAULT_BASE_URL,
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_HIDDEN_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  MAX_DELAY,
  validateOptions,
} from './options';
import { assertStatus } from './statuses';
import { readChosenStatus, writeChosenStatus } from './storage';
import { createStore } from './store';
import { createSync, type Sync } from './sync';
import { createTransport, type Transport } from './transport';
import type { PresenceEnvironment, PresenceOptions, PresenceReason, PresenceState, PresenceStatus } from './types';

/** Framework-free presence engine. `PresenceProvider` creates one and subscribes to it. */
export interface Presence {
  getState(): PresenceState;
  subscribe(listener: () => void): () => void;
  /** Adds the listeners and sends the first status. A `start` right after `stop` cancels the stop. */
  start(): void;
  /** Removes everything `start` added after one task, and sends `offline` from the last tab. */
  stop(): void;
  /** Sets the chosen status. Resolves when the server has the resulting status, rejects on failure. */
  choose(status: PresenceStatus): Promise<PresenceStatus>;
  /** Counts as user input, for activity the page cannot see. */
  reportActivity(): void;
  /** Replaces the options. New timeouts, activity events and heartbeat apply at once. */
  configure(options: PresenceOptions): void;
}

type AwayReason = 'idle' | 'hidden';

// Engines running in this page per channel. Without Web Locks, a provider that unmounts while
// another one of the same channel runs (a remount) must not send `offline`.
const runningEngines = new Map<string, number>();

function countEngine(channelName: string, change: 1 | -1): number {
  const count = (runningEngines.get(channelName) ?? 0) + change;
  runningEngines.set(channelName, count);
  return count;
}

/**
 * Creates the presence engine: it derives the effective status from the chosen status, input
 * and visibility, shares it with the other tabs, and keeps the server in step through one leader.
 * It touches no browser global before `start`.
 */
export function createPresence(initialOptions: PresenceOptions): Presence {
  validateOptions(initialOptions);
  let options = initialOptions;
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const channelName = options.channelName ?? `react-presence:${baseUrl}`;
  const storageKey = `${channelName}:chosen`;
  const runCallback = createCallbackRunner();

  const store = createStore<PresenceState>({
    status: 'online',
    chosenStatus: 'online',
    reason: 'active',
    isIdle: false,
    isHidden: false,
    syncedStatus: null,
    isSyncing: false,
    error: null,
    lastActiveAt: 0,
  });

  let env: PresenceEnvironment;
  let transport: Transport;
  let listeners: PageListeners | null = null;
  let sync: Sync | null = null;
  let running = false;
  // Set once the tab has left (pagehide or unmount), so that it never sends its goodbye twice.
  let hasLeft = false;
  // Set by a return from the back/forward cache: the next leader sends the status even if unchanged.
  let resendOnLead = false;
  let stopTimer: ReturnType<typeof setTimeout> | undefined;

  let chosen: PresenceStatus = 'online';
  // When `chosen` was chosen, in any tab. Tabs compare these times so that the newest choice wins.
  let chosenAt = 0;
  // A choice made while stopped, applied and stored on the next start.
  let choiceWhileStopped: PresenceStatus | null = null;
  // A choice of this tab that the leader has not confirmed yet.
  let unconfirmedChoice: PresenceStatus | null = null;
  // Failed requests so far and the status of the latest, shared with followers.
  let failures = 0;
  let failedStatus: PresenceStatus | null = null;
  // Checks of pending `choose` promises, run once more on teardown so that none stays pending.
  const choiceChecks = new Set<() => void>();

  // Automatic away. `lastInputAt` is the latest input in any tab, and an away stays until input
  // at or after `awaySince` arrives while no rule holds.
  let lastInputAt = 0;
  let autoAway: AwayReason | null = null;
  let awaySince = 0;
  let nextCheckAt = Infinity;
  let checkTimer: ReturnType<typeof setTimeout> | undefined;

  const group = createTabGroup({
    onInput: registerInput,
    onChosen(status, at) {
      // A choice that arrives late, such as one sent again after the back/forward cache, loses
      // to a newer one.
      if (at < chosenAt) return;
      chosen = status;
      chosenAt = at;
      unconfirmedChoice = null;
      checkDeadlines('manual');
      sync?.retryFailed();
    },
    onLeaderState: applyLeaderState,
    onPeersChanged: () => checkDeadlines(),
    onLeader: becomeLeader,
    leaderState: (): LeaderState => ({ state: toSharedState(store.get()), failures, failedStatus, chosenAt }),
  });

  store.subscribe(group.shareLeaderState);

  // --- status ----------------------------------------------------------------------------------

  function effectiveStatus(): PresenceStatus {
    if (chosen !== 'online') return chosen;
    return autoAway ? 'away' : 'online';
  }

  function causeOfChange(): PresenceReason {
    if (chosen !== 'online') return 'manual';
    return autoAway ?? 'active';
  }

  /** Derives the effective status, stores it, and hands it to the sync engine of the leader. */
  function publish(reason?: PresenceReason) {
    const status = effectiveStatus();
    const previous = store.get();
    const changed = status !== previous.status;
    const { idleTimeout = DEFAULT_IDLE_TIMEOUT } = options;

    store.set({
      status,
      chosenStatus: chosen,
      reason: changed ? (reason ?? causeOfChange()) : previous.reason,
      isIdle: idleTimeout !== false && env.now() - lastInputAt >= idleTimeout,
      isHidden: group.hiddenSince() !== null,
      lastActiveAt: lastInputAt,
    });
    sync?.want(status);
    if (changed) runCallback(options.onStatusChange, status, store.get().reason);
  }

  /** Compares the deadlines with the wall clock, arms one timer for the next, and publishes. */
  function checkDeadlines(reason?: PresenceReason) {
    if (!group.isLeader) return;

    const { idleTimeout = DEFAULT_IDLE_TIMEOUT, hiddenTimeout = DEFAULT_HIDDEN_TIMEOUT } = options;
    const now = env.now();
    // After the clock moved back, times ahead of it would postpone the deadlines by the jump.
    lastInputAt = Math.min(lastInputAt, now);
    awaySince = Math.min(awaySince, now);
    const check = checkAway({ now, lastInputAt, hiddenSince: group.hiddenSince(), idleTimeout, hiddenTimeout });

    // Input can arrive while a rule still holds, such as a `focus` that Chromium fires just before
    // the `visibilitychange` that shows the page. That input ends the away once the rule is over.
    if (autoAway && !check.reason && lastInputAt >= awaySince) autoAway = null;
    if (!autoAway && check.reason) {
      autoAway = check.reason;
      awaySince = now;
    }

    clearTimeout(checkTimer);
    nextCheckAt = check.nextCheckAt;
    if (nextCheckAt !== Infinity) checkTimer = setTimeout(checkDeadlines, Math.min(nextCheckAt - now, MAX_DELAY));
    publish(reason);
  }

  // The activity hot path: it stores a timestamp and returns, unless a deadline has passed
  // (after a sleep, away is sent before this input ends it) or the input ends an away.
  function registerInput(at: number) {
    if (at >= nextCheckAt) checkDeadlines();
    lastInputAt = Math.max(lastInputAt, at);
    if (autoAway && group.isLeader) {
      autoAway = null;
      checkDeadlines();
    }
  }

  function handleInput() {
    const now = env.now();
    // Input from this tab happens now, even when a stored time is ahead after the clock moved back.
    lastInputAt = Math.min(lastInputAt, now);
    registerInput(now);

    // Every tab shares its input, so that a follower taking over has the time of the last input.
    // During an automatic away a follower shares at once, because the input ends it.
    const state = store.get();
    group.shareInput(now, state.status === 'away' && state.chosenStatus === 'online');
  }

  // --- tabs ------------------------------------------------------------------------------------

  function applyLeaderState(leader: LeaderState) {
    const { state } = leader;
    // A state from before the leader heard this tab's choice is dropped, unless the leader's
    // choice is newer.
    if (unconfirmedChoice && state.chosenStatus !== unconfirmedChoice && leader.chosenAt < chosenAt) return;

    unconfirmedChoice = null;
    chosenAt = leader.chosenAt;
    // Another tab leads and keeps the server up to date, so a resend from this tab is not due.
    resendOnLead = false;
    chosen = state.chosenStatus;
    autoAway = state.reason === 'idle' || state.reason === 'hidden' ? state.reason : null;
    awaySince = env.now();
    const statusChanged = state.status !== store.get().status;

    // A copy of an error already shown keeps the same object, so that it causes no render.
    const isNewError = leader.failures !== failures;
    failures = leader.failures;
    failedStatus = leader.failedStatus;
    const error =
      state.error && (isNewError ? Object.assign(new Error(state.error.message), state.error) : store.get().error);
    store.set({ ...state, error });
    // Every tab reports its status changes. Errors go to onError in the leader only, so that
    // an app showing them does not show each one once per tab.
    if (statusChanged) runCallback(options.onStatusChange, state.status, state.reason);
  }

  function becomeLeader() {
    // A choice the old leader never confirmed is this tab's own chosen status now.
    unconfirmedChoice = null;
    sync = createSync({
      acked: store.get().syncedStatus,
      send: sendStatus,
      onChange: store.set,
      onError: reportError,
      isOnline: () => env.navigator.onLine !== false,
      heartbeatInterval: () => options.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL,
      now: env.now,
      random: env.random,
    });
    checkDeadlines();
    if (resendOnLead) sync.want(store.get().status, true);
    resendOnLead = false;
    // A tab that takes over while the server has the status sends nothing now, so the heartbeat
    // starts here rather than after a send.
    sync.restartHeartbeat();
  }

  // --- server ----------------------------------------------------------------------------------

  function requestBody(status: PresenceStatus): unknown {
    if (!options.requestBody) return { status };
    try {
      return options.requestBody(status);
    } catch (cause) {
      throw new PresenceError(`requestBody threw for status "${status}", so no request was sent.`, { cause });
    }
  }

  function sendStatus(status: PresenceStatus, keepalive: boolean): Promise<void> {
    return transport.put(requestBody(status), keepalive);
  }

  function reportError(error: Error, status: PresenceStatus) {
    failures++;
    failedStatus = status;
    store.set({ error });
    runCallback(options.onError, error);
  }

  /** Stops this tab's engine as the page or the provider goes away, and sends `offline` from the last tab. */
  function signOff(reason: 'pagehide' | 'unmount', isLast: boolean) {
    hasLeft = true;
    const engine = sync;
    sync = null;
    // A request in flight may still change what the server has, so `offline` goes out after it.
    const { syncedStatus, isSyncing } = store.get();
    const sendOffline = isLast && (syncedStatus !== 'offline' || isSyncing);
    if (sendOffline) {
      store.set({ status: 'offline', reason });
      runCallback(options.onStatusChange, 'offline', reason);
    }

    // On unmount the page lives on, so the engine queues `offline` behind a request in flight.
    // On pagehide nothing can be awaited.
    if (sendOffline && reason === 'unmount' && engine) {
      engine.finish('offline');
      return;
    }
    engine?.stop();
    if (!sendOffline) return;

    try {
      if (reason === 'pagehide') transport.putOnExit(requestBody('offline'));
      else sendStatus('offline', true).catch((error) => reportError(error, 'offline'));
    } catch (error) {
      reportError(error as Error, 'offline');
    }
  }

  // --- browser events --------------------------------------------------------------------------

  function stopDeadlines() {
    clearTimeout(checkTimer);
    nextCheckAt = Infinity;
  }

  function handleVisibilityChange() {
    group.setHidden(env.document.visibilityState === 'hidden', env.now());
    handleWake();
  }

  function handleWake() {
    checkDeadlines();
    sync?.wake();
  }

  function handlePageHide(persisted: boolean) {
    stopDeadlines();
    if (!persisted) {
      signOff('pagehide', group.leave());
      return;
    }
    // The page may come back from the back/forward cache, which an open channel or a held lock
    // would prevent. Nothing is sent, so a server TTL covers a page that never returns.
    group.leave();
    sync?.stop();
    sync = null;
  }

  function handlePageShow(persisted: boolean) {
    if (!persisted) {
      handleWake();
      return;
    }
    // Back from the cache: join again, and whichever tab leads then sends the status at once.
    resendOnLead = true;
    group.setHidden(env.document.visibilityState === 'hidden', env.now());
    group.join(env, channelName);
    shareUnconfirmedChoice();
  }

  /** Sends a choice of this follower to the leader, which may not have heard it yet. */
  function shareUnconfirmedChoice() {
    if (unconfirmedChoice && !group.isLeader) group.shareChoice(unconfirmedChoice, chosenAt);
  }

  // --- lifecycle -------------------------------------------------------------------------------

  function teardown() {
    stopTimer = undefined;
    running = false;
    listeners?.removeAll();
    listeners = null;
    stopDeadlines();

    resendOnLead = false;
    const othersRunHere = countEngine(channelName, -1) > 0;
    const isLast = group.leave() && !othersRunHere;
    if (!hasLeft) signOff('unmount', isLast);
    for (const check of [...choiceChecks]) check();
  }

  /**
   * Settles when the server has the effective status that `status` leads to, or when another
   * choice replaces it. Rejects with the first error for that status, while retries go on.
   */
  function waitForSync(status: PresenceStatus): Promise<PresenceStatus> {
    const failuresBefore = failures;

    return new Promise((resolve, reject) => {
      const check = () => {
        const state = store.get();
        const superseded = state.chosenStatus !== status;
        const failed = failures !== failuresBefore && state.error && failedStatus === state.status;

        if (!superseded && failed) reject(state.error);
        else if (superseded || !state.isSyncing || !running) resolve(state.status);
        else return;

        unsubscribe();
        choiceChecks.delete(check);
      };
      const unsubscribe = store.subscribe(check);
      choiceChecks.add(check);
      check();
    });
  }

  return {
    getState: store.get,
    subscribe: store.subscribe,

    start() {
      if (stopTimer) {
        clearTimeout(stopTimer);
        stopTimer = undefined;
        return;
      }
      if (running) return;

      running = true;
      hasLeft = false;
      countEngine(channelName, 1);
      env = resolveEnvironment(options.environment);
      transport = createTransport({
        url: `${baseUrl}/api/ws/presence`,
        getOptions: () => options,
        defaultApi: kyDefault,
        fetch: env.fetch,
        now: env.now,
      });

      chosen = choiceWhileStopped ?? readChosenStatus(env.localStorage, storageKey);
      if (choiceWhileStopped) {
        writeChosenStatus(env.localStorage, storageKey, choiceWhileStopped);
        unconfirmedChoice = choiceWhileStopped;
      }
      choiceWhileStopped = null;
      lastInputAt = env.now();
      autoAway = null;
      store.set({ chosenStatus: chosen, lastActiveAt: lastInputAt });

      listeners = addPageListeners(env, options.activityEvents ?? DEFAULT_ACTIVITY_EVENTS, {
        onInput: handleInput,
        onWake: handleWake,
        onVisibilityChange: handleVisibilityChange,
        onPageShow: handlePageShow,
        onPageHide: handlePageHide,
      });
      group.setHidden(env.document.visibilityState === 'hidden', lastInputAt);
      group.join(env, channelName);
      shareUnconfirmedChoice();
    },

    stop() {
      // StrictMode runs cleanup and effect again in one commit, so the stop waits one task.
      if (running && !stopTimer) stopTimer = setTimeout(teardown, 0);
    },

    choose(status) {
      assertStatus(status);
      chosen = status;
      // Date.now rather than the environment clock, which is only resolved on start.
      chosenAt = running ? env.now() : Date.now();
      if (!running) {
        choiceWhileStopped = status;
        const changed = store.get().status !== status;
        store.set({ chosenStatus: status, status, reason: 'manual' });
        if (changed) runCallback(options.onStatusChange, status, 'manual');
        return Promise.resolve(status);
      }

      writeChosenStatus(env.localStorage, storageKey, status);
      if (group.isLeader) {
        checkDeadlines('manual');
        sync?.retryFailed();
      } else {
        unconfirmedChoice = status;
        store.set({ chosenStatus: status, isSyncing: true });
        group.shareChoice(status, chosenAt);
      }
      return waitForSync(status);
    },

    reportActivity() {
      if (running) handleInput();
    },

    configure(next) {
      validateOptions(next);
      const previous = options;
      options = next;
      if (!running) return;

      const events = next.activityEvents ?? DEFAULT_ACTIVITY_EVENTS;
      if (events.join() !== (previous.activityEvents ?? DEFAULT_ACTIVITY_EVENTS).join()) {
        listeners?.setActivityEvents(events);
      }
      if (next.heartbeatInterval !== previous.heartbeatInterval) sync?.restartHeartbeat();
      if (next.idleTimeout !== previous.idleTimeout || next.hiddenTimeout !== previous.hiddenTimeout) {
        checkDeadlines();
      }
    },
  };
}
