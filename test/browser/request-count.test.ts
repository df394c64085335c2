import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Chromium, type Tab, waitForPageReady } from './support/chromium';
import { waitForSynced } from './support/page';
import { PresenceServer } from './support/server';

// A measurement, not a check of timing: it prints how many requests one scripted session costs
// with 1, 2 and 5 tabs. The package aims for the same count whatever the number of tabs.

const TAB_COUNTS = [1, 2, 5];

interface SessionFigures {
  tabs: number;
  requests: number;
  statuses: (string | null)[];
  /** Requests each tab sent while it was open, as CDP saw them (the closing offline may be missing). */
  sentPerTab: number[];
}

let chromium: Chromium;

beforeAll(async () => {
  chromium = await Chromium.launch();
});

afterAll(async () => {
  await chromium?.close();
});

/**
 * Loads the page in `tabCount` tabs, clicks away then online in the front tab, and closes the
 * tabs in the order they opened, so the leader closes first and the lock changes hands.
 */
async function runSession(tabCount: number): Promise<SessionFigures> {
  const server = await PresenceServer.start();
  try {
    const url = server.pageUrl({ heartbeatInterval: false });
    const tabs: Tab[] = [];
    for (let index = 0; index < tabCount; index++) {
      const tab = await chromium.openTab(url);
      await waitForPageReady(tab);
      tabs.push(tab);
    }
    const front = tabs[tabs.length - 1] as Tab;
    await waitForSynced(front, 'online');

    await front.click('#set-away');
    await waitForSynced(front, 'away');
    await front.click('#set-online');
    await waitForSynced(front, 'online');

    const sentPerTab: number[] = [];
    for (const tab of tabs) {
      sentPerTab.push(tab.sentRequests.length);
      await tab.close();
    }
    await server.waitForRequestCount(1);
    const statuses = await server.waitForQuiet();
    return { tabs: tabCount, requests: statuses.length, statuses, sentPerTab };
  } finally {
    await chromium.closeTabs();
    await server.close();
  }
}

describe('requests per session', () => {
  test('1, 2 and 5 tabs', async () => {
    const figures: SessionFigures[] = [];
    for (const tabCount of TAB_COUNTS) figures.push(await runSession(tabCount));

    console.log(
      'Requests the server received for one session (load, away, online, close all tabs), heartbeat off:\n' +
        figures
          .map(
            ({ tabs, requests, statuses, sentPerTab }) =>
              `  ${tabs} tab(s): ${requests} requests ${JSON.stringify(statuses)}, sent per tab while open ${JSON.stringify(sentPerTab)}`,
          )
          .join('\n'),
    );

    // One leader speaks for every tab, so more tabs must not mean more requests.
    const [single, ...others] = figures;
    for (const figure of others) expect(figure.statuses).toEqual(single?.statuses);
  });
});
