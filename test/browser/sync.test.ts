import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { Chromium, waitForPageReady } from './support/chromium';
import { readText, waitForSynced } from './support/page';
import { delayFirst, failTimes, PresenceServer, TEST_TOKEN } from './support/server';

const BEARER = `Bearer ${TEST_TOKEN}`;
const SLOW_RESPONSE_MS = 1000;

let chromium: Chromium;
let server: PresenceServer;

beforeAll(async () => {
  chromium = await Chromium.launch();
});

afterAll(async () => {
  await chromium?.close();
});

beforeEach(async () => {
  server = await PresenceServer.start();
});

afterEach(async () => {
  await chromium.closeTabs();
  await server.close();
});

describe('syncing with the server', () => {
  test('tab close sends offline', async () => {
    const page = await chromium.openTab(server.pageUrl({ heartbeatInterval: false }));
    await waitForPageReady(page);
    await waitForSynced(page, 'online');

    // Closing the tab fires pagehide, and the package sends offline with a keepalive fetch.
    await page.close();

    expect(await server.waitForRequestCount(2)).toEqual(['online', 'offline']);
    expect(await server.waitForQuiet()).toEqual(['online', 'offline']);
    const offline = server.requests[1];
    expect(offline?.authorization).toBe(BEARER);
    expect(offline?.body).toEqual({ status: 'offline' });
    expect(offline?.responseStatus).toBe(200);
    expect(page.pageErrors).toEqual([]);
  });

  test('503 twice, then converges', async () => {
    server.replyWith(failTimes(2, 503));
    const page = await chromium.openTab(server.pageUrl({ heartbeatInterval: false }));
    await waitForPageReady(page);

    // Backoff waits up to 1 s, then up to 2 s, before the two retries.
    const state = await waitForSynced(page, 'online');

    expect(await server.waitForQuiet()).toEqual(['online', 'online', 'online']);
    expect(server.requests.map((request) => request.responseStatus)).toEqual([503, 503, 200]);
    expect(server.requests.map((request) => request.authorization)).toEqual([BEARER, BEARER, BEARER]);
    expect(state.status).toBe('online');
    expect(state.error).toBeNull();
    expect(state.isSyncing).toBe(false);
    expect(await readText(page, '#error')).toBe('none');
    expect(page.pageErrors).toEqual([]);
  });

  test('slow response, newest status wins', async () => {
    server.replyWith(delayFirst(SLOW_RESPONSE_MS));
    const page = await chromium.openTab(server.pageUrl({ heartbeatInterval: false }));
    await waitForPageReady(page);
    await server.waitForRequestCount(1);

    // Two choices while the first request waits for its response: away is queued, then replaced.
    await page.click('#set-away');
    await page.click('#set-offline');
    expect(server.requests[0]?.responseStatus, 'first response still pending after the clicks').toBeNull();

    const state = await waitForSynced(page, 'offline');

    expect(await server.waitForQuiet()).toEqual(['online', 'offline']);
    expect(server.requests.map((request) => request.authorization)).toEqual([BEARER, BEARER]);
    expect(server.requests.map((request) => request.responseStatus)).toEqual([200, 200]);
    expect(state.status).toBe('offline');
    expect(state.chosenStatus).toBe('offline');
    expect(await readText(page, '#status')).toBe('offline');
    expect(page.pageErrors).toEqual([]);
  });
});
