import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, render } from '@testing-library/react';
import { HttpResponse } from 'msw';
import { useEffect } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  PresenceProvider,
  type PresenceProviderProps,
  type PresenceState,
  type PresenceStatus,
  usePresence,
  useSetPresence,
} from '../../src';
import { BASE_URL, mockPresence, PRESENCE_URL, type SeenRequest, statusesOf } from './server';
import { createBrowser, type SimulatedBrowser, type SimulatedTab, type TabOptions } from './tabs-harness';

const TOKEN = 'tab-secret-7f3a9c';
/** Idle timeout of the tests, in ms. It must exceed 1 s, because a follower forwards input at most once a second. */
const IDLE = 2000;

type SetPresence = ReturnType<typeof useSetPresence>;

interface MountedTab {
  readonly tab: SimulatedTab;
  /** What `usePresence()` returned in the latest render. */
  state(): PresenceState;
  /**
   * Calls `useSetPresence().mutateAsync(status)` and returns its promise, already marked as
   * handled so that a rejection before the test awaits it is not reported as unhandled.
   */
  choose(status: PresenceStatus): Promise<PresenceStatus>;
  /** Renders the provider again with these props merged over the ones it was mounted with. */
  rerenderWith(props: Partial<PresenceProviderProps>): void;
  unmount(): void;
}

function Probe({ onRender }: { onRender: (state: PresenceState, mutation: SetPresence) => void }) {
  const state = usePresence();
  const mutation = useSetPresence();
  useEffect(() => {
    onRender(state, mutation);
  });
  return null;
}

const mountedTabs: { unmount(): void; unmounted: boolean }[] = [];

/** Renders a PresenceProvider for `tab`, pointed at the mock server, with its own QueryClient. */
function mountOn(tab: SimulatedTab, props: Partial<PresenceProviderProps> = {}): MountedTab {
  let latest: { state: PresenceState; mutation: SetPresence } | undefined;
  const queryClient = new QueryClient({ defaultOptions: { mutations: { retry: false } } });
  const onRender = (state: PresenceState, mutation: SetPresence) => {
    latest = { state, mutation };
  };
  const tree = (providerProps: Partial<PresenceProviderProps>) => (
    <QueryClientProvider client={queryClient}>
      <PresenceProvider
        token={TOKEN}
        baseUrl={BASE_URL}
        heartbeatInterval={false}
        environment={tab.environment}
        {...providerProps}
      >
        <Probe onRender={onRender} />
      </PresenceProvider>
    </QueryClientProvider>
  );
  const result = render(tree(props));

  const entry = {
    unmounted: false,
    unmount() {
      if (entry.unmounted) return;
      entry.unmounted = true;
      result.unmount();
    },
  };
  mountedTabs.push(entry);

  const rendered = () => {
    if (!latest) throw new Error(`Tab ${tab.id} has not rendered its probe.`);
    return latest;
  };
  return {
    tab,
    state: () => rendered().state,
    choose(status) {
      let promise: Promise<PresenceStatus> | undefined;
      act(() => {
        promise = rendered().mutation.mutateAsync(status);
      });
      promise?.catch(() => {});
      return promise as Promise<PresenceStatus>;
    },
    rerenderWith(next) {
      result.rerender(tree({ ...props, ...next }));
    },
    unmount: entry.unmount,
  };
}

function mountTab(browser: SimulatedBrowser, props?: Partial<PresenceProviderProps>, options?: TabOptions): MountedTab {
  return mountOn(browser.createTab(options), props);
}

/** Mounts two tabs in one tick. The first one requests the lock first, so it becomes the leader. */
function mountLeaderAndFollower(
  browser: SimulatedBrowser,
  props?: Partial<PresenceProviderProps>,
  options?: TabOptions,
): [leader: MountedTab, follower: MountedTab] {
  return [mountTab(browser, props, options), mountTab(browser, props, options)];
}

/** Orders the pair so that the tab with `role` comes first. */
function pickFirst(role: string, leader: MountedTab, follower: MountedTab): [MountedTab, MountedTab] {
  return role === 'leader' ? [leader, follower] : [follower, leader];
}

const advance = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));

/** Closes a tab the way a browser closes a visible one: hidden, then pagehide that is not persisted, then unmount. */
async function closeTab(mounted: MountedTab) {
  act(() => {
    mounted.tab.setVisibility('hidden');
    mounted.tab.pageHide(false);
  });
  mounted.unmount();
  // The provider tears down one task after unmount.
  await advance(10);
}

const ok = () => HttpResponse.json({ success: true, message: 'Operation completed' });

/** Client ids of the tabs whose lock request is granted right now. */
const leaders = (browser: SimulatedBrowser) =>
  browser.locks.requests.filter((request) => request.outcome === 'granted').map((request) => request.clientId);

/** Status and Authorization header of each request, for tests where tokens tell the tabs apart. */
const statusesWithAuthorization = (seen: SeenRequest[]) =>
  seen.map((entry) => [(entry.body as { status: string }).status, entry.authorization]);

/** Serializes a value to JSON, including the name, message, stack and cause of every Error in it. */
function textOf(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item instanceof Error
      ? { ...item, name: item.name, message: item.message, stack: item.stack, cause: item.cause }
      : item,
  );
}

const heldResponses: (() => void)[] = [];

/**
 * Returns a promise that a mock handler can await, and the function that resolves it. afterEach
 * resolves it too, because the package sends one request at a time per URL, so a response held
 * by a failed test would block the requests of every later test.
 */
