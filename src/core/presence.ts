import kyDefault from 'ky';
import { checkAway } from './away';
import { resolveEnvironment } from './environment';
import { DEFAULT_ACTIVITY_EVENTS, DEFAULT_BASE_URL, validateOptions } from './options';
import { assertStatus, isStatus } from './statuses';
import { createStore } from './store';
import { createSync, type Sync } from './sync';
import { openTabs, type TabMessage, type Tabs } from './tabs';
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
  /** Replaces the options. A new `idleTimeout` or `hiddenTimeout` moves the deadlines at once. */
  configure(options: PresenceOptions): void;
}

const INPUT_FORWARD_INTERVAL = 1000;
const MAX_TIMER = 2_147_483_647;
const LISTENER_OPTIONS = { capture: true, passive: true };

export function createPresence(initialOptions: PresenceOptions): Presence {
  validateOptions(initialOptions);
  let options = initialOptions;
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const channelName = options.channelName ?? `react-presence:${baseUrl}`;
  const storageKey = `${channelName}:chosen`;

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
  let tabs: Tabs | null = null;
  let sync: Sync | null = null;
  let running = false;
  // Set once the tab has said goodbye (pagehide or unmount), so that it never does twice.
  let hasLeft = false;
  let isLeader = false;
  let stopTimer: ReturnType<typeof setTimeout> | undefined;
  let checkTimer: ReturnType<typeof setTimeout> | undefined;
  let cleanups: (() => void)[] = [];
  let warnedAboutCallback = false;
  // Status whose request produced the current error, or null when a follower or the token failed.
  let failedStatus: PresenceStatus | null = null;
  // A choice made while stopped, applied and stored on the next start.
  let choiceWhileStopped: PresenceStatus | null = null;

  const tabId = Math.random().toString(36).slice(2);
  // Visibility of the other open tabs: when each became hidden, or null while visible.
  const peers = new Map<string, number | null>();
  let ownHiddenSince: number | null = null;
  let lastInputAt = 0;
  let forwardedAt = 0;
  let nextCheckAt = Infinity;
  let autoAway: 'idle' | 'hidden' | null = null;
  // When the automatic away began. Input at or after this time ends it once no rule holds.
  let awaySince = 0;
  let chosen: PresenceStatus = 'online';
  // A status this tab chose that the leader has not confirmed yet.
  let unconfirmedChoice: PresenceStatus | null = null;

  // The leader shares its state with the other tabs once per microtask, so that they never see
  // a new status before the request for it has started.
  let statePostQueued = false;
  store.subscribe(() => {
    if (!isLeader || statePostQueued) return;
    statePostQueued = true;
    queueMicrotask(() => {
      statePostQueued = false;
      if (isLeader) tabs?.post({ type: 'state', state: store.get() });
    });
  });

  // --- callbacks -------------------------------------------------------------------------------

  function call<A extends unknown[]>(callback: ((...args: A) => void) | undefined, ...args: A) {
    try {
      callback?.(...args);
    } catch (error) {
      if (typeof process !== 'undefined' && process.env.NODE_ENV !== 'production' && !warnedAboutCallback) {
        warnedAboutCallback = true;
        console.error(
          '[react-presence] A callback prop threw. Later throws are not logged. Catch errors inside onError and onStatusChange.',
          error,
        );
      }
    }
  }

  function reportError(error: Error, status?: PresenceStatus) {
    failedStatus = status ?? null;
    store.set({ error });
    call(options.onError, error);
  }

  // --- status ----------------------------------------------------------------------------------

  function groupHiddenSince(): number | null {
    let since = ownHiddenSince;
    for (const peer of peers.values()) {
      if (since === null || peer === null) return null;
      since = Math.max(since, peer);
    }
    return since;
  }

  function effectiveStatus(): PresenceStatus {
    if (chosen !== 'online') return chosen;
    return autoAway ? 'away' : 'online';
  }

  function causeOfChange(): PresenceReason {
    if (chosen !== 'online') return 'manual';
    return autoAway ?? 'active';
  }

  /** Derives the effective status, stores it, and sends it when this tab is the leader. */
  function publish(reason?: PresenceReason) {
    const now = env.now();
    const status = effectiveStatus();
    const previous = store.get();
    const changed = status !== previous.status;
    const { idleTimeout = 300_000 } = options;

    store.set({
      status,
      chosenStatus: chosen,
      reason: changed ? (reason ?? causeOfChange()) : previous.reason,
      isIdle: idleTimeout !== false && now - lastInputAt >= idleTimeout,
      isHidden: groupHiddenSince() !== null,
      lastActiveAt: lastInputAt,
    });
    sync?.want(status);
    if (changed) call(options.onStatusChange, status, store.get().reason);
  }

  /** Re-checks the deadlines against the wall clock and arms one timer for the next one. */
  function evaluate(reason?: PresenceReason) {
    if (!isLeader) return;

    const { idleTimeout = 300_000, hiddenTimeout = 60_000 } = options;
    const now = env.now();
    const check = checkAway({ now, lastInputAt, hiddenSince: groupHiddenSince(), idleTimeout, hiddenTimeout });
    // Input can arrive while a rule still holds, such as a `focus` that Chromium fires just before
    // the `visibilitychange` that shows the page. That input ends the away once the rule is over.
    if (autoAway && !check.reason && lastInputAt >= awaySince) autoAway = null;
    if (!autoAway && check.reason) {
      autoAway = check.reason;
      awaySince = now;
    }

    clearTimeout(checkTimer);
    nextCheckAt = check.nextCheckAt;
    if (nextCheckAt !== Infinity) checkTimer = setTimeout(evaluate, Math.min(nextCheckAt - now, MAX_TIMER));
    publish(reason);
  }

  // The activity hot path: it stores a timestamp and returns, unless a deadline has passed
  // (after a sleep, away is sent before this input ends it) or the input ends an away.
  function registerInput(at: number) {
    if (at >= nextCheckAt) evaluate();
    lastInputAt = Math.max(lastInputAt, at);
    if (autoAway && isLeader) {
      autoAway = null;
      evaluate();
    }
  }

  function handleInput() {
    const now = env.now();
    registerInput(now);
    // Every tab shares its input, so that a follower taking over knows when the user was last active.
    if (!tabs) return;

    const state = store.get();
    if (now - forwardedAt >= INPUT_FORWARD_INTERVAL || state.isIdle || state.reason === 'hidden') {
      forwardedAt = now;
      tabs.post({ type: 'input', at: now });
    }
  }

  // --- tabs ------------------------------------------------------------------------------------

  function postOwnTab(ask?: boolean) {
    tabs?.post({ type: 'tab', id: tabId, hiddenSince: ownHiddenSince, ask });
  }

  function handleMessage(message: TabMessage) {
    switch (message.type) {
      case 'tab':
        peers.set(message.id, message.hiddenSince);
        if (message.ask) {
          postOwnTab();
          if (isLeader) tabs?.post({ type: 'state', state: store.get() });
        }
        evaluate();
        break;
      case 'bye':
        peers.delete(message.id);
        evaluate();
        break;
      case 'input':
        registerInput(message.at);
        break;
      case 'chosen':
        chosen = message.status;
        unconfirmedChoice = null;
        if (isLeader) {
          evaluate('manual');
          tabs?.post({ type: 'state', state: store.get() });
        }
        break;
      case 'state':
        if (isLeader || (unconfirmedChoice && message.state.chosenStatus !== unconfirmedChoice)) return;
        unconfirmedChoice = null;
        chosen = message.state.chosenStatus;
        autoAway = message.state.reason === 'idle' || message.state.reason === 'hidden' ? message.state.reason : null;
        awaySince = env.now();
        store.set(message.state);
        break;
    }
  }

  function becomeLeader(resend = false) {
    isLeader = true;
    sync = createSync({
      acked: store.get().syncedStatus,
      send: (status, keepalive) => transport.put(requestBody(status), keepalive),
      onChange: store.set,
      onError: reportError,
      isOnline: () => env.navigator.onLine !== false,
      heartbeatInterval: () => options.heartbeatInterval ?? 60_000,
      now: env.now,
      random: env.random,
    });
    evaluate();
    if (resend) sync.want(store.get().status, true);
  }

  function connect(resend = false) {
    tabs = openTabs(env, channelName, handleMessage, () => becomeLeader(resend));
    if (tabs) postOwnTab(true);
    else becomeLeader(resend);
  }

  /** Leaves the group of tabs. Returns true when no other tab is known to be open. */
  function disconnect(): boolean {
    // A tab that does not hold the lock cannot be the last: the holder is still open.
    const isLast = peers.size === 0 && (tabs === null || isLeader);
    tabs?.post({ type: 'bye', id: tabId });
    tabs?.close();
    tabs = null;
    peers.clear();
    isLeader = false;
    clearTimeout(checkTimer);
    nextCheckAt = Infinity;
    return isLast;
  }

  function requestBody(status: PresenceStatus) {
    return options.requestBody ? options.requestBody(status) : { status };
  }

  function leave(reason: 'pagehide' | 'unmount', isLast: boolean) {
    hasLeft = true;
    const engine = sync;
    sync = null;
    const sendOffline = isLast && store.get().syncedStatus !== 'offline';
    if (sendOffline) {
      store.set({ status: 'offline', reason });
      call(options.onStatusChange, 'offline', reason);
    }

    // On unmount the page lives on, so the engine waits for a request in flight and then sends
    // `offline` after it. On pagehide nothing can be awaited.
    if (sendOffline && reason === 'unmount' && engine) {
      engine.finish('offline');
      return;
    }
    engine?.stop();
    if (!sendOffline) return;

    if (reason === 'pagehide') transport.putOnExit(requestBody('offline'));
    else transport.put(requestBody('offline'), true).catch((error) => reportError(error, 'offline'));
  }

  // --- browser events --------------------------------------------------------------------------

  function handleVisibility() {
    const hidden = env.document.visibilityState === 'hidden';
    ownHiddenSince = hidden ? (ownHiddenSince ?? env.now()) : null;
    postOwnTab();
    evaluate();
    sync?.wake();
  }

  function handleWake() {
    evaluate();
    sync?.wake();
  }

  function handlePageHide(event: Event) {
    if ((event as PageTransitionEvent).persisted) {
      // The page may come back from the back/forward cache, which an open channel or a held
      // lock would prevent. Nothing is sent, so a server TTL covers a page that never returns.
      disconnect();
      sync?.stop();
      sync = null;
      return;
    }
    leave('pagehide', disconnect());
  }

  function handlePageShow(event: Event) {
    if ((event as PageTransitionEvent).persisted) connect(true);
    else handleWake();
  }

  function listen(target: EventTarget, type: string, handler: (event: Event) => void) {
    target.addEventListener(type, handler, LISTENER_OPTIONS);
    cleanups.push(() => target.removeEventListener(type, handler, LISTENER_OPTIONS));
  }

  function addListeners() {
    const { window, document } = env;
    for (const type of options.activityEvents ?? DEFAULT_ACTIVITY_EVENTS) listen(window, type, handleInput);
    for (const type of ['focus', 'online', 'offline']) listen(window, type, handleWake);
    listen(document, 'visibilitychange', handleVisibility);
    listen(window, 'pageshow', handlePageShow);
    listen(window, 'pagehide', handlePageHide);
  }

  // --- storage ---------------------------------------------------------------------------------

  function readChosen(): PresenceStatus {
    try {
      const stored = env.localStorage?.getItem(storageKey);
      return isStatus(stored) ? stored : 'online';
    } catch {
      return 'online';
    }
  }

  function writeChosen(status: PresenceStatus) {
    try {
      if (status === 'online') env.localStorage?.removeItem(storageKey);
      else env.localStorage?.setItem(storageKey, status);
    } catch {
      // Storage is full or blocked: the choice then lasts until the page reloads.
    }
  }

  // --- lifecycle -------------------------------------------------------------------------------

  function teardown() {
    stopTimer = undefined;
    running = false;
    for (const cleanup of cleanups) cleanup();
    cleanups = [];
    const isLast = disconnect();
    if (!hasLeft) leave('unmount', isLast);
  }

  /**
   * Settles when the server has the effective status that `status` leads to, or when another
   * choice replaces it. Rejects with the first error for that status, while retries go on.
   */
  function waitForSync(status: PresenceStatus): Promise<PresenceStatus> {
    const errorBefore = store.get().error;

    return new Promise((resolve, reject) => {
      const check = () => {
        const state = store.get();
        const superseded = state.chosenStatus !== status;
        const failed =
          state.error !== errorBefore && state.error && (failedStatus === null || failedStatus === state.status);

        if (!superseded && failed) {
          unsubscribe();
          reject(state.error);
        } else if (superseded || !state.isSyncing || !running) {
          unsubscribe();
          resolve(state.status);
        }
      };
      const unsubscribe = store.subscribe(check);
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
      env = resolveEnvironment(options.environment);
      transport = createTransport({
        url: `${baseUrl}/api/ws/presence`,
        getOptions: () => options,
        defaultApi: kyDefault,
        fetch: env.fetch,
        now: env.now,
      });
      chosen = choiceWhileStopped ?? readChosen();
      if (choiceWhileStopped) writeChosen(choiceWhileStopped);
      choiceWhileStopped = null;
      lastInputAt = env.now();
      ownHiddenSince = env.document.visibilityState === 'hidden' ? lastInputAt : null;
      autoAway = null;
      store.set({ chosenStatus: chosen, lastActiveAt: lastInputAt });

      addListeners();
      connect();
    },

    stop() {
      // StrictMode runs cleanup and effect again in one commit, so the stop waits one task.
      if (running && !stopTimer) stopTimer = setTimeout(teardown, 0);
    },

    choose(status) {
      assertStatus(status);
      chosen = status;
      if (!running) {
        choiceWhileStopped = status;
        store.set({ chosenStatus: status, status, reason: 'manual' });
        return Promise.resolve(status);
      }

      writeChosen(status);
      if (isLeader) {
        evaluate('manual');
      } else {
        unconfirmedChoice = status;
        store.set({ chosenStatus: status, isSyncing: true });
        tabs?.post({ type: 'chosen', status });
      }
      return waitForSync(status);
    },

    reportActivity() {
      if (running) handleInput();
    },

    configure(next) {
      validateOptions(next);
      const timingChanged = next.idleTimeout !== options.idleTimeout || next.hiddenTimeout !== options.hiddenTimeout;
      options = next;
      if (running && timingChanged) evaluate();
    },
  };
}
