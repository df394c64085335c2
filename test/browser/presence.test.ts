import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { Chromium, waitForPageReady } from './support/chromium';
import { readState, readText, waitForState, waitForSynced } from './support/page';
import { PresenceServer, TEST_TOKEN } from './support/server';

let chromium: Chromium;
let server: PresenceServer;

beforeAll(async () => {
  chromium = await Chromium.launch();
});

afterAll(async () => {
  await chromium?.close();
});

// A server per test gives each test its own origin, so no stored choice, BroadcastChannel or
// Web Locks lock carries over from the test before.
beforeEach(async () => {
  server = await PresenceServer.start();
});

afterEach(async () => {
  await chromium.closeTabs();
  await server.close();
});

describe('presence in one tab', () => {
  test('load sends one online', async () => {
    const tab = await chromium.openTab(server.pageUrl({ heartbeatInterval: false }));
    await waitForPageReady(tab);
    await waitForSynced(tab, 'online');

    // StrictMode mounts the provider twice, and the second mount must not send again.
    expect(await server.waitForQuiet()).toEqual(['online']);
    expect(server.requests[0]?.authorization).toBe(`Bearer ${TEST_TOKEN}`);
    expect(server.requests[0]?.responseStatus).toBe(200);
    expect(await readText(tab, '#status')).toBe('online');
    expect(await readText(tab, '#synced')).toBe('online');
    expect(tab.pageErrors).toEqual([]);
  });

  test('away button sends one away', async () => {
    const tab = await chromium.openTab(server.pageUrl({ heartbeatInterval: false }));
    await waitForPageReady(tab);
    await waitForSynced(tab, 'online');

    await tab.click('#set-away');
    await waitForSynced(tab, 'away');

    expect(await server.waitForQuiet()).toEqual(['online', 'away']);
    expect(server.requests.map((request) => request.authorization)).toEqual([
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
    const tab = await chromium.openTab(server.pageUrl({ token: 'wrong-token', heartbeatInterval: false }));
    await waitForPageReady(tab);
    const state = await waitForState(tab, 'the page to report an error', (current) => current.error !== null);

    // A string token cannot change, so the 401 is neither retried nor repeated.
    expect(await server.waitForQuiet()).toEqual(['online']);
    expect(server.requests[0]?.authorization).toBe('Bearer wrong-token');
    expect(server.requests[0]?.responseStatus).toBe(401);
    expect(state.error?.name).toBe('PresenceAuthError');
    expect(state.error?.isAuthError).toBe(true);
    expect(state.syncedStatus).toBeNull();
    expect(state.isSyncing).toBe(false);
    expect(await readText(tab, '#error')).toMatch(/^PresenceAuthError: PUT .* failed with status 401$/);
    expect(tab.pageErrors).toEqual([]);
  });
});