function holdResponse() {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  heldResponses.push(release);
  return { released, release };
}

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
});

afterEach(async () => {
  for (const release of heldResponses.splice(0)) release();
  for (const entry of mountedTabs.splice(0)) entry.unmount();
  await advance(100);
});

describe('tabs', () => {
  it('tabs opened in one tick elect one leader', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const tabs = [mountTab(browser), mountTab(browser), mountTab(browser)];

    await advance(500);

    expect(leaders(browser)).toHaveLength(1);
    expect(browser.locks.waitingCount).toBe(2);
    expect(statusesOf(seen)).toEqual(['online']);
    expect(seen[0]?.authorization).toBe(`Bearer ${TOKEN}`);
    for (const tab of tabs) {
      expect(tab.state().status).toBe('online');
      expect(tab.state().syncedStatus).toBe('online');
    }
  });

  it.each(['leader', 'follower'])('idle %s stays online with input elsewhere', async (idleRole) => {
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser, { idleTimeout: IDLE });
    const [idleTab, activeTab] = pickFirst(idleRole, leader, follower);
    await advance(100);

    for (let elapsed = 0; elapsed < 4 * IDLE; elapsed += 250) {
      activeTab.tab.input();
      await advance(250);
    }

    expect(statusesOf(seen)).toEqual(['online']);
    for (const tab of [idleTab, activeTab]) {
      expect(tab.state().status).toBe('online');
      expect(tab.state().isIdle).toBe(false);
    }
  });

  it.each(['follower', 'leader'])('closing the %s of two sends no offline', async (closingRole) => {
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser);
    const [closing, staying] = pickFirst(closingRole, leader, follower);
    await advance(100);

    await closeTab(closing);
    await advance(1000);

    expect(statusesOf(seen)).toEqual(['online']);
    expect(closing.tab.fetchCalls).toEqual([]);
    expect(staying.state().status).toBe('online');
    expect(staying.state().syncedStatus).toBe('online');
    expect(leaders(browser)).toEqual([staying.tab.id]);
  });

  it('takeover skips an acknowledged status', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser);
    await advance(100);
    expect(leaders(browser)).toEqual([leader.tab.id]);

    await closeTab(leader);
    await advance(990);

    expect(leaders(browser)).toEqual([follower.tab.id]);
    expect(statusesOf(seen)).toEqual(['online']);
    expect(follower.state().syncedStatus).toBe('online');

    // The new leader sends the next change itself.
    const chosen = follower.choose('away');
    await advance(200);
    await expect(chosen).resolves.toBe('away');
    expect(statusesOf(seen)).toEqual(['online', 'away']);
  });

  it('takeover sends an unacknowledged status', async () => {
    // The first `away` fails with 503. With random() = 1 the leader would retry after 1000 ms,
    // but it closes before that.
    const seen = mockPresence((_entry, index) => (index === 1 ? new HttpResponse(null, { status: 503 }) : ok()));
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser, {}, { environment: { random: () => 1 } });
    await advance(100);

    const chosen = follower.choose('away');
    await advance(100);
    expect(statusesOf(seen)).toEqual(['online', 'away']);
    expect(follower.state().syncedStatus).toBe('online');

    await closeTab(leader);
    await advance(990);

    expect(leaders(browser)).toEqual([follower.tab.id]);
    expect(statusesOf(seen)).toEqual(['online', 'away', 'away']);
    expect(follower.state().status).toBe('away');
    expect(follower.state().syncedStatus).toBe('away');

    // The closed leader's retry never runs.
    await advance(5000);
    expect(seen).toHaveLength(3);
    // A choice fails with the first failed request for it, while the retries go on.
    await expect(chosen).rejects.toThrow(`PUT ${PRESENCE_URL} failed with status 503`);
  });

  it("takeover keeps the leader's recent input", async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser, { idleTimeout: IDLE });
    await advance(100);

    // Only the leader's tab receives input, until past the follower's own idle deadline.
    for (let elapsed = 0; elapsed < 2 * IDLE; elapsed += 250) {
      leader.tab.input();
      await advance(250);
    }
    await closeTab(leader);
    await advance(500);

    expect(leaders(browser)).toEqual([follower.tab.id]);
    // The latest input is about 500 ms old, well within the idle timeout.
    expect(follower.state().status).toBe('online');
    expect(statusesOf(seen)).toEqual(['online']);

    await advance(IDLE);
    expect(follower.state()).toMatchObject({ status: 'away', reason: 'idle' });
    expect(statusesOf(seen)).toEqual(['online', 'away']);
  });

  it.each(['follower', 'leader'])('away chosen in the %s applies everywhere', async (chooserRole) => {
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser, { idleTimeout: IDLE });
    const [chooser, other] = pickFirst(chooserRole, leader, follower);
    await advance(100);

    const chosen = chooser.choose('away');
    await advance(200);

    await expect(chosen).resolves.toBe('away');
    expect(statusesOf(seen)).toEqual(['online', 'away']);
    expect(other.state()).toMatchObject({ status: 'away', chosenStatus: 'away', reason: 'manual' });

    for (let step = 0; step < 10; step++) {
      other.tab.input();
      other.tab.input('keydown');
      await advance(300);
    }

    expect(statusesOf(seen)).toEqual(['online', 'away']);
    for (const tab of [chooser, other]) {
      expect(tab.state().status).toBe('away');
      expect(tab.state().chosenStatus).toBe('away');
    }
  });

  it('follower choice resolves after acknowledgement', async () => {
    // The server holds the second request until the test releases it.
    const { released, release } = holdResponse();
    const seen = mockPresence(async (_entry, index) => {
      if (index === 1) await released;
      return ok();
    });
    const browser = createBrowser();
    const [, follower] = mountLeaderAndFollower(browser);
    await advance(100);

    let settled = false;
    const chosen = follower.choose('away');
    chosen.then(
      () => (settled = true),
      () => (settled = true),
    );
    await advance(500);

    expect(statusesOf(seen)).toEqual(['online', 'away']);
    expect(settled).toBe(false);
    expect(follower.state().syncedStatus).toBe('online');

    release();
    await advance(100);

    await expect(chosen).resolves.toBe('away');
    expect(follower.state().syncedStatus).toBe('away');
  });

  it('follower choice rejects with request error', async () => {
    const seen = mockPresence((_entry, index) => (index === 1 ? new HttpResponse(null, { status: 401 }) : ok()));
    const browser = createBrowser();
    const [, follower] = mountLeaderAndFollower(browser);
    await advance(100);

    const chosen = follower.choose('away');
    await advance(200);

    await expect(chosen).rejects.toThrow(`PUT ${PRESENCE_URL} failed with status 401`);
    expect(statusesOf(seen)).toEqual(['online', 'away']);
    expect(follower.state().error?.message).toBe(`PUT ${PRESENCE_URL} failed with status 401`);
    expect(follower.state().syncedStatus).toBe('online');
  });

  it('follower choice ignores an earlier error', async () => {
    const seen = mockPresence((_entry, index) => (index === 0 ? new HttpResponse(null, { status: 400 }) : ok()));
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser);
    await advance(100);
    expect(statusesOf(seen)).toEqual(['online']);
    expect(follower.state().error?.message).toBe(`PUT ${PRESENCE_URL} failed with status 400`);

    const chosen = follower.choose('away');
    await advance(200);

    await expect(chosen).resolves.toBe('away');
    expect(statusesOf(seen)).toEqual(['online', 'away']);
    for (const tab of [leader, follower]) {
      expect(tab.state().status).toBe('away');
      expect(tab.state().syncedStatus).toBe('away');
      expect(tab.state().error).toBeNull();
    }
  });

  it('follower choice settles after unmount', async () => {
    // The server delays its response to away, so the leader has sent no state for it when the
    // follower unmounts.
    const { released, release } = holdResponse();
    const seen = mockPresence(async (_entry, index) => {
      if (index === 1) await released;
      return ok();
    });
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser);
    await advance(100);

    let settled = false;
    const chosen = follower.choose('away');
    chosen.then(
      () => (settled = true),
      () => (settled = true),
    );
    follower.unmount();
    await advance(500);

    expect(statusesOf(seen)).toEqual(['online', 'away']);
    expect(settled).toBe(true);
    // The follower unmounts before it receives the leader's state, so the promise resolves with
    // the follower's last known status.
    await expect(chosen).resolves.toBe('online');

    release();
    await advance(100);
    expect(leader.state().status).toBe('away');
    expect(leader.state().syncedStatus).toBe('away');
  });

  it('input in a new tab ends idle away', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const first = mountTab(browser, { idleTimeout: IDLE });
    await advance(IDLE + 100);
    expect(statusesOf(seen)).toEqual(['online', 'away']);
    expect(first.state()).toMatchObject({ status: 'away', reason: 'idle' });

    const second = mountTab(browser, { idleTimeout: IDLE });
    await advance(100);
    second.tab.input();
    await advance(100);

    expect(statusesOf(seen)).toEqual(['online', 'away', 'online']);
    for (const tab of [first, second]) {
      expect(tab.state().status).toBe('online');
      expect(tab.state().isIdle).toBe(false);
    }
  });

  it('three tabs send one away and online per cycle', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const tabs = [1, 2, 3].map(() => mountTab(browser, { idleTimeout: IDLE }));
    const lastFollower = tabs[2] as MountedTab;
    await advance(100);

    for (const cycle of [1, 2]) {
      await advance(IDLE + 100);
      for (const tab of tabs) expect(tab.state()).toMatchObject({ status: 'away', reason: 'idle' });

      // First cycle: one follower receives input. Second cycle: every tab receives input in one tick,
      // and input continues for a while.
      const active = cycle === 1 ? [lastFollower] : tabs;
      for (let step = 0; step < 5; step++) {
        for (const tab of active) tab.tab.input();
        await advance(100);
      }
      for (const tab of tabs) expect(tab.state().status).toBe('online');
    }

    expect(statusesOf(seen)).toEqual(['online', 'away', 'online', 'away', 'online']);
  });

  it('50 remounts leave nothing open', async () => {
    mockPresence();
    const browser = createBrowser();
    const simulated = [browser.createTab(), browser.createTab()];

    for (let cycle = 0; cycle < 50; cycle++) {
      const tabs = simulated.map((tab) => mountOn(tab));
      if (cycle === 0) {
        expect(browser.channels.openCount).toBe(2);
        for (const tab of simulated) expect(tab.listenerCount()).toBeGreaterThan(0);
      }
      // Odd cycles unmount after the election, even ones in the tick of the mount.
      if (cycle % 2 === 1) await advance(50);
      for (const tab of tabs) tab.unmount();
      await advance(20);
    }
    await advance(1000);

    expect(browser.channels.openCount).toBe(0);
    expect(browser.locks.heldCount).toBe(0);
    expect(browser.locks.waitingCount).toBe(0);
    for (const tab of simulated) {
      expect(tab.window.listenerKeys()).toEqual([]);
      expect(tab.document.listenerKeys()).toEqual([]);
    }
  });

  it.each([
    ['in the tick of its mount', 0],
    ['after it heard the leader', 50],
  ])('unmount before the lock grant, %s', async (_when, delay) => {
    // setup.ts fails the test on any unhandled rejection.
    const seen = mockPresence();
    const browser = createBrowser();
    const leader = mountTab(browser);
    await advance(100);

    const waiting = mountTab(browser);
    if (delay > 0) await advance(delay);
    const request = browser.locks.requests.find((entry) => entry.clientId === waiting.tab.id);
    expect(request?.outcome).toBe('waiting');

    expect(() => waiting.unmount()).not.toThrow();
    await advance(100);

    expect(request?.outcome).toBe('aborted');
    expect(request?.reason).toMatchObject({ name: 'AbortError' });
    expect(browser.locks.waitingCount).toBe(0);
    expect(leaders(browser)).toEqual([leader.tab.id]);
    expect(browser.channels.openCount).toBe(1);
    expect(waiting.tab.listenerCount()).toBe(0);
    // The leader's tab is still open, so no tab sends offline.
    expect(statusesOf(seen)).toEqual(['online']);
    expect(leader.state().status).toBe('online');
  });

  it('tab messages never contain the token', async () => {
    // The second request gets a 401, so that an error travels between the tabs.
    const seen = mockPresence((_entry, index) => (index === 1 ? new HttpResponse(null, { status: 401 }) : ok()));
    const browser = createBrowser();
    const [, second, third] = [1, 2, 3].map(() => mountTab(browser, { idleTimeout: IDLE })) as [
      MountedTab,
      MountedTab,
      MountedTab,
    ];
    await advance(100);

    // Whether these choices resolve or reject is checked by other tests.
    const choices = [second.choose('away'), third.choose('online')];
    await advance(200);
    await Promise.allSettled(choices);
    await advance(IDLE + 100);
    second.tab.input();
    await advance(100);

    // The 401 ends the first away. Online is what the server already has, so it is not sent.
    expect(statusesOf(seen)).toEqual(['online', 'away', 'away', 'online']);
    for (const entry of seen) {
      expect(entry.authorization).toBe(`Bearer ${TOKEN}`);
      expect(textOf(entry.body)).not.toContain(TOKEN);
    }

    await closeTab(third);
    await advance(100);

    const types = new Set(browser.channels.posted.map((message) => (message.data as { type: string }).type));
    expect([...types].sort()).toEqual(['bye', 'chosen', 'input', 'state', 'tab']);
    const withError = browser.channels.posted.filter(
      (message) => (message.data as { state?: PresenceState }).state?.error,
    );
    expect(withError.length).toBeGreaterThan(0);

    for (const message of browser.channels.posted) expect(textOf(message.data)).not.toContain(TOKEN);
    expect(textOf([...browser.storage.entries])).not.toContain(TOKEN);
  });

  it('uncloneable token error reaches followers', async () => {
    // Structured cloning rejects an object with a function property.
    const uncloneable = { reason: 'session expired', retry() {} };
    let broken = true;
    const token = () => {
      if (broken) throw uncloneable;
      return TOKEN;
    };
    // An error thrown inside a queued microtask does not reach this test's assertions, so the spy
    // collects it.
    const microtaskErrors: unknown[] = [];
    const queueMicrotask = globalThis.queueMicrotask;
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((callback) =>
      queueMicrotask(() => {
        try {
          callback();
        } catch (error) {
          microtaskErrors.push(error);
        }
      }),
    );
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser, { token });
    await advance(100);

    expect(seen).toEqual([]);
    expect(leader.state().error?.name).toBe('PresenceTokenError');
    expect(follower.state().error?.name).toBe('PresenceTokenError');
    expect(follower.state().error?.message).toBe(leader.state().error?.message);

    broken = false;
    const chosen = leader.choose('away');
    await advance(200);

    await expect(chosen).resolves.toBe('away');
    expect(statusesOf(seen)).toEqual(['away']);
    expect(follower.state().status).toBe('away');
    expect(follower.state().chosenStatus).toBe('away');
    expect(follower.state().syncedStatus).toBe('away');
    expect(follower.state().error).toBeNull();
    expect(microtaskErrors).toEqual([]);
  });

  it('malformed and unknown tab messages are ignored', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const tabs = mountLeaderAndFollower(browser);
    const [leader, follower] = tabs;
    await advance(100);
    const before = tabs.map((tab) => tab.state());

    // Another script on the page, or another version of the package, posts on the same channel.
    const names = browser.channels.openNames();
    expect(names).toHaveLength(1);
    const foreign = new browser.channels.BroadcastChannel(names[0] as string);
    const malformed: unknown[] = [
      null,
      undefined,
      42,
      'state',
      [],
      {},
      { type: 'unknown' },
      { type: 'TAB', id: 'x', hiddenSince: null },
      { type: 'tab' },
      { type: 'tab', id: 7, hiddenSince: null },
      { type: 'tab', id: 'x', hiddenSince: 'yesterday' },
      { type: 'bye' },
      { type: 'bye', id: null },
      { type: 'input' },
      { type: 'input', at: 'now' },
      { type: 'input', at: Number.POSITIVE_INFINITY },
      { type: 'chosen' },
      { type: 'chosen', status: 'busy' },
      { type: 'chosen', status: 'away' },
      { type: 'chosen', status: 'away', at: 'now' },
      { type: 'state' },
      { type: 'state', state: null },
      { type: 'state', state: 'away' },
      { type: 'state', state: { status: 'busy', chosenStatus: 'online' } },
      { type: 'state', state: { status: 'away' } },
    ];
    for (const message of malformed) foreign.postMessage(message);
    await advance(1000);
    foreign.close();

    expect(statusesOf(seen)).toEqual(['online']);
    expect(tabs.map((tab) => tab.state())).toEqual(before);

    // The tabs still talk to each other afterwards.
    const chosen = follower.choose('away');
    await advance(200);
    await expect(chosen).resolves.toBe('away');
    expect(statusesOf(seen)).toEqual(['online', 'away']);
    expect(leader.state().status).toBe('away');
  });

  it('mistyped state message is ignored', async () => {
    mockPresence();
    const browser = createBrowser();
    const [, follower] = mountLeaderAndFollower(browser);
    await advance(100);
    const before = follower.state();

    const foreign = new browser.channels.BroadcastChannel(browser.channels.openNames()[0] as string);
    foreign.postMessage({
      type: 'state',
      state: {
        status: 'online',
        chosenStatus: 'online',
        reason: 'napping',
        syncedStatus: 'busy',
        error: 'boom',
        isIdle: 'no',
      },
    });
    await advance(100);
    foreign.close();

    expect(follower.state()).toEqual(before);
  });

  it.each([
    ['BroadcastChannel', { broadcastChannel: false }],
    ['Web Locks', { locks: false }],
  ])('without %s each tab sends its own requests', async (_missing, options: TabOptions) => {
    const seen = mockPresence();
    const browser = createBrowser();
    const first = mountTab(browser, { token: 'token-a' }, options);
    await advance(100);
    const second = mountTab(browser, { token: 'token-b' }, options);
    await advance(100);

    expect(statusesWithAuthorization(seen)).toEqual([
      ['online', 'Bearer token-a'],
      ['online', 'Bearer token-b'],
    ]);

    const chosen = first.choose('away');
    await advance(200);

    await expect(chosen).resolves.toBe('away');
    expect(statusesWithAuthorization(seen)).toEqual([
      ['online', 'Bearer token-a'],
      ['online', 'Bearer token-b'],
      ['away', 'Bearer token-a'],
    ]);
    expect(first.state()).toMatchObject({ status: 'away', syncedStatus: 'away' });
    expect(second.state()).toMatchObject({ status: 'online', syncedStatus: 'online' });
    expect(browser.channels.openCount).toBe(0);
    expect(browser.channels.posted).toEqual([]);
    expect(browser.locks.requests).toEqual([]);
  });

  it.each(['follower', 'leader'])('last tab after the %s sends offline once', async (firstRole) => {
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser);
    const [closedFirst, closedLast] = pickFirst(firstRole, leader, follower);
    await advance(100);

    await closeTab(closedFirst);
    await advance(1000);
    await closeTab(closedLast);
    await advance(1000);

    expect(statusesOf(seen)).toEqual(['online', 'offline']);
    expect(seen[1]?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(closedFirst.tab.fetchCalls).toEqual([]);
    expect(closedLast.tab.fetchCalls).toHaveLength(1);
    const call = closedLast.tab.fetchCalls[0];
    expect(call?.url).toBe(PRESENCE_URL);
    expect(call?.init).toMatchObject({ method: 'PUT', keepalive: true });
    expect(new Headers(call?.init?.headers).get('Authorization')).toBe(`Bearer ${TOKEN}`);
  });

  it('back/forward cache hands leadership over and back', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser);
    await advance(100);
    expect(browser.channels.openCount).toBe(2);

    // Entering the cache closes the channel and releases the lock, and sends nothing to the server.
    act(() => leader.tab.pageHide(true));
    await advance(100);
    expect(browser.channels.openCount).toBe(1);
    expect(leaders(browser)).toEqual([follower.tab.id]);
    expect(leader.tab.fetchCalls).toEqual([]);

    // Back from the cache, the tab joins again as a follower and the server keeps one online.
    act(() => leader.tab.pageShow(true));
    await advance(100);
    expect(browser.channels.openCount).toBe(2);
    expect(leaders(browser)).toEqual([follower.tab.id]);
    expect(statusesOf(seen)).toEqual(['online']);
    expect(leader.state().status).toBe('online');
    expect(leader.state().syncedStatus).toBe('online');

    act(() => leader.tab.input());
    await advance(100);
    expect(statusesOf(seen)).toEqual(['online']);
  });

  it('lock grant racing bfcache pagehide', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    // The lock manager grants the request at once and calls its callback in a microtask, so this
    // pagehide in the same task comes after the grant and before the callback runs.
    const cached = mountTab(browser);
    act(() => cached.tab.pageHide(true));
    await advance(1000);

    expect(seen).toEqual([]);
    expect(cached.tab.fetchCalls).toEqual([]);
    expect(browser.locks.heldCount).toBe(0);
    expect(browser.locks.waitingCount).toBe(0);
    expect(browser.channels.openCount).toBe(0);

    const next = mountTab(browser);
    await advance(100);

    expect(leaders(browser)).toEqual([next.tab.id]);
    expect(statusesOf(seen)).toEqual(['online']);
    expect(next.state().status).toBe('online');
    expect(next.state().syncedStatus).toBe('online');
  });

  it('follower throttles input during manual away', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser, { hiddenTimeout: 500 });
    await advance(100);

    act(() => {
      leader.tab.setVisibility('hidden');
      follower.tab.setVisibility('hidden');
    });
    await advance(600);
    expect(follower.state().status).toBe('away');
    expect(follower.state().reason).toBe('hidden');

    // Away chosen on top of the hidden away keeps the status, so the reason stays hidden.
    const chosen = leader.choose('away');
    await advance(100);
    await expect(chosen).resolves.toBe('away');
    act(() => follower.tab.setVisibility('visible'));
    await advance(100);
    expect(follower.state().chosenStatus).toBe('away');
    expect(follower.state().reason).toBe('hidden');

    const postedBefore = browser.channels.posted.length;
    for (let move = 0; move < 50; move++) {
      act(() => follower.tab.input('pointermove'));
      await advance(10);
    }

    const inputs = browser.channels.posted
      .slice(postedBefore)
      .filter((message) => (message.data as { type: string }).type === 'input');
    expect(inputs).toHaveLength(1);
    expect(statusesOf(seen)).toEqual(['online', 'away']);
    for (const tab of [leader, follower]) {
      expect(tab.state().status).toBe('away');
      expect(tab.state().chosenStatus).toBe('away');
    }
  });

  it('request count is the same for 1, 2 and 5 tabs', async () => {
    /** Mounts the tabs, chooses away and online, goes idle, comes back, closes every tab. */
    async function runSession(tabCount: number): Promise<string[]> {
      const seen = mockPresence();
      const browser = createBrowser();
      const tabs = Array.from({ length: tabCount }, () => mountTab(browser, { idleTimeout: IDLE }));
      await advance(100);

      const [first] = tabs as [MountedTab];
      const chooser = tabs.at(-1) as MountedTab;
      for (const status of ['away', 'online'] as const) {
        const chosen = chooser.choose(status);
        await advance(200);
        await expect(chosen).resolves.toBe(status);
      }
      await advance(IDLE + 100);
      first.tab.input();
      await advance(100);
      for (const tab of tabs) {
        await closeTab(tab);
        await advance(100);
      }
      return statusesOf(seen);
    }

    const sessions = new Map<number, string[]>();
    for (const tabCount of [1, 2, 5]) sessions.set(tabCount, await runSession(tabCount));

    const counts = [...sessions].map(([tabCount, statuses]) => [tabCount, statuses.length] as const);
    console.log(
      `Requests per session: ${counts.map(([tabCount, count]) => `${tabCount} tab(s): ${count}`).join(', ')}`,
      Object.fromEntries(sessions),
    );
    const oneTabCount = sessions.get(1)?.length;
    expect(sessions.get(2)?.length).toBe(oneTabCount);
    expect(sessions.get(5)?.length).toBe(oneTabCount);
    expect(sessions.get(1)).toEqual(['online', 'away', 'online', 'away', 'online', 'offline']);
  });
});

