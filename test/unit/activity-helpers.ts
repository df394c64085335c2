import { act } from '@testing-library/react';
import { createElement } from 'react';
import { expect, vi } from 'vitest';
import {
  type PresenceReason,
  type PresenceState,
  type PresenceStatus,
  type UseSetPresenceResult,
  usePresence,
  useReportActivity,
  useSetPresence,
} from '../../src';
import { type RenderOptions, renderWithPresence } from './render';
import { type SeenRequest, statusesOf } from './server';

/** A call of `onStatusChange`, with the fake clock's time of the call in ms. */
export interface Transition {
  status: PresenceStatus;
  reason: PresenceReason;
  at: number;
}

/** What one render of the probe component read from the hooks. */
interface ProbeValues {
  state: PresenceState;
  setPresence: UseSetPresenceResult;
  reportActivity: () => void;
}

function Probe({ onRender }: { onRender: (values: ProbeValues) => void }) {
  const state = usePresence();
  const setPresence = useSetPresence();
  const reportActivity = useReportActivity();
  onRender({ state, setPresence, reportActivity });
  return null;
}

export interface ActivityView {
  /** State of the latest render. */
  state(): PresenceState;
  setPresence(): UseSetPresenceResult;
  reportActivity(): void;
  /** Every `reportActivity` function the hook returned, one per render. */
  reportFunctions: (() => void)[];
  /** Calls of the default `onStatusChange` recorder. A test that passes its own gets none. */
  transitions: Transition[];
  rerenderWith(props: RenderOptions): void;
  /** Unmounts the provider and waits for the `offline` that unmounting sends. */
  unmount(): Promise<void>;
}

const mountedViews = new Set<ActivityView>();

/** Advances the fake clock by `ms` inside `act`, running the timers that fall due. */
export async function advance(ms: number): Promise<void> {
  await act(() => vi.advanceTimersByTimeAsync(ms));
}

// Fake time that `advanceTo` runs at once between two checks of the timer count, in ms.
const ADVANCE_STEP = 10_000;

/** Counts the calls of the global `setTimeout` until `restore` puts the previous one back. */
function countTimeouts() {
  const previous = globalThis.setTimeout;
  let count = 0;
  const counting = (...args: Parameters<typeof setTimeout>) => {
    count++;
    return previous(...args);
  };
  globalThis.setTimeout = counting as typeof setTimeout;
  return {
    count: () => count,
    restore: () => {
      globalThis.setTimeout = previous;
    },
  };
}

/**
 * Advances the fake clock to the wall-clock time `at` (ms since the epoch). The automatic advance
 * of `shouldAdvanceTime` is paused meanwhile, so the clock stops at `at` exactly, and assertions
 * written right after the `await` see that instant.
 *
 * A timer that re-arms itself for a time already past would keep the fake clock busy for seconds
 * of real time per fake minute, so this throws once more than `maxTimeouts` timeouts were set.
 */
export async function advanceTo(at: number, { maxTimeouts = 1000 } = {}): Promise<void> {
  const ms = at - Date.now();
  if (ms < 0) throw new Error(`advanceTo(${at}) is ${-ms} ms in the past. Call it earlier in the test.`);

  vi.setTimerTickMode('manual');
  const timeouts = countTimeouts();
  try {
    do {
      await advance(Math.min(ADVANCE_STEP, at - Date.now()));
      if (timeouts.count() > maxTimeouts) {
        throw new Error(
          `${timeouts.count()} timeouts were set while advancing ${ms} ms of fake time, more than ${maxTimeouts}. ` +
            'A timer probably re-arms itself for a time already past.',
        );
      }
    } while (Date.now() < at);
  } finally {
    timeouts.restore();
    vi.setTimerTickMode('interval', 20);
  }
}

/** Advances the fake clock 1 ms at a time until `done()` holds, for at most `maxSteps` steps. */
export async function advanceUntil(done: () => boolean, what: string, maxSteps = 500): Promise<void> {
  for (let step = 0; step < maxSteps; step++) {
    if (done()) return;
    await advance(1);
  }
  if (!done()) throw new Error(`Timed out after ${maxSteps} steps waiting until ${what}.`);
}

/** Waits until no presence request is in flight or pending. */
export async function settle(view: ActivityView): Promise<void> {
  await advance(1);
  await advanceUntil(() => !view.state().isSyncing, 'presence requests have settled');
}

