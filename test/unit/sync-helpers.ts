import { act } from '@testing-library/react';
import { HttpResponse, http } from 'msw';
import { createElement } from 'react';
import { vi } from 'vitest';
import { type PresenceState, type PresenceStatus, usePresence, useSetPresence } from '../../src';
import { type RenderOptions, renderWithPresence } from './render';
import { PRESENCE_URL, server } from './server';

/** A presence request as the mock server received it, with the fake clock's time of arrival. */
export interface ReceivedRequest {
  status: string;
  authorization: string | null;
  /** `Date.now()` when the handler started, in ms. */
  at: number;
}

export type PresenceReply = (request: ReceivedRequest, index: number) => Response | Promise<Response>;

export interface PresenceServer {
  /** Every request in order of arrival. */
  requests: ReceivedRequest[];
  /** Statuses of the received requests, in order. */
  statuses(): string[];
  /** Maximum number of requests that the handler was processing at once. */
  maxInFlight: number;
}

export const ok = (): Response => HttpResponse.json({ success: true, message: 'Operation completed' });

/**
 * Installs a handler for the presence endpoint that records each request and counts requests
 * in flight. `reply` may be async, for example to wait with msw's `delay`.
 */
export function recordPresence(reply: PresenceReply = ok): PresenceServer {
  let inFlight = 0;
  const log: PresenceServer = {
    requests: [],
    statuses: () => log.requests.map((request) => request.status),
    maxInFlight: 0,
  };

  server.use(
    http.put(PRESENCE_URL, async ({ request }) => {
      const at = Date.now();
      const text = await request.text();
      const received: ReceivedRequest = {
        status: text ? (JSON.parse(text) as { status: string }).status : '',
        authorization: request.headers.get('Authorization'),
        at,
      };
      log.requests.push(received);

      inFlight++;
      log.maxInFlight = Math.max(log.maxInFlight, inFlight);
      try {
        return await reply(received, log.requests.length - 1);
      } finally {
        inFlight--;
      }
    }),
  );
  return log;
}

type SetPresence = ReturnType<typeof useSetPresence>;

/** What the hooks returned in the latest render. */
export interface ProbeView {
  state: PresenceState;
  mutation: SetPresence;
}

function Probe({ view }: { view: Partial<ProbeView> }) {
  const state = usePresence();
  const mutation = useSetPresence();
  view.state = state;
  view.mutation = mutation;
  return null;
}

/** Renders a component that exposes `usePresence()` and `useSetPresence()` to the test. */
export function renderProbe(options: RenderOptions = {}) {
  const view: Partial<ProbeView> = {};
  const result = renderWithPresence(createElement(Probe, { view }), options);
  return {
    ...result,
    /** The latest `usePresence()` value. */
    state: () => view.state as PresenceState,
    /** The latest `useSetPresence()` value. */
    mutation: () => view.mutation as SetPresence,
    /**
     * Calls `mutateAsync(status)` inside `act`. The mutation's promise comes back wrapped in an
     * object, so that awaiting this call does not wait for the server.
     */
    choose: async (status: PresenceStatus): Promise<{ settled: Promise<PresenceStatus> }> => {
      let settled: Promise<PresenceStatus> = Promise.resolve(status);
      await act(async () => {
        settled = (view.mutation as SetPresence).mutateAsync(status);
        // The test reads the outcome from `settled`, so this catch only keeps a rejection from
        // counting as unhandled.
        settled.catch(() => {});
      });
      return { settled };
    },
  };
}

/** Moves the fake clock forward by `ms`, running timers and letting React render. */
export async function advance(ms: number): Promise<void> {
  await act(() => vi.advanceTimersByTimeAsync(ms));
}

/** Dispatches `event` on `target` inside `act`. */
export async function dispatch(target: EventTarget, event: Event): Promise<void> {
  await act(async () => {
    target.dispatchEvent(event);
  });
}

/**
 * Creates a deterministic source of numbers in [0, 1): a 32-bit linear congruential generator
 * with the Numerical Recipes constants. Two sources with one seed return the same sequence.
 */
export function seededRandom(seed: number): () => number {
  let value = seed >>> 0;
  return () => {
    value = (Math.imul(value, 1664525) + 1013904223) >>> 0;
    return value / 2 ** 32;
  };
}

/**
 * Creates a `pagehide` or `pageshow` event. happy-dom 21 defines `PageTransitionEvent` as plain
 * `Event`, which drops `persisted`, so the property is set here.
 */
export function pageTransition(type: 'pagehide' | 'pageshow', persisted: boolean): Event {
  const event = new Event(type);
  Object.defineProperty(event, 'persisted', { value: persisted });
  return event;
}

/** Returns true when no two neighbouring entries are equal. */
export function hasNoRepeats(values: readonly string[]): boolean {
  return values.every((value, index) => index === 0 || value !== values[index - 1]);
}