/**
 * Wraps a tab's lock manager so that each granted callback runs `ms` later, as in a busy browser.
 * A tab opened meanwhile then requests the state while no tab is the leader.
 */
function delayLockGrants(tab: SimulatedTab, browser: SimulatedBrowser, ms: number) {
  const locks = browser.locks.managerFor(tab.id);
  const request = (name: string, options: LockOptions, callback: LockGrantedCallback<unknown>) =>
    locks.request(name, options, async (lock) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return callback(lock);
    });
  tab.environment.navigator = { onLine: true, locks: { request } as Pick<LockManager, 'request'> };
}

describe('tab edge cases', () => {
  it('follower re-choice after 400 resends', async () => {
    // The first away gets a 400, which is not retried. The server delays its response to the
    // second away until the test releases it.
    const { released, release } = holdResponse();
    const seen = mockPresence(async (_entry, index) => {
      if (index === 1) return new HttpResponse(null, { status: 400 });
      if (index === 2) await released;
      return ok();
    });
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser);
    await advance(100);

    const first = follower.choose('away');
    await advance(200);
    await expect(first).rejects.toThrow(`PUT ${PRESENCE_URL} failed with status 400`);
    expect(statusesOf(seen)).toEqual(['online', 'away']);

    let settled = false;
    const second = follower.choose('away');
    second.then(
      () => (settled = true),
      () => (settled = true),
    );
    await advance(500);

    expect(statusesOf(seen)).toEqual(['online', 'away', 'away']);
    expect(settled).toBe(false);
    expect(follower.state().isSyncing).toBe(true);

    release();
    await advance(100);

    await expect(second).resolves.toBe('away');
    for (const tab of [leader, follower]) {
      expect(tab.state()).toMatchObject({ status: 'away', syncedStatus: 'away', isSyncing: false, error: null });
    }
  });

  it('back from cache, takeover sends nothing', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser);
    await advance(100);

    act(() => leader.tab.pageHide(true));
    await advance(100);
    act(() => leader.tab.pageShow(true));
    await advance(100);
    expect(leaders(browser)).toEqual([follower.tab.id]);

    // The tab that came back takes over, and the server already has online.
    await closeTab(follower);
    await advance(1000);

    expect(leaders(browser)).toEqual([leader.tab.id]);
    expect(statusesOf(seen)).toEqual(['online']);
    expect(leader.state()).toMatchObject({ status: 'online', syncedStatus: 'online', isSyncing: false });
  });

  it('follower reports status changes, not errors', async () => {
    // The server rejects away, so that one change comes with an error.
    const seen = mockPresence((entry) =>
      (entry.body as { status: string }).status === 'away' ? new HttpResponse(null, { status: 400 }) : ok(),
    );
    const browser = createBrowser();
    const leaderCallbacks = { onStatusChange: vi.fn(), onError: vi.fn() };
    const followerCallbacks = { onStatusChange: vi.fn(), onError: vi.fn() };
    const leader = mountTab(browser, leaderCallbacks);
    const follower = mountTab(browser, followerCallbacks);
    await advance(100);
    expect(leaders(browser)).toEqual([leader.tab.id]);

    const chosen = leader.choose('away');
    await advance(200);

    await expect(chosen).rejects.toThrow(`PUT ${PRESENCE_URL} failed with status 400`);
    expect(statusesOf(seen)).toEqual(['online', 'away']);
    expect(follower.state()).toMatchObject({ status: 'away', chosenStatus: 'away', reason: 'manual' });
    expect(follower.state().error?.message).toBe(`PUT ${PRESENCE_URL} failed with status 400`);
    expect(leaderCallbacks.onStatusChange).toHaveBeenCalledTimes(1);
    expect(leaderCallbacks.onStatusChange).toHaveBeenCalledWith('away', 'manual');
    expect(followerCallbacks.onStatusChange).toHaveBeenCalledTimes(1);
    expect(followerCallbacks.onStatusChange).toHaveBeenCalledWith('away', 'manual');
    expect(leaderCallbacks.onError).toHaveBeenCalledTimes(1);
    expect(followerCallbacks.onError).not.toHaveBeenCalled();
  });

  it('follower choice across bfcache settles', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser);
    await advance(100);

    let settled = false;
    const chosen = follower.choose('away');
    chosen.then(
      () => (settled = true),
      () => (settled = true),
    );
    // The mutation posts the choice a few microtasks later. The follower then enters the cache
    // before the leader's state arrives.
    await act(async () => {});
    expect(browser.channels.posted.at(-1)?.data).toMatchObject({ type: 'chosen', status: 'away' });
    act(() => follower.tab.pageHide(true));
    await advance(200);
    expect(statusesOf(seen)).toEqual(['online', 'away']);

    const leaderChoice = leader.choose('online');
    await advance(200);
    await expect(leaderChoice).resolves.toBe('online');
    expect(statusesOf(seen)).toEqual(['online', 'away', 'online']);

    act(() => follower.tab.pageShow(true));
    await advance(200);

    expect(settled).toBe(true);
    expect(follower.state().chosenStatus).toBe(leader.state().chosenStatus);
    expect(follower.state().status).toBe(leader.state().status);
    // Online, chosen in the leader after the follower's away, is the newest choice.
    expect(statusesOf(seen)).toEqual(['online', 'away', 'online']);
    for (const tab of [leader, follower]) {
      expect(tab.state()).toMatchObject({ status: 'online', chosenStatus: 'online', syncedStatus: 'online' });
    }
  });

  it('choice while disabled reaches the leader', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser);
    await advance(100);

    follower.rerenderWith({ enabled: false });
    await advance(100);
    // A stopped provider resolves a choice at once and applies it on the next start.
    await expect(follower.choose('away')).resolves.toBe('away');
    follower.rerenderWith({ enabled: true });
    await advance(200);

    expect(leaders(browser)).toEqual([leader.tab.id]);
    expect(statusesOf(seen)).toEqual(['online', 'away']);
    for (const tab of [leader, follower]) {
      expect(tab.state()).toMatchObject({ status: 'away', chosenStatus: 'away', syncedStatus: 'away' });
    }
  });

  it("stopped engine's late response is ignored", async () => {
    // The server delays its responses to the away of the stopping engine and to the away that the
    // new engine sends, each until the test releases it.
    const holds = [holdResponse(), holdResponse()];
    const seen = mockPresence(async (_entry, index) => {
      await holds[index - 1]?.released;
      return ok();
    });
    const browser = createBrowser();
    const leader = mountTab(browser);
    await advance(100);

    leader.choose('away');
    await advance(100);
    expect(statusesOf(seen)).toEqual(['online', 'away']);

    // Into the back/forward cache and straight back: the engine stops and a new one starts.
    act(() => {
      leader.tab.pageHide(true);
      leader.tab.pageShow(true);
    });
    await advance(100);

    let settled = false;
    const chosen = leader.choose('offline');
    chosen.then(
      () => (settled = true),
      () => (settled = true),
    );
    await advance(100);

    holds[0]?.release();
    await advance(100);
    expect(statusesOf(seen)).toEqual(['online', 'away', 'away']);
    expect(settled).toBe(false);
    expect(leader.state().isSyncing).toBe(true);

    holds[1]?.release();
    await advance(100);

    expect(statusesOf(seen)).toEqual(['online', 'away', 'away', 'offline']);
    await expect(chosen).resolves.toBe('offline');
    expect(leader.state()).toMatchObject({ status: 'offline', syncedStatus: 'offline', isSyncing: false });
  });

  it('tab opened during handover gets state', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const leader = mountTab(browser);
    const followerTab = browser.createTab();
    delayLockGrants(followerTab, browser, 5);
    const follower = mountOn(followerTab);
    await advance(100);
    const chosen = leader.choose('away');
    await advance(200);
    await expect(chosen).resolves.toBe('away');

    // The leader closes and a new tab opens in one task. The new tab's request for the state
    // reaches the follower before the follower holds the lock.
    act(() => {
      leader.tab.setVisibility('hidden');
      leader.tab.pageHide(false);
    });
    leader.unmount();
    const opened = mountTab(browser);
    await advance(100);

    expect(leaders(browser)).toEqual([follower.tab.id]);
    expect(statusesOf(seen)).toEqual(['online', 'away']);
    expect(opened.state()).toMatchObject({ status: 'away', chosenStatus: 'away', syncedStatus: 'away' });
  });
});