/**
 * Renders a provider pointed at the mock server with a probe that records what the hooks return.
 * `seen` is the mock server's request list, used to wait for the `offline` sent on unmount.
 */
export function renderActivity(seen: SeenRequest[], props: RenderOptions = {}): ActivityView {
  let latest: ProbeValues | undefined;
  const reportFunctions: (() => void)[] = [];
  const transitions: Transition[] = [];
  const onRender = (values: ProbeValues) => {
    latest = values;
    reportFunctions.push(values.reportActivity);
  };

  const result = renderWithPresence(createElement(Probe, { onRender }), {
    onStatusChange: (status, reason) => transitions.push({ status, reason, at: Date.now() }),
    ...props,
  });
  const values = () => {
    if (!latest) throw new Error('The probe has not rendered yet.');
    return latest;
  };

  const view: ActivityView = {
    state: () => values().state,
    setPresence: () => values().setPresence,
    reportActivity: () => values().reportActivity(),
    reportFunctions,
    transitions,
    rerenderWith: result.rerenderWith,
    async unmount() {
      if (!mountedViews.delete(view)) return;

      const last = view.state();
      const countBefore = seen.length;
      result.unmount();
      // The provider stops one task after unmount, so that a StrictMode remount can cancel it.
      await advance(1);
      if (last.syncedStatus === 'offline' && !last.isSyncing) return;

      const offlineArrived = () => seen.length > countBefore && statusesOf(seen).at(-1) === 'offline';
      await advanceUntil(offlineArrived, 'the offline sent on unmount arrives');
    },
  };
  mountedViews.add(view);
  return view;
}

/**
 * Unmounts every view still mounted and waits for its `offline`, so that no request of one test
 * reaches the mock server of the next.
 */
export async function unmountAll(): Promise<void> {
  for (const view of [...mountedViews]) await view.unmount();
}

/** Sets `document.visibilityState` and dispatches `visibilitychange`, as a browser does. */
export function setVisibility(state: DocumentVisibilityState): void {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => state === 'hidden' });
  act(() => {
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  });
}

/** Removes the overrides of `setVisibility`, so the document is visible again. */
export function resetVisibility(): void {
  Reflect.deleteProperty(document, 'visibilityState');
  Reflect.deleteProperty(document, 'hidden');
}

interface Registration {
  target: string;
  type: string;
  listener: EventListenerOrEventListenerObject;
  capture: boolean;
}

export interface ListenerTracker {
  /** Listeners added since tracking began and not removed, as `target:type`, sorted. */
  active(): string[];
  /** `target:type` of every listener added since tracking began. */
  addedTypes(): Set<string>;
}

const captureOf = (options?: boolean | AddEventListenerOptions | EventListenerOptions) =>
  typeof options === 'boolean' ? options : Boolean(options?.capture);

/**
 * Records `addEventListener` and `removeEventListener` on `window` and `document`. Registrations
 * match by type, listener and capture flag, as in the DOM.
 */
export function trackListeners(): ListenerTracker {
  const active: Registration[] = [];
  const added = new Set<string>();
  const targets: [string, EventTarget][] = [
    ['window', window],
    ['document', document],
  ];

  for (const [name, target] of targets) {
    const add = target.addEventListener;
    const remove = target.removeEventListener;
    const matches = (entry: Registration, type: string, listener: unknown, capture: boolean) =>
      entry.target === name && entry.type === type && entry.listener === listener && entry.capture === capture;

    vi.spyOn(target, 'addEventListener').mockImplementation((type, listener, options) => {
      const capture = captureOf(options);
      if (listener && !active.some((entry) => matches(entry, type, listener, capture))) {
        active.push({ target: name, type, listener, capture });
        added.add(`${name}:${type}`);
      }
      add.call(target, type, listener, options);
    });
    vi.spyOn(target, 'removeEventListener').mockImplementation((type, listener, options) => {
      const index = active.findIndex((entry) => matches(entry, type, listener, captureOf(options)));
      if (index !== -1) active.splice(index, 1);
      remove.call(target, type, listener, options);
    });
  }

  return {
    active: () => active.map((entry) => `${entry.target}:${entry.type}`).sort(),
    addedTypes: () => added,
  };
}

/** Counts the occurrences of each value, so `['a', 'b', 'a']` gives `{ a: 2, b: 1 }`. */
export function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** Checks that the server saw exactly `expected`, in order. */
export function expectStatuses(seen: SeenRequest[], expected: PresenceStatus[]): void {
  expect(statusesOf(seen)).toEqual(expected);
}
