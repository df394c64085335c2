import { describe, expect, test } from 'vitest';
import { waitForPageReady } from './support/chromium';
import { readState, readText, waitForState, waitForSynced } from './support/page';
import { TEST_TOKEN } from './support/server';
import { setUpBrowserSession } from './support/session';

const session = setUpBrowserSession();

describe('presence in one tab', () => {
  test('load sends one online', async () => {
    const tab = await session.chromium.openTab(session.server.pageUrl({ heartbeatInterval: false }));
    await waitForPageReady(tab);
    await waitForSynced(tab, 'online');

    // StrictMode mounts the provider twice, and the second mount must not send again.
    expect(await session.server.waitForQuiet()).toEqual(['online']);
    expect(session.server.requests[0]?.authorization).toBe(`Bearer ${TEST_TOKEN}`);
    expect(session.server.requests[0]?.responseStatus).toBe(200);
    expect(await readText(tab, '#status')).toBe('online');
    expect(await readText(tab, '#synced')).toBe('online');
    expect(tab.pageErrors).toEqual([]);
  });

  test('away button sends one away', async () => {
    const tab = await session.chromium.openTab(session.server.pageUrl({ heartbeatInterval: false }));
    await waitForPageReady(tab);
    await waitForSynced(tab, 'online');

    await tab.click('#set-away');
    await waitForSynced(tab, 'away');

    expect(await session.server.waitForQuiet()).toEqual(['online', 'away']);
    expect(session.server.requests.map((request) => request.authorization)).toEqual([
      `Bearer ${TEST_TOKEN}`,
      `Bearer ${TEST_TOKEN}`,
    ]);
    const state = await readState(tab);
    expect(state.status).toBe('away');
    expect(state.chosenStatus).toBe('away');
    expect(state.reason).toBe('manual');
    expect(await readText(tab, '#status')).toBe('away');
    expect(tab.pageErrors).toEqual([]);
  });

  test('wrong token shows PresenceAuthError', async () => {
    const tab = await session.chromium.openTab(
      session.server.pageUrl({ token: 'wrong-token', heartbeatInterval: false }),
    );
    await waitForPageReady(tab);
    const state = await waitForState(tab, 'the page to report an error', (current) => current.error !== null);

    // A string token cannot change, so the 401 is neither retried nor repeated.
    expect(await session.server.waitForQuiet()).toEqual(['online']);
    expect(session.server.requests[0]?.authorization).toBe('Bearer wrong-token');
    expect(session.server.requests[0]?.responseStatus).toBe(401);
    expect(state.error?.name).toBe('PresenceAuthError');
    expect(state.error?.isAuthError).toBe(true);
    expect(state.syncedStatus).toBeNull();
    expect(state.isSyncing).toBe(false);
    expect(await readText(tab, '#error')).toMatch(
      /^PresenceAuthError: PUT .* failed with status 401: Invalid or expired token$/,
    );
    expect(tab.pageErrors).toEqual([]);
  });
});