describe('simulated browser', () => {
  it('channel delivers clones later, not to sender', async () => {
    const browser = createBrowser();
    const sender = new browser.channels.BroadcastChannel('room');
    const receiver = new browser.channels.BroadcastChannel('room');
    const other = new browser.channels.BroadcastChannel('other-room');
    const received: [string, unknown][] = [];
    sender.onmessage = (event) => received.push(['sender', event.data]);
    receiver.onmessage = (event) => received.push(['receiver', event.data]);
    other.onmessage = (event) => received.push(['other', event.data]);

    const data = { type: 'input', at: 1 };
    sender.postMessage(data);
    expect(received).toEqual([]);
    await advance(0);

    expect(received).toEqual([['receiver', data]]);
    expect(received[0]?.[1]).not.toBe(data);
    for (const channel of [sender, receiver, other]) channel.close();
    expect(() => sender.postMessage(data)).toThrow('closed');
    expect(browser.channels.openCount).toBe(0);
  });

  it('locks grant in order and abort waiters', async () => {
    const browser = createBrowser();
    const first = browser.locks.managerFor('first');
    const second = browser.locks.managerFor('second');
    const third = browser.locks.managerFor('third');
    let releaseFirst = () => {};
    const order: string[] = [];

    const held = first.request('lock', () => {
      order.push('first');
      return new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
    });
    const abort = new AbortController();
    const aborted = second.request('lock', { signal: abort.signal }, () => order.push('second'));
    const granted = third.request('lock', () => order.push('third'));
    await advance(0);
    expect(browser.locks.holderOf('lock')).toBe('first');
    expect(browser.locks.waitingCount).toBe(2);

    abort.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    releaseFirst();
    await held;
    await granted;

    expect(order).toEqual(['first', 'third']);
    expect(browser.locks.heldCount).toBe(0);
    expect(browser.locks.waitingCount).toBe(0);
  });
});

