import type { PresenceStatus } from '@minbil/react-presence';
import type { ExposedState, PageEvent } from '../page/exposed';
import type { Tab } from './chromium';
import { WAIT_TIMEOUT, waitFor } from './wait';

export type { ExposedState, PageEvent };

/** Reads the test page's current `usePresence()` state. */
export function readState(tab: Tab): Promise<ExposedState> {
  return tab.evaluate<ExposedState>('window.presenceState');
}

/** Waits until the page's state matches `accept`, and returns that state. */
export function waitForState(
  tab: Tab,
  description: string,
  accept: (state: ExposedState) => boolean,
  timeout = WAIT_TIMEOUT,
): Promise<ExposedState> {
  return waitFor(
    description,
    () => readState(tab),
    (state) => state !== undefined && accept(state),
    timeout,
  );
}

/** Waits until the page reports that the server acknowledged `status`, and returns the state. */
export function waitForSynced(tab: Tab, status: PresenceStatus, timeout = WAIT_TIMEOUT): Promise<ExposedState> {
  return waitForState(tab, `the server to acknowledge ${status}`, (state) => state.syncedStatus === status, timeout);
}

/** Reads the text the page shows in the element that matches `selector`. */
export function readText(tab: Tab, selector: string): Promise<string | null> {
  return tab.evaluate<string | null>(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`);
}

/** Reads the browser events the page has logged since it loaded. */
export function readPageEvents(tab: Tab): Promise<PageEvent[]> {
  return tab.evaluate<PageEvent[]>('window.pageEvents');
}
