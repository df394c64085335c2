import { describe, expect, test } from 'vitest';
import { type Tab, waitForPageReady } from './support/chromium';
import { type PageEvent, readPageEvents, readState, readText, waitForSynced } from './support/page';
import { TEST_TOKEN } from './support/server';
import { setUpBrowserSession } from './support/session';
import { waitFor } from './support/wait';

const HIDDEN_TIMEOUT = 1000;
const IDLE_TIMEOUT = 3000;
// Bound for the request that a tab switch sends at once. A longer wait would only slow a failure.
const SWITCH_TIMEOUT = 3000;

const session = setUpBrowserSession();

/** Waits until the page has logged every event in `types` after the first `skip`, and returns those events. */
async function waitForEvents(tab: Tab, skip: number, types: string[]): Promise<PageEvent[]> {
  const events = await waitFor(
    `${types.join(' and ')} in the page`,
    () => readPageEvents(tab),
    (all) => types.every((type) => all.slice(skip).some((event) => event.type === type)),
  );
  return events.slice(skip);
}

function logEvents(action: string, events: PageEvent[], startedAt: number) {
  const timeline = events.map(({ at, ...event }) => ({ ...event, afterMs: at - startedAt }));
  console.log(`Events the page saw after ${action}:`, JSON.stringify(timeline));
}

describe('visibility and idle in a real tab', () => {
  test('hidden, shown, idle, then moved', async () => {
    const page = await session.chromium.openTab(
      session.server.pageUrl({ hiddenTimeout: HIDDEN_TIMEOUT, idleTimeout: IDLE_TIMEOUT, heartbeatInterval: false }),
    );
    await waitForPageReady(page);
    await waitForSynced(page, 'online');
    expect(session.server.statuses()).toEqual(['online']);

    // Opening a second tab hides the first, as in a desktop browser.
    const loadEventCount = (await readPageEvents(page)).length;
    const hiddenAt = Date.now();
    await session.chromium.openTab('about:blank');
    const hideEvents = await waitForEvents(page, loadEventCount, ['visibilitychange']);
    logEvents('Target.createTarget of a second tab', hideEvents, hiddenAt);
    expect(await page.evaluate('document.visibilityState')).toBe('hidden');

    expect(await session.server.waitForRequestCount(2)).toEqual(['online', 'away']);
    const hiddenAway = session.server.requests[1];
    expect(hiddenAway?.receivedAt).toBeGreaterThanOrEqual(hiddenAt + HIDDEN_TIMEOUT);
    const hiddenState = await waitForSynced(page, 'away');
    expect(hiddenState.reason).toBe('hidden');
    expect(hiddenState.isHidden).toBe(true);

    // Becoming visible is not input, but the window `focus` that Chromium fires on a tab switch
    // is, so the switch ends the away.
    const hiddenEventCount = (await readPageEvents(page)).length;
    const activatedAt = Date.now();
    await page.activate();
    const switchEvents = await waitForEvents(page, hiddenEventCount, ['visibilitychange', 'focus']);
    logEvents('Target.activateTarget', switchEvents, activatedAt);
    // Chromium fires the two events in either order, so the failure message names the order seen.
    const eventOrder = switchEvents.map((event) => `${event.type} (${event.visibilityState})`).join(', then ');
    const afterSwitch = await session.server
      .waitForRequestCount(3, SWITCH_TIMEOUT)
      .catch(() => session.server.statuses());
    expect(afterSwitch, `statuses after a tab switch that fired ${eventOrder}`).toEqual(['online', 'away', 'online']);
    expect(await page.evaluate('document.visibilityState')).toBe('visible');
    const shownState = await waitForSynced(page, 'online');
    expect(shownState.reason).toBe('active');
    expect(shownState.isHidden).toBe(false);

    // No input for the idle timeout.
    expect(await session.server.waitForRequestCount(4, IDLE_TIMEOUT + 5000)).toEqual([
      'online',
      'away',
      'online',
      'away',
    ]);
    expect(session.server.requests[3]?.receivedAt).toBeGreaterThanOrEqual(activatedAt + IDLE_TIMEOUT);
    const idleState = await waitForSynced(page, 'away');
    expect(idleState.reason).toBe('idle');
    expect(idleState.isIdle).toBe(true);

    await page.moveMouse(20, 20);
    expect(await session.server.waitForRequestCount(5)).toEqual(['online', 'away', 'online', 'away', 'online']);
    const movedState = await waitForSynced(page, 'online');
    expect(movedState.reason).toBe('active');
    expect(movedState.isIdle).toBe(false);
    expect(await readText(page, '#status')).toBe('online');

    expect(await session.server.waitForQuiet()).toHaveLength(5);
    expect(session.server.requests.every((request) => request.authorization === `Bearer ${TEST_TOKEN}`)).toBe(true);
    expect(page.pageErrors).toEqual([]);
    expect((await readState(page)).error).toBeNull();
  });

  // The same idle steps without a tab switch, so they still run when the switch above fails.
  test('idle, then mouse move', async () => {
    const page = await session.chromium.openTab(
      session.server.pageUrl({ hiddenTimeout: HIDDEN_TIMEOUT, idleTimeout: IDLE_TIMEOUT, heartbeatInterval: false }),
    );
    const loadedAt = Date.now();
    await waitForPageReady(page);
    await waitForSynced(page, 'online');

    expect(await session.server.waitForRequestCount(2, IDLE_TIMEOUT + 5000)).toEqual(['online', 'away']);
    expect(session.server.requests[1]?.receivedAt).toBeGreaterThanOrEqual(loadedAt + IDLE_TIMEOUT);
    const idleState = await waitForSynced(page, 'away');
    expect(idleState.reason).toBe('idle');
    expect(idleState.isIdle).toBe(true);
    expect(idleState.isHidden).toBe(false);

    await page.moveMouse(20, 20);
    expect(await session.server.waitForRequestCount(3)).toEqual(['online', 'away', 'online']);
    const movedState = await waitForSynced(page, 'online');
    expect(movedState.reason).toBe('active');
    expect(movedState.isIdle).toBe(false);

    expect(await session.server.waitForQuiet()).toHaveLength(3);
    expect(session.server.requests.every((request) => request.authorization === `Bearer ${TEST_TOKEN}`)).toBe(true);
    expect(page.pageErrors).toEqual([]);
  });
});
