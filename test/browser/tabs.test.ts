import { describe, expect, test } from 'vitest';
import { type Tab, waitForPageReady } from './support/chromium';
import { readState, waitForSynced } from './support/page';
import { TEST_TOKEN } from './support/server';
import { setUpBrowserSession } from './support/session';

// Short enough that a switch which wrongly counted as "every tab hidden" would send away
// within the quiet period after it.
const HIDDEN_TIMEOUT = 1000;
const QUIET_AFTER_SWITCH = HIDDEN_TIMEOUT + 500;

const session = setUpBrowserSession();

/**
 * Opens the page in two tabs of the one profile, so they share BroadcastChannel and Web Locks.
 * The first tab takes the lock and is the leader. The second is in front.
 */
async function openTwoTabs(): Promise<{ leader: Tab; follower: Tab }> {
  const url = session.server.pageUrl({ hiddenTimeout: HIDDEN_TIMEOUT, idleTimeout: 60_000, heartbeatInterval: false });

  const leader = await session.chromium.openTab(url);
  await waitForPageReady(leader);
  await waitForSynced(leader, 'online');

  const follower = await session.chromium.openTab(url);
  await waitForPageReady(follower);
  await waitForSynced(follower, 'online');
  return { leader, follower };
}

describe('two tabs of one profile', () => {
  test('second tab sends nothing', async () => {
    const { leader, follower } = await openTwoTabs();

    expect(await session.server.waitForQuiet()).toEqual(['online']);
    expect(session.server.requests[0]?.authorization).toBe(`Bearer ${TEST_TOKEN}`);
    expect(await leader.sentStatuses()).toEqual(['online']);
    expect(await follower.sentStatuses()).toEqual([]);
    expect((await readState(follower)).status).toBe('online');
  });

  test('switching tabs stays online', async () => {
    const { leader, follower } = await openTwoTabs();

    await leader.activate();
    expect(await session.server.waitForQuiet(QUIET_AFTER_SWITCH)).toEqual(['online']);
    await follower.activate();
    expect(await session.server.waitForQuiet(QUIET_AFTER_SWITCH)).toEqual(['online']);

    for (const tab of [leader, follower]) {
      const state = await readState(tab);
      expect(state.status).toBe('online');
      expect(state.isHidden).toBe(false);
    }
    expect(await follower.sentStatuses()).toEqual([]);
    expect(leader.pageErrors).toEqual([]);
    expect(follower.pageErrors).toEqual([]);
  });

  test('leader closes first, last sends offline', async () => {
    const { leader, follower } = await openTwoTabs();

    // The second tab takes over the lock. The server already has online, so it sends nothing.
    await leader.close();
    expect(await session.server.waitForQuiet()).toEqual(['online']);
    expect((await readState(follower)).status).toBe('online');
    expect(await follower.sentStatuses()).toEqual([]);

    await follower.close();
    expect(await session.server.waitForRequestCount(2)).toEqual(['online', 'offline']);
    expect(await session.server.waitForQuiet()).toEqual(['online', 'offline']);
    expect(session.server.requests[1]?.authorization).toBe(`Bearer ${TEST_TOKEN}`);
  });

  test('follower closes first, last sends offline', async () => {
    const { leader, follower } = await openTwoTabs();

    await follower.close();
    expect(await session.server.waitForQuiet()).toEqual(['online']);
    expect((await readState(leader)).status).toBe('online');

    await leader.close();
    expect(await session.server.waitForRequestCount(2)).toEqual(['online', 'offline']);
    expect(await session.server.waitForQuiet()).toEqual(['online', 'offline']);
    expect(session.server.requests[1]?.authorization).toBe(`Bearer ${TEST_TOKEN}`);
  });
});
