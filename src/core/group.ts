import { type LeaderState, openTabs, type SharedState, type TabMessage, type Tabs } from './tabs';
import type { PresenceEnvironment, PresenceState, PresenceStatus } from './types';

const INPUT_FORWARD_INTERVAL = 1000;

export type { LeaderState };

export interface TabGroupHandlers {
  /** Input seen by another tab, at its time. */
  onInput(at: number): void;
  /** A status chosen in another tab at time `at`. */
  onChosen(status: PresenceStatus, at: number): void;
  /** The leader's state, received by a follower. */
  onLeaderState(leader: LeaderState): void;
  /** A tab joined, left, or was shown or hidden. */
  onPeersChanged(): void;
  /** This tab became the leader, or works alone. */
  onLeader(): void;
  /** The state this tab shares when it is the leader. */
  leaderState(): LeaderState;
}

/** The tabs of one channel: who is open, who is hidden, and who leads. */
export interface TabGroup {
  readonly isLeader: boolean;
  /** Opens the channel and queues for the lock. Without BroadcastChannel or locks, leads alone. */
  join(environment: PresenceEnvironment, name: string): void;
  /** Says goodbye and closes the channel. Returns true when no other tab is known to be open. */
  leave(): boolean;
  /** Records and shares this tab's visibility. A tab already hidden keeps its earlier time. */
  setHidden(hidden: boolean, now: number): void;
  /** Time since which every tab is hidden, or null while one is visible. */
  hiddenSince(): number | null;
  /** Shares input with the other tabs, at most once a second unless `urgent`. */
  shareInput(at: number, urgent: boolean): void;
  shareChoice(status: PresenceStatus, at: number): void;
  /** Sends the leader state to the followers once, at the end of the current microtask. */
  shareLeaderState(): void;
}

/** Converts the state for structured cloning, which keeps no error class and can fail on `cause`. */
export function toSharedState(state: PresenceState): SharedState {
  const { error } = state;
  return { ...state, error: error && { name: error.name, message: error.message } };
}

export function createTabGroup(handlers: TabGroupHandlers): TabGroup {
  const id = Math.random().toString(36).slice(2);
  // Visibility of the other open tabs: when each became hidden, or null while visible.
  const peers = new Map<string, number | null>();
  let tabs: Tabs | null = null;
  let isLeader = false;
  let ownHiddenSince: number | null = null;
  let sharedInputAt = -Infinity;
  let leaderStateQueued = false;

  function postOwnTab(ask?: boolean) {
    tabs?.post({ type: 'tab', id, hiddenSince: ownHiddenSince, ask });
  }

  function postLeaderState() {
    tabs?.post({ type: 'state', ...handlers.leaderState() });
  }

  function becomeLeader() {
    isLeader = true;
    handlers.onLeader();
    // A tab that joined during the handover asked the old leader, which may not have replied.
    postLeaderState();
  }

  function handleMessage(message: TabMessage) {
    switch (message.type) {
      case 'tab':
        peers.set(message.id, message.hiddenSince);
        if (message.ask) {
          postOwnTab();
          if (isLeader) postLeaderState();
        }
        handlers.onPeersChanged();
        break;
      case 'bye':
        peers.delete(message.id);
        handlers.onPeersChanged();
        break;
      case 'input':
        handlers.onInput(message.at);
        break;
      case 'chosen':
        handlers.onChosen(message.status, message.at);
        // The follower that chose waits for the leader's state, even when nothing changed.
        if (isLeader) postLeaderState();
        break;
      case 'state':
        if (!isLeader) handlers.onLeaderState(message);
        break;
    }
  }

  return {
    get isLeader() {
      return isLeader;
    },
    join(environment, name) {
      tabs = openTabs(environment, name, handleMessage, becomeLeader);
      if (tabs) postOwnTab(true);
      else becomeLeader();
    },
    leave() {
      // A tab that does not hold the lock cannot be the last, because the holder is still open.
      // NOTE: tabs that close in the same moment (a whole window) each still count the others,
      // so none sends `offline`. The server's TTL covers that case.
      const isLast = peers.size === 0 && (tabs === null || isLeader);
      tabs?.post({ type: 'bye', id });
      tabs?.close();
      tabs = null;
      peers.clear();
      isLeader = false;
      ownHiddenSince = null;
      return isLast;
    },
    setHidden(hidden, now) {
      ownHiddenSince = hidden ? (ownHiddenSince ?? now) : null;
      postOwnTab();
    },
    hiddenSince() {
      let since = ownHiddenSince;
      for (const peer of peers.values()) {
        if (since === null || peer === null) return null;
        since = Math.max(since, peer);
      }
      return since;
    },
    shareInput(at, urgent) {
      if (!tabs || (!urgent && at - sharedInputAt < INPUT_FORWARD_INTERVAL)) return;
      sharedInputAt = at;
      tabs.post({ type: 'input', at });
    },
    shareChoice(status, at) {
      tabs?.post({ type: 'chosen', status, at });
    },
    shareLeaderState() {
      if (!isLeader || !tabs || leaderStateQueued) return;
      leaderStateQueued = true;
      queueMicrotask(() => {
        leaderStateQueued = false;
        if (isLeader) postLeaderState();
      });
    },
  };
}
