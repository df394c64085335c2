import { describe, expect, test } from 'vitest';
import { waitForPageReady } from './support/chromium';
import { readText, waitForSynced } from './support/page';
import { delayFirst, failTimes, TEST_TOKEN } from './support/server';
import { setUpBrowserSession } from './support/session';

const BEARER = `Bearer ${TEST_TOKEN}`;
const SLOW_RESPONSE_MS = 1000;

const session = setUpBrowserSession();

describe('syncing with the server', () => {
  test('tab close sends offline', async () => {
    const page = await session.chromium.openTab(session.server.pageUrl({ heartbeatInterval: false }));
    await waitForPageReady(page);
    await waitForSynced(page, 'online');

    // Closing the tab fires pagehide, and the package sends offline with a keepalive fetch.
    await page.close();

    expect(await session.server.waitForRequestCount(2)).toEqual(['online', 'offline']);
    expect(await session.server.waitForQuiet()).toEqual(['online', 'offline']);
    const offline = session.server.requests[1];
    expect(offline?.authorization).toBe(BEARER);
    expect(offline?.body).toEqual({ status: 'offline' });
    expect(offline?.responseStatus).toBe(200);
    expect(page.pageErrors).toEqual([]);
  });

  test('503 twice, then converges', async () => {
    session.server.replyWith(failTimes(2, 503));
    const page = await session.chromium.openTab(session.server.pageUrl({ heartbeatInterval: false }));
    await waitForPageReady(page);

    // Backoff waits up to 1 s, then up to 2 s, before the two retries.
    const state = await waitForSynced(page, 'online');

    expect(await session.server.waitForQuiet()).toEqual(['online', 'online', 'online']);
    expect(session.server.requests.map((request) => request.responseStatus)).toEqual([503, 503, 200]);
    expect(session.server.requests.map((request) => request.authorization)).toEqual([BEARER, BEARER, BEARER]);
    expect(state.status).toBe('online');
    expect(state.error).toBeNull();
    expect(state.isSyncing).toBe(false);
    expect(await readText(page, '#error')).toBe('none');
    expect(page.pageErrors).toEqual([]);
  });

  test('slow response, newest status wins', async () => {
    session.server.replyWith(delayFirst(SLOW_RESPONSE_MS));
    const page = await session.chromium.openTab(session.server.pageUrl({ heartbeatInterval: false }));
    await waitForPageReady(page);
    await session.server.waitForRequestCount(1);

    // Two choices while the first request waits for its response: away is queued, then replaced.
    await page.click('#set-away');
    await page.click('#set-offline');
    expect(session.server.requests[0]?.responseStatus, 'first response still pending after the clicks').toBeNull();

    const state = await waitForSynced(page, 'offline');

    expect(await session.server.waitForQuiet()).toEqual(['online', 'offline']);
    expect(session.server.requests.map((request) => request.authorization)).toEqual([BEARER, BEARER]);
    expect(session.server.requests.map((request) => request.responseStatus)).toEqual([200, 200]);
    expect(state.status).toBe('offline');
    expect(state.chosenStatus).toBe('offline');
    expect(await readText(page, '#status')).toBe('offline');
    expect(page.pageErrors).toEqual([]);
  });
});
