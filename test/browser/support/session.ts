import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { Chromium } from './chromium';
import { PresenceServer } from './server';

export interface BrowserSession {
  chromium: Chromium;
  server: PresenceServer;
}

/**
 * Registers hooks that launch one Chromium for the test file and start a new server for each
 * test. A server per test gives each test its own origin, so no stored choice, BroadcastChannel
 * or Web Locks lock carries over from the test before.
 */
export function setUpBrowserSession(): BrowserSession {
  const session = {} as BrowserSession;

  beforeAll(async () => {
    session.chromium = await Chromium.launch();
  });
  afterAll(async () => {
    await session.chromium?.close();
  });
  beforeEach(async () => {
    session.server = await PresenceServer.start();
  });
  afterEach(async () => {
    await session.chromium.closeTabs();
    await session.server.close();
  });

  return session;
}