describe('channel and heartbeat', () => {
  it('default channel name uses baseUrl', async () => {
    mockPresence();
    const browser = createBrowser();
    mountLeaderAndFollower(browser);
    await advance(100);

    const expected = `react-presence:${BASE_URL}`;
    expect(browser.channels.openNames()).toEqual([expected]);
    expect(new Set(browser.locks.requests.map((request) => request.name))).toEqual(new Set([expected]));

    const named = createBrowser();
    mountLeaderAndFollower(named, { channelName: 'team-9' });
    await advance(100);

    expect(named.channels.openNames()).toEqual(['team-9']);
    expect(new Set(named.locks.requests.map((request) => request.name))).toEqual(new Set(['team-9']));
  });

  it('only the leader sends heartbeats', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const props = { heartbeatInterval: 1000, idleTimeout: false } as const;
    const leader = mountTab(browser, { ...props, token: 'token-a' });
    mountTab(browser, { ...props, token: 'token-b' });
    await advance(3500);

    expect(leaders(browser)).toEqual([leader.tab.id]);
    expect(statusesWithAuthorization(seen)).toEqual(Array(4).fill(['online', 'Bearer token-a']));
  });

  it('new leader keeps the heartbeat', async () => {
    const seen = mockPresence();
    const browser = createBrowser();
    const props = { heartbeatInterval: 1000, idleTimeout: false } as const;
    const leader = mountTab(browser, { ...props, token: 'token-a' });
    const follower = mountTab(browser, { ...props, token: 'token-b' });
    await advance(100);

    await closeTab(leader);
    await advance(3500);

    expect(leaders(browser)).toEqual([follower.tab.id]);
    const fromNewLeader = statusesWithAuthorization(seen).filter(
      ([, authorization]) => authorization === 'Bearer token-b',
    );
    expect(fromNewLeader.length).toBeGreaterThanOrEqual(3);
  });

  it.each(['leader', 'follower'])('hidden %s alone keeps online', async (hiddenRole) => {
    const seen = mockPresence();
    const browser = createBrowser();
    const [leader, follower] = mountLeaderAndFollower(browser, { hiddenTimeout: 500, idleTimeout: false });
    const [hiddenFirst, hiddenLast] = pickFirst(hiddenRole, leader, follower);
    await advance(100);

    act(() => hiddenFirst.tab.setVisibility('hidden'));
    await advance(1500);

    expect(statusesOf(seen)).toEqual(['online']);
    for (const tab of [leader, follower]) expect(tab.state()).toMatchObject({ status: 'online', isHidden: false });

    act(() => hiddenLast.tab.setVisibility('hidden'));
    await advance(600);

    expect(statusesOf(seen)).toEqual(['online', 'away']);
    for (const tab of [leader, follower]) {
      expect(tab.state()).toMatchObject({ status: 'away', reason: 'hidden', isHidden: true });
    }
  });
});
