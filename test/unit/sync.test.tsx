import { inspect } from 'node:util';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render } from '@testing-library/react';
import { delay, HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  PresenceAuthError,
  type PresenceEnvironment,
  PresenceError,
  PresenceHttpError,
  PresenceNetworkError,
  PresenceProvider,
  type PresenceState,
  type PresenceStatus,
  type PresenceToken,
  PresenceTokenError,
  usePresence,
} from '../../src';
import { BASE_URL, PRESENCE_URL } from './server';
import {
  advance,
  dispatch,
  hasNoRepeats,
  ok,
  pageTransition,
  recordPresence,
  renderProbe,
  seededRandom,
} from './sync-helpers';

const START = new Date('2030-01-01T00:00:00Z');
const RETRY_BASE = 1000;
const RETRY_CAP = 30_000;
// The fake clock also moves with real time, in 20 ms steps, so a measured delay may be up to
// this many ms late.
const TOLERANCE = 50;

const reply = (status: number, headers?: Record<string, string>) => new HttpResponse(null, { status, headers });

/**
 * Builds an environment for one tab. The navigator has no `locks`, so the provider leads at once
 * and works alone. `random` is fixed so that retry delays are known.
 */
function oneTabEnvironment(overrides: Partial<PresenceEnvironment> = {}): Partial<PresenceEnvironment> {
  return { navigator: { onLine: true }, random: () => 0.5, ...overrides };
}

/**
 * Serializes `value` to JSON with every own property of each object in it, enumerable or not and
 * symbol-keyed too, so that an Error's cause and the internals of a Request or Headers appear.
 */
function ownPropertiesJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'object' || item === null) return item;
    if (seen.has(item)) return '[Circular]';
    seen.add(item);
    const keys = Reflect.ownKeys(item);
    return Object.fromEntries(keys.map((key) => [String(key), (item as Record<PropertyKey, unknown>)[key]]));
  });
}

/** Creates a 200 response whose JSON body starts but never ends. */
function endlessBody(): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"success":'));
    },
  });
  return new HttpResponse(stream, { status: 200, headers: { 'Content-Type': 'application/json' } });
}

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  vi.setSystemTime(START);
});

afterEach(async () => {
  // Unmounting here, while this test's handler is still installed, makes the `offline` that an
  // unmount sends reach this test's server and not the next test's.
  cleanup();
  await vi.advanceTimersByTimeAsync(5000);
});

describe('ordering', () => {
  it('sends one request at a time', async () => {
    const server = recordPresence(async () => {
      await delay(200);
      return ok();
    });
    const probe = renderProbe({ environment: oneTabEnvironment() });

    // The mount's online is in flight until 200 ms. Away is queued and replaced by offline.
    await advance(50);
    await probe.choose('away');
    await advance(50);
    await probe.choose('offline');
    // Offline is in flight from 200 to 400 ms. Away is queued and replaced by online.
    await advance(150);
    await probe.choose('away');
    await advance(50);
    await probe.choose('online');
    await advance(2000);

    expect(server.maxInFlight).toBe(1);
    expect(server.statuses()).toEqual(['online', 'offline', 'online']);
    expect(probe.state().status).toBe('online');
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().isSyncing).toBe(false);
    expect(probe.state().error).toBeNull();
  });

  it('late away response loses to online', async () => {
    const server = recordPresence(async (_, index) => {
      if (index === 1) await delay(300);
      return ok();
    });
    const probe = renderProbe({ environment: oneTabEnvironment() });
    await advance(50);
    expect(probe.state().syncedStatus).toBe('online');

    await probe.choose('away');
    const { settled: online } = await probe.choose('online');
    await advance(100);
    expect(probe.state().status).toBe('online');
    expect(probe.state().isSyncing).toBe(true);

    await advance(1000);
    const afterMount = server.statuses().slice(1);
    expect(afterMount.length).toBeLessThanOrEqual(2);
    expect(afterMount).toEqual(['away', 'online']);
    expect(server.maxInFlight).toBe(1);
    await expect(online).resolves.toBe('online');
    expect(probe.state().status).toBe('online');
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().isSyncing).toBe(false);
    expect(probe.state().error).toBeNull();
  });

  it('newer status replaces a queued one', async () => {
    const server = recordPresence(async (_, index) => {
      if (index === 0) await delay(300);
      return ok();
    });
    const probe = renderProbe({ environment: oneTabEnvironment() });

    await advance(50);
    await probe.choose('away');
    await advance(50);
    await probe.choose('offline');
    await advance(1000);

    expect(server.statuses()).toEqual(['online', 'offline']);
    expect(server.statuses()).not.toContain('away');
    expect(probe.state().status).toBe('offline');
    expect(probe.state().syncedStatus).toBe('offline');
    expect(probe.state().isSyncing).toBe(false);
    expect(probe.state().error).toBeNull();
  });

  it('never sends one status twice in a row', async () => {
    const server = recordPresence(async (request) => {
      if (request.status === 'away') await delay(300);
      return ok();
    });
    const probe = renderProbe({ environment: oneTabEnvironment(), idleTimeout: false });
    await advance(50);

    // Online is already on the server.
    await probe.choose('online');
    await advance(50);
    expect(server.statuses()).toEqual(['online']);

    // Away goes out once. While it is in flight, online and then away again are chosen.
    await probe.choose('away');
    await probe.choose('away');
    await advance(50);
    await probe.choose('online');
    await probe.choose('away');
    await advance(2000);

    expect(server.statuses()).toEqual(['online', 'away']);
    expect(hasNoRepeats(server.statuses())).toBe(true);
    expect(probe.state().status).toBe('away');
    expect(probe.state().syncedStatus).toBe('away');
    expect(probe.state().isSyncing).toBe(false);
  });
});

describe('retries', () => {
  const retryable: [string, number | null, () => Response | Promise<Response>][] = [
    ['network error', null, () => HttpResponse.error()],
    [
      'timeout',
      null,
      async () => {
        await delay(1000);
        return ok();
      },
    ],
    ...[408, 429, 500, 502, 503, 504].map((code): [string, number, () => Response] => [
      `status ${code}`,
      code,
      () => reply(code),
    ]),
  ];

  it.each(retryable)('retries after a %s', async (name, code, fail) => {
    const server = recordPresence((_, index) => (index === 0 ? fail() : ok()));
    const onError = vi.fn();
    const probe = renderProbe({ environment: oneTabEnvironment(), requestTimeout: 200, onError });

    // random 0.5 gives a first retry 500 ms after the failure, which a timeout reports at 200 ms.
    await advance(400);
    expect(server.statuses()).toEqual(['online']);
    expect(onError).toHaveBeenCalledTimes(1);
    const error = onError.mock.calls[0]?.[0] as Error;
    expect(probe.state().error).toBe(error);
    expect(probe.state().isSyncing).toBe(true);
    expect(probe.state().syncedStatus).toBeNull();
    if (code === null) {
      expect(error).toBeInstanceOf(PresenceNetworkError);
      if (name === 'timeout') expect(error.message).toContain('timed out after 200 ms');
    } else {
      expect(error).toBeInstanceOf(PresenceHttpError);
      expect((error as PresenceHttpError).status).toBe(code);
    }

    await advance(1000);
    expect(server.statuses()).toEqual(['online', 'online']);
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().isSyncing).toBe(false);
    expect(probe.state().error).toBeNull();
  });

  it.each([400, 403, 404, 409, 422])('does not retry status %i', async (code) => {
    const server = recordPresence(() => reply(code));
    const probe = renderProbe({ environment: oneTabEnvironment() });

    await advance(60_000);

    expect(server.statuses()).toEqual(['online']);
    const error = probe.state().error as PresenceHttpError;
    expect(error).toBeInstanceOf(PresenceHttpError);
    expect(error.status).toBe(code);
    expect(probe.state().syncedStatus).toBeNull();
    expect(probe.state().isSyncing).toBe(false);
  });

  it('re-chosen status after 400 resends', async () => {
    const server = recordPresence(async (request, index) => {
      if (request.status !== 'away') return ok();
      if (index === 1) return reply(400);
      await delay(300);
      return ok();
    });
    const probe = renderProbe({ environment: oneTabEnvironment(), idleTimeout: false });
    await advance(100);

    const { settled: first } = await probe.choose('away');
    await advance(100);
    await expect(first).rejects.toBeInstanceOf(PresenceHttpError);
    expect(server.statuses()).toEqual(['online', 'away']);

    // The server responds to the second away after 300 ms, and the choice waits for that response.
    let settled = false;
    const { settled: second } = await probe.choose('away');
    second.then(
      () => (settled = true),
      () => (settled = true),
    );
    await advance(100);
    expect(server.statuses()).toEqual(['online', 'away', 'away']);
    expect(settled).toBe(false);
    expect(probe.state().isSyncing).toBe(true);

    await advance(300);
    await expect(second).resolves.toBe('away');
    expect(probe.state().syncedStatus).toBe('away');
    expect(probe.state().isSyncing).toBe(false);
    expect(probe.state().error).toBeNull();
    expect(probe.mutation().status).toBe('success');
  });

  it('waits Retry-After seconds', async () => {
    const server = recordPresence((_, index) => (index === 0 ? reply(429, { 'Retry-After': '3' }) : ok()));
    // With random 0 a retry that ignored the header would go out at once.
    const probe = renderProbe({ environment: oneTabEnvironment({ random: () => 0 }) });

    await advance(2900);
    expect(server.statuses()).toEqual(['online']);
    expect(probe.state().isSyncing).toBe(true);

    await advance(200);
    expect(server.statuses()).toEqual(['online', 'online']);
    const waited = (server.requests[1]?.at ?? 0) - (server.requests[0]?.at ?? 0);
    expect(waited).toBeGreaterThanOrEqual(3000);
    expect(waited).toBeLessThan(3000 + TOLERANCE);
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().error).toBeNull();
  });

  it('waits until a Retry-After date', async () => {
    let retryAt = 0;
    const server = recordPresence((request, index) => {
      if (index > 0) return ok();
      // An HTTP date has whole seconds, so the time is rounded up to one.
      retryAt = Math.ceil((request.at + 5000) / 1000) * 1000;
      return reply(503, { 'Retry-After': new Date(retryAt).toUTCString() });
    });
    const probe = renderProbe({ environment: oneTabEnvironment({ random: () => 0 }) });

    await advance(4900);
    expect(server.statuses()).toEqual(['online']);

    await advance(300);
    expect(server.statuses()).toEqual(['online', 'online']);
    expect(server.requests[1]?.at).toBeGreaterThanOrEqual(retryAt);
    expect(server.requests[1]?.at).toBeLessThan(retryAt + TOLERANCE);
    expect(probe.state().syncedStatus).toBe('online');
  });

  it('newer status cancels an older retry', async () => {
    const server = recordPresence((request) => (request.status === 'away' ? reply(503) : ok()));
    const probe = renderProbe({ environment: oneTabEnvironment() });
    await advance(50);

    await probe.choose('away');
    await advance(100);
    expect(probe.state().error).toBeInstanceOf(PresenceHttpError);
    // The away retry would go out 500 ms after its failure. Offline must not wait for it.
    const offlineChosenAt = Date.now();
    await probe.choose('offline');
    await advance(60_000);

    expect(server.statuses()).toEqual(['online', 'away', 'offline']);
    expect(server.requests[2]?.at).toBeLessThan(offlineChosenAt + TOLERANCE);
    expect(probe.state().syncedStatus).toBe('offline');
    expect(probe.state().isSyncing).toBe(false);
    expect(probe.state().error).toBeNull();
  });

  it('failed older status delays no newer one', async () => {
    const server = recordPresence(async (request) => {
      if (request.status !== 'away') return ok();
      await delay(100);
      return reply(503);
    });
    const probe = renderProbe({ environment: oneTabEnvironment() });
    await advance(50);

    // Offline is chosen while away is in flight. Away then fails, which would mean a 500 ms
    // backoff if away were still the newest status.
    await probe.choose('away');
    await advance(50);
    await probe.choose('offline');
    await advance(2000);

    expect(server.statuses()).toEqual(['online', 'away', 'offline']);
    const awayFailedAt = (server.requests[1]?.at ?? 0) + 100;
    expect(server.requests[2]?.at).toBeLessThan(awayFailedAt + TOLERANCE);
    expect(probe.state().syncedStatus).toBe('offline');
    expect(probe.state().error).toBeNull();
  });

  it('503 twice then 200 with jittered delays', async () => {
    const seed = 3;
    const server = recordPresence((_, index) => (index < 2 ? reply(503) : ok()));
    const onError = vi.fn();
    const probe = renderProbe({ environment: oneTabEnvironment({ random: seededRandom(seed) }), onError });

    await advance(10_000);

    expect(server.statuses()).toEqual(['online', 'online', 'online']);
    expect(onError).toHaveBeenCalledTimes(2);
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().isSyncing).toBe(false);
    expect(probe.state().error).toBeNull();

    // Full jitter: attempt n waits random() * min(cap, base * 2^n).
    const replay = seededRandom(seed);
    const expected = [0, 1].map((attempt) => replay() * Math.min(RETRY_CAP, RETRY_BASE * 2 ** attempt));
    const times = server.requests.map((request) => request.at);
    const actual = [(times[1] ?? 0) - (times[0] ?? 0), (times[2] ?? 0) - (times[1] ?? 0)];
    for (const [attempt, delayMs] of actual.entries()) {
      const expectedDelay = expected[attempt] ?? 0;
      expect(delayMs).toBeGreaterThanOrEqual(Math.floor(expectedDelay));
      expect(delayMs).toBeLessThan(expectedDelay + TOLERANCE);
    }
    expect(actual[1]).toBeGreaterThan(actual[0] ?? 0);
  });

  it('endless response body times out', async () => {
    const server = recordPresence((_, index) => (index === 0 ? endlessBody() : ok()));
    const probe = renderProbe({ environment: oneTabEnvironment(), requestTimeout: 1000 });

    await advance(1100);
    expect(server.statuses()).toEqual(['online']);
    const error = probe.state().error;
    expect(error).toBeInstanceOf(PresenceNetworkError);
    expect(error?.message).toBe(`PUT ${PRESENCE_URL} timed out after 1000 ms reading the response`);
    expect(probe.state().syncedStatus).toBeNull();
    expect(probe.state().isSyncing).toBe(true);

    // random 0.5 sends the retry 500 ms after the timeout.
    await advance(1000);
    expect(server.statuses()).toEqual(['online', 'online']);
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().isSyncing).toBe(false);
    expect(probe.state().error).toBeNull();
  });

  it('backoff doubles up to the 30 s cap', async () => {
    const failures = 7;
    const server = recordPresence((_, index) => (index < failures ? reply(503) : ok()));
    const probe = renderProbe({ environment: oneTabEnvironment({ random: () => 0.999 }) });

    await advance(150_000);

    expect(server.statuses()).toHaveLength(failures + 1);
    expect(probe.state().syncedStatus).toBe('online');
    const times = server.requests.map((request) => request.at);
    for (let attempt = 0; attempt < failures; attempt++) {
      const expectedDelay = 0.999 * Math.min(RETRY_CAP, RETRY_BASE * 2 ** attempt);
      const delayMs = (times[attempt + 1] ?? 0) - (times[attempt] ?? 0);
      expect(delayMs, `delay before retry ${attempt + 1}`).toBeGreaterThanOrEqual(Math.floor(expectedDelay));
      expect(delayMs, `delay before retry ${attempt + 1}`).toBeLessThan(expectedDelay + TOLERANCE);
    }
  });
});

describe('tokens', () => {
  it('401 retries once with a new token', async () => {
    const tokens = ['expired', 'fresh'];
    const token = vi.fn(() => tokens.shift() ?? 'fresh');
    const server = recordPresence((request) => (request.authorization === 'Bearer fresh' ? ok() : reply(401)));
    const onError = vi.fn();
    const probe = renderProbe({ environment: oneTabEnvironment(), token, onError });

    await advance(1000);

    expect(server.statuses()).toEqual(['online', 'online']);
    expect(server.requests.map((request) => request.authorization)).toEqual(['Bearer expired', 'Bearer fresh']);
    expect(token).toHaveBeenCalledTimes(2);
    expect(onError).not.toHaveBeenCalled();
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().error).toBeNull();
  });

  it.each([
    ['a string token', (): PresenceToken => 'secret-token', 1],
    ['a function with one token', (): PresenceToken => vi.fn(() => 'same-token'), 1],
    [
      'a function with a new token each call',
      (): PresenceToken => {
        let calls = 0;
        return vi.fn(() => `token-${++calls}`);
      },
      2,
    ],
  ])('always 401 with %s', async (_, makeToken, requestsPerStatus) => {
    const server = recordPresence(() => reply(401));
    const token = makeToken();
    const onError = vi.fn();
    const probe = renderProbe({ environment: oneTabEnvironment(), token, onError, idleTimeout: false });

    await advance(1000);
    // A token function is called again after the 401, whether or not its token changes.
    if (typeof token === 'function') expect(token).toHaveBeenCalledTimes(2);
    expect(server.statuses()).toEqual(Array(requestsPerStatus).fill('online'));
    expect(probe.state().error).toBeInstanceOf(PresenceAuthError);
    expect(probe.state().syncedStatus).toBeNull();
    expect(probe.state().isSyncing).toBe(false);
    expect(onError).toHaveBeenCalledTimes(1);

    // Without a change or a heartbeat nothing more goes out.
    await advance(300_000);
    expect(server.statuses()).toHaveLength(requestsPerStatus);

    const { settled: offline } = await probe.choose('offline');
    await advance(1000);
    await expect(offline).rejects.toBeInstanceOf(PresenceAuthError);
    expect(server.statuses()).toEqual([
      ...Array(requestsPerStatus).fill('online'),
      ...Array(requestsPerStatus).fill('offline'),
    ]);
    expect(probe.mutation().error).toBeInstanceOf(PresenceAuthError);
    expect(probe.state().error).toBe(probe.mutation().error);
  });

  it('401 is tried again at the next heartbeat', async () => {
    let current = 'first';
    const accepted = new Set(['first']);
    const server = recordPresence((request) =>
      accepted.has(request.authorization?.replace('Bearer ', '') ?? '') ? ok() : reply(401),
    );
    const probe = renderProbe({
      environment: oneTabEnvironment(),
      token: () => current,
      heartbeatInterval: 30_000,
      idleTimeout: false,
    });
    await advance(50);
    expect(probe.state().syncedStatus).toBe('online');

    // The server revokes every token, and the token function cannot get a valid one yet.
    accepted.clear();
    current = 'revoked';
    await probe.choose('away');
    await advance(1000);
    expect(server.statuses()).toEqual(['online', 'away']);
    expect(probe.state().error).toBeInstanceOf(PresenceAuthError);

    // The heartbeat was armed by the online success at 0 ms and fires at 30 s.
    await advance(28_000);
    expect(server.statuses()).toEqual(['online', 'away']);
    await advance(1000);
    expect(server.statuses()).toEqual(['online', 'away', 'away']);
    expect(server.requests[2]?.authorization).toBe('Bearer revoked');

    // A later heartbeat, after the app got a valid token, brings the server to away.
    accepted.add('renewed');
    current = 'renewed';
    await advance(30_000);
    expect(server.statuses()).toEqual(['online', 'away', 'away', 'away']);
    expect(server.requests.at(-1)?.authorization).toBe('Bearer renewed');
    expect(probe.state().syncedStatus).toBe('away');
    expect(probe.state().error).toBeNull();
  });

  it('token that never settles times out', async () => {
    const server = recordPresence();
    const pendingToken = vi.fn(() => new Promise<string>(() => {}));
    const onError = vi.fn();
    const first = renderProbe({
      environment: oneTabEnvironment(),
      token: pendingToken,
      requestTimeout: 1000,
      onError,
    });

    await advance(1100);
    expect(server.requests).toHaveLength(0);
    expect(onError).toHaveBeenCalledTimes(1);
    const error = first.state().error;
    expect(error).toBeInstanceOf(PresenceNetworkError);
    expect(error?.message).toBe(`PUT ${PRESENCE_URL} timed out after 1000 ms waiting for the token`);
    expect(first.state().isSyncing).toBe(true);

    // random 0.5 retries 500 ms after the timeout, and the retry waits for the token again.
    await advance(500);
    expect(pendingToken).toHaveBeenCalledTimes(2);

    // A provider mounted next on the same baseUrl queues behind that retry, which times out too.
    first.unmount();
    const second = renderProbe({ environment: oneTabEnvironment() });
    await advance(3000);

    expect(server.statuses()).toEqual(['online']);
    expect(server.requests[0]?.authorization).toBe('Bearer secret-token');
    expect(second.state().syncedStatus).toBe('online');
    expect(second.state().isSyncing).toBe(false);
    expect(second.state().error).toBeNull();
  });

  it('timeout error contains no token', async () => {
    const token = 'timeout-secret-4b7e';
    const server = recordPresence(async () => {
      await delay(1000);
      return ok();
    });
    const probe = renderProbe({ environment: oneTabEnvironment(), token, requestTimeout: 200 });

    await advance(300);

    expect(server.requests[0]?.authorization).toBe(`Bearer ${token}`);
    const error = probe.state().error as PresenceNetworkError;
    expect(error).toBeInstanceOf(PresenceNetworkError);
    expect(error.message).toBe(`PUT ${PRESENCE_URL} timed out after 200 ms`);
    expect(error.cause).toBeInstanceOf(Error);
    expect(ownPropertiesJson(error)).not.toContain(token);
    // In happy-dom 21, the header values of a Request kept in the cause sit 6 levels below the
    // error, so depth 5 would not show them.
    expect(inspect(error, { depth: 8 })).not.toContain(token);
  });

  it.each([
    [
      'throws',
      (): string => {
        throw new Error('refresh failed');
      },
      'refresh failed',
    ],
    ['rejects', (): Promise<string> => Promise.reject(new Error('refresh failed')), 'refresh failed'],
    ['returns an empty string', (): string => '', null],
  ])('token function that %s sends nothing', async (_, brokenToken, causeMessage) => {
    let broken = true;
    const token = vi.fn(() => (broken ? brokenToken() : 'recovered'));
    const server = recordPresence();
    const onError = vi.fn();
    const probe = renderProbe({ environment: oneTabEnvironment(), token, onError });

    await advance(60_000);
    expect(server.requests).toHaveLength(0);
    expect(onError).toHaveBeenCalledTimes(1);
    const error = probe.state().error as PresenceTokenError;
    expect(error).toBeInstanceOf(PresenceTokenError);
    if (causeMessage) expect((error.cause as Error).message).toBe(causeMessage);
    expect(probe.state().syncedStatus).toBeNull();
    expect(probe.state().isSyncing).toBe(false);

    broken = false;
    await probe.choose('away');
    await advance(1000);
    expect(server.statuses()).toEqual(['away']);
    expect(server.requests[0]?.authorization).toBe('Bearer recovered');
    expect(probe.state().syncedStatus).toBe('away');
    expect(probe.state().error).toBeNull();
  });
});

describe('offline', () => {
  it('sends only the current status on online', async () => {
    const server = recordPresence();
    const navigator = { onLine: false };
    const random = vi.fn(() => 0.5);
    const probe = renderProbe({ environment: oneTabEnvironment({ navigator, random }), idleTimeout: false });

    await advance(60_000);
    await probe.choose('away');
    await advance(120_000);
    expect(server.requests).toHaveLength(0);
    expect(random).not.toHaveBeenCalled();
    expect(probe.state().status).toBe('away');
    expect(probe.state().syncedStatus).toBeNull();
    expect(probe.state().isSyncing).toBe(true);
    expect(probe.state().error).toBeNull();

    navigator.onLine = true;
    await dispatch(window, new Event('online'));
    await dispatch(window, new Event('online'));
    await advance(100);
    expect(server.statuses()).toEqual(['away']);

    // A later online event finds the server up to date.
    await dispatch(window, new Event('online'));
    await advance(100);
    expect(server.statuses()).toEqual(['away']);
    expect(probe.state().syncedStatus).toBe('away');
    expect(probe.state().isSyncing).toBe(false);
  });

  it('failure while offline spends no retry', async () => {
    const navigator = { onLine: true };
    const server = recordPresence((_, index) => {
      if (index === 0) {
        navigator.onLine = false;
        return HttpResponse.error();
      }
      return index === 1 ? reply(503) : ok();
    });
    const probe = renderProbe({ environment: oneTabEnvironment({ navigator, random: () => 0.5 }) });

    await advance(60_000);
    expect(server.statuses()).toEqual(['online']);
    expect(probe.state().error).toBeInstanceOf(PresenceNetworkError);

    navigator.onLine = true;
    await dispatch(window, new Event('online'));
    await advance(2000);

    expect(server.statuses()).toEqual(['online', 'online', 'online']);
    // The 503 is the first retried failure, so it waits 0.5 * 1 s, not 0.5 * 2 s.
    const waited = (server.requests[2]?.at ?? 0) - (server.requests[1]?.at ?? 0);
    expect(waited).toBeGreaterThanOrEqual(500);
    expect(waited).toBeLessThan(500 + TOLERANCE);
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().error).toBeNull();
  });

  it('online event cancels the backoff', async () => {
    const navigator = { onLine: true };
    let failing = true;
    const server = recordPresence(() => (failing ? HttpResponse.error() : ok()));
    const probe = renderProbe({ environment: oneTabEnvironment({ navigator, random: () => 0.999 }) });

    // The first retry goes out 999 ms after the first failure. The second waits 1998 ms more.
    await advance(1100);
    expect(server.statuses()).toEqual(['online', 'online']);
    expect(probe.state().error).toBeInstanceOf(PresenceNetworkError);
    expect(probe.state().isSyncing).toBe(true);

    failing = false;
    navigator.onLine = false;
    await dispatch(window, new Event('offline'));
    await advance(100);
    expect(server.statuses()).toHaveLength(2);

    navigator.onLine = true;
    const onlineAt = Date.now();
    await dispatch(window, new Event('online'));
    await advance(50);

    expect(server.statuses()).toEqual(['online', 'online', 'online']);
    expect((server.requests[2]?.at ?? Infinity) - onlineAt).toBeLessThan(TOLERANCE);
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().isSyncing).toBe(false);
    expect(probe.state().error).toBeNull();

    // The cancelled backoff sends nothing later.
    await advance(5000);
    expect(server.statuses()).toHaveLength(3);
  });
});

describe('heartbeat', () => {
  it('re-sends the current status', async () => {
    const server = recordPresence();
    const probe = renderProbe({ environment: oneTabEnvironment(), heartbeatInterval: 30_000, idleTimeout: false });

    await advance(29_900);
    expect(server.statuses()).toEqual(['online']);
    await advance(200);
    expect(server.statuses()).toEqual(['online', 'online']);

    await probe.choose('away');
    await advance(30_100);
    expect(server.statuses()).toEqual(['online', 'online', 'away', 'away']);
    // Each repeat is a heartbeat, one interval after the success before it.
    const times = server.requests.map((request) => request.at);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(30_000);
    expect((times[3] ?? 0) - (times[2] ?? 0)).toBeGreaterThanOrEqual(30_000);
    expect(probe.state().syncedStatus).toBe('away');
  });

  const wakeEvents: [string, () => Event][] = [
    ['pageshow', () => pageTransition('pageshow', false)],
    ['online', () => new Event('online')],
    ['focus', () => new FocusEvent('focus')],
  ];

  it.each(wakeEvents)('%s after a clock jump sends at once', async (_, makeEvent) => {
    const server = recordPresence();
    const probe = renderProbe({ environment: oneTabEnvironment(), heartbeatInterval: 60_000, idleTimeout: false });
    await advance(100);
    expect(server.statuses()).toEqual(['online']);

    // The machine slept: the wall clock moved, but no timer ran.
    vi.setSystemTime(Date.now() + 61_000);
    await dispatch(window, makeEvent());
    await advance(50);

    expect(server.statuses()).toEqual(['online', 'online']);
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().isSyncing).toBe(false);
  });

  it.each(wakeEvents)('%s within one interval sends nothing', async (_, makeEvent) => {
    const server = recordPresence();
    renderProbe({ environment: oneTabEnvironment(), heartbeatInterval: 60_000, idleTimeout: false });
    await advance(100);

    vi.setSystemTime(Date.now() + 30_000);
    await dispatch(window, makeEvent());
    await advance(50);

    expect(server.statuses()).toEqual(['online']);
  });

  it('heartbeatInterval set after mount applies', async () => {
    const server = recordPresence();
    const probe = renderProbe({ environment: oneTabEnvironment(), heartbeatInterval: false, idleTimeout: false });
    await advance(100);
    expect(server.statuses()).toEqual(['online']);

    const changedAt = Date.now();
    probe.rerenderWith({ heartbeatInterval: 1000 });
    await advance(2500);

    expect(server.statuses()).toEqual(['online', 'online', 'online']);
    const firstBeat = (server.requests[1]?.at ?? 0) - changedAt;
    expect(firstBeat).toBeGreaterThanOrEqual(1000);
    expect(firstBeat).toBeLessThan(1000 + TOLERANCE);
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().isSyncing).toBe(false);
  });

  it('heartbeatInterval false sends none', async () => {
    const server = recordPresence();
    const probe = renderProbe({ environment: oneTabEnvironment(), heartbeatInterval: false, idleTimeout: false });

    await advance(600_000);
    vi.setSystemTime(Date.now() + 600_000);
    await dispatch(window, pageTransition('pageshow', false));
    await dispatch(window, new Event('online'));
    await advance(100);

    expect(server.statuses()).toEqual(['online']);
    expect(probe.state().syncedStatus).toBe('online');
  });
});

// The same cases run for a tab alone and for a tab that coordinates with others through
// BroadcastChannel and Web Locks, which happy-dom and Node provide.
describe.each([
  ['one tab', oneTabEnvironment],
  ['with Web Locks', (overrides: Partial<PresenceEnvironment> = {}): Partial<PresenceEnvironment> => overrides],
])('leaving, %s', (_, environmentWith) => {
  const createExitFetch = () => vi.fn((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  it('pagehide sends offline with keepalive', async () => {
    const server = recordPresence();
    const keepaliveFetch = createExitFetch();
    const probe = renderProbe({ environment: environmentWith({ fetch: keepaliveFetch }) });
    await advance(100);

    await dispatch(window, pageTransition('pagehide', false));
    await advance(100);

    expect(keepaliveFetch).toHaveBeenCalledTimes(1);
    const [url, init] = keepaliveFetch.mock.calls[0] ?? [];
    expect(url).toBe(PRESENCE_URL);
    expect(init?.method).toBe('PUT');
    expect(init?.keepalive).toBe(true);
    expect(new Headers(init?.headers).get('Authorization')).toBe('Bearer secret-token');
    expect(JSON.parse(String(init?.body))).toEqual({ status: 'offline' });
    expect(server.statuses()).toEqual(['online', 'offline']);
    expect(probe.state().status).toBe('offline');
    expect(probe.state().reason).toBe('pagehide');

    // After pagehide the engine is stopped, so no heartbeat or retry follows.
    await advance(120_000);
    expect(server.statuses()).toEqual(['online', 'offline']);
  });

  it('pagehide calls a sync token function', async () => {
    let current = 'first';
    const server = recordPresence();
    const keepaliveFetch = createExitFetch();
    renderProbe({ environment: environmentWith({ fetch: keepaliveFetch }), token: () => current });
    await advance(100);

    current = 'second';
    await dispatch(window, pageTransition('pagehide', false));
    await advance(100);

    expect(server.requests.map((request) => request.authorization)).toEqual(['Bearer first', 'Bearer second']);
  });

  it('pagehide with an async token uses the last good one', async () => {
    let current = 'first';
    const server = recordPresence();
    const keepaliveFetch = createExitFetch();
    renderProbe({ environment: environmentWith({ fetch: keepaliveFetch }), token: async () => current });
    await advance(100);

    current = 'second';
    await dispatch(window, pageTransition('pagehide', false));
    await advance(100);

    expect(server.statuses()).toEqual(['online', 'offline']);
    expect(server.requests.map((request) => request.authorization)).toEqual(['Bearer first', 'Bearer first']);
  });

  it('never listens to unload', async () => {
    const server = recordPresence();
    const windowListen = vi.spyOn(window, 'addEventListener');
    const documentListen = vi.spyOn(document, 'addEventListener');
    const beacon = vi.spyOn(navigator, 'sendBeacon');
    const probe = renderProbe({ environment: environmentWith({ fetch: createExitFetch() }) });
    await advance(100);

    await dispatch(window, pageTransition('pagehide', true));
    await dispatch(window, pageTransition('pageshow', true));
    await advance(100);
    await dispatch(window, pageTransition('pagehide', false));
    probe.unmount();
    await advance(100);

    const types = [...windowListen.mock.calls, ...documentListen.mock.calls].map(([type]) => type);
    expect(types).toContain('pagehide');
    expect(types).toContain('pageshow');
    expect(types).not.toContain('beforeunload');
    expect(types).not.toContain('unload');
    expect(beacon).not.toHaveBeenCalled();
    expect(server.statuses().at(-1)).toBe('offline');
  });

  it('pageshow from the cache resends the status', async () => {
    const server = recordPresence();
    const probe = renderProbe({ environment: environmentWith({ fetch: createExitFetch() }) });
    await advance(100);
    await probe.choose('away');
    await advance(100);

    await dispatch(window, pageTransition('pagehide', true));
    await advance(1000);
    expect(server.statuses()).toEqual(['online', 'away']);

    await dispatch(window, pageTransition('pageshow', true));
    await advance(100);
    expect(server.statuses()).toEqual(['online', 'away', 'away']);
    expect(probe.state().status).toBe('away');
    expect(probe.state().syncedStatus).toBe('away');
    expect(probe.state().isSyncing).toBe(false);
  });

  it('unmount sends offline', async () => {
    const server = recordPresence();
    const probe = renderProbe({ environment: environmentWith() });
    await advance(100);

    probe.unmount();
    await advance(100);

    expect(server.statuses()).toEqual(['online', 'offline']);
    expect(server.requests[1]?.authorization).toBe('Bearer secret-token');
  });

  it('StrictMode remount sends no offline', async () => {
    const server = recordPresence();
    const probe = renderProbe({ environment: environmentWith(), strict: true });

    await advance(1000);

    expect(server.statuses()).toEqual(['online']);
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().isSyncing).toBe(false);
  });

  it.each([0, 300])('mount, unmount and mount ends online (first reply after %i ms)', async (firstReplyDelay) => {
    const server = recordPresence(async (_, index) => {
      if (index === 0) await delay(firstReplyDelay);
      return ok();
    });
    const first = renderProbe({ environment: environmentWith() });
    await advance(10);
    first.unmount();
    await advance(10);
    const second = renderProbe({ environment: environmentWith() });
    await advance(2000);

    expect(server.statuses().at(-1)).toBe('online');
    expect(hasNoRepeats(server.statuses())).toBe(true);
    expect(server.maxInFlight).toBe(1);
    expect(second.state().status).toBe('online');
    expect(second.state().syncedStatus).toBe('online');
    expect(second.state().isSyncing).toBe(false);
  });

  it('unmount during online after offline', async () => {
    // The server responds after 300 ms to the online that follows "appear offline".
    const server = recordPresence(async (_, index) => {
      if (index === 2) await delay(300);
      return ok();
    });
    const probe = renderProbe({ environment: environmentWith() });
    await advance(100);
    await probe.choose('offline');
    await advance(100);
    expect(probe.state().syncedStatus).toBe('offline');

    const { settled: online } = await probe.choose('online');
    await advance(50);
    expect(server.statuses()).toEqual(['online', 'offline', 'online']);
    probe.unmount();
    await advance(1000);

    expect(server.statuses()).toEqual(['online', 'offline', 'online', 'offline']);
    expect(server.maxInFlight).toBe(1);
    await expect(online).resolves.toBe('offline');
  });

  it('pagehide during online after offline', async () => {
    const server = recordPresence(async (_, index) => {
      if (index === 2) await delay(300);
      return ok();
    });
    const keepaliveFetch = createExitFetch();
    const probe = renderProbe({ environment: environmentWith({ fetch: keepaliveFetch }) });
    await advance(100);
    await probe.choose('offline');
    await advance(100);
    expect(probe.state().syncedStatus).toBe('offline');

    await probe.choose('online');
    await advance(50);
    expect(server.statuses()).toEqual(['online', 'offline', 'online']);
    await dispatch(window, pageTransition('pagehide', false));
    await advance(1000);

    expect(keepaliveFetch).toHaveBeenCalledTimes(1);
    const [url, init] = keepaliveFetch.mock.calls[0] ?? [];
    expect(url).toBe(PRESENCE_URL);
    expect(init?.keepalive).toBe(true);
    expect(JSON.parse(String(init?.body))).toEqual({ status: 'offline' });
    expect(server.statuses()).toEqual(['online', 'offline', 'online', 'offline']);
    expect(probe.state().status).toBe('offline');
    expect(probe.state().reason).toBe('pagehide');
  });

  it('unmount during the first online ends offline', async () => {
    const server = recordPresence(async (_, index) => {
      if (index === 0) await delay(300);
      return ok();
    });
    const probe = renderProbe({ environment: environmentWith() });
    await advance(50);

    probe.unmount();
    await advance(1000);

    expect(server.statuses()).toEqual(['online', 'offline']);
    expect(server.maxInFlight).toBe(1);
  });
});

describe('remount without Web Locks', () => {
  it('same-commit key change ends online', async () => {
    const server = recordPresence();
    const environment = oneTabEnvironment();
    const queryClient = new QueryClient();
    let state: PresenceState | undefined;
    function Consumer() {
      state = usePresence();
      return null;
    }
    // A new key unmounts the provider and mounts another one in the same commit.
    const tree = (key: string) => (
      <QueryClientProvider client={queryClient}>
        <PresenceProvider
          key={key}
          token="secret-token"
          baseUrl={BASE_URL}
          heartbeatInterval={false}
          environment={environment}
        >
          <Consumer />
        </PresenceProvider>
      </QueryClientProvider>
    );
    const view = render(tree('first'));
    await advance(100);
    expect(server.statuses()).toEqual(['online']);

    view.rerender(tree('second'));
    await advance(1000);

    expect(server.statuses()).toEqual(['online', 'online']);
    expect(state?.status).toBe('online');
    expect(state?.syncedStatus).toBe('online');
    expect(state?.isSyncing).toBe(false);

    // The remaining provider is the last one, so its unmount sends offline.
    view.unmount();
    await advance(100);
    expect(server.statuses()).toEqual(['online', 'online', 'offline']);
  });
});

describe('errors', () => {
  it('reach state, mutation and onError', async () => {
    recordPresence((request) => (request.status === 'away' ? reply(400) : ok()));
    const onError = vi.fn();
    const probe = renderProbe({ environment: oneTabEnvironment(), onError });
    await advance(100);

    const { settled: away } = await probe.choose('away');
    await advance(100);

    const error = await away.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PresenceHttpError);
    expect((error as PresenceHttpError).status).toBe(400);
    expect(probe.state().error).toBe(error);
    expect(probe.mutation().error).toBe(error);
    expect(probe.mutation().status).toBe('error');
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError).toHaveBeenCalledWith(error);
    expect(probe.state().status).toBe('away');
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().isSyncing).toBe(false);
  });

  it('throwing onError is logged once', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const server = recordPresence((_, index) => (index === 1 || index === 2 ? reply(400) : ok()));
    const callbackError = new Error('onError bug');
    const onError = vi.fn(() => {
      throw callbackError;
    });
    const probe = renderProbe({ environment: oneTabEnvironment(), onError });
    await advance(100);

    const { settled: away } = await probe.choose('away');
    await advance(100);
    await expect(away).rejects.toBeInstanceOf(PresenceHttpError);
    const { settled: offline } = await probe.choose('offline');
    await advance(100);
    await expect(offline).rejects.toBeInstanceOf(PresenceHttpError);
    const { settled: awayAgain } = await probe.choose('away');
    await advance(100);
    await expect(awayAgain).resolves.toBe('away');

    expect(server.statuses()).toEqual(['online', 'away', 'offline', 'away']);
    expect(onError).toHaveBeenCalledTimes(2);
    const reports = consoleError.mock.calls.filter((args) => String(args[0]).includes('react-presence'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain(callbackError);
    expect(probe.state().syncedStatus).toBe('away');
    expect(probe.state().error).toBeNull();
    expect(probe.mutation().status).toBe('success');
  });

  it('throwing requestBody rejects the choice', async () => {
    const server = recordPresence();
    const bodyError = new Error('no body for away');
    const requestBody = vi.fn((status: PresenceStatus) => {
      if (status === 'away') throw bodyError;
      return { status };
    });
    const onError = vi.fn();
    const probe = renderProbe({ environment: oneTabEnvironment(), requestBody, onError, idleTimeout: false });
    await advance(100);
    expect(server.statuses()).toEqual(['online']);

    const { settled: away } = await probe.choose('away');
    await advance(100);

    const error = await away.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PresenceError);
    expect((error as Error).message).toContain('requestBody');
    expect((error as Error).cause).toBe(bodyError);
    expect(server.statuses()).toEqual(['online']);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError).toHaveBeenCalledWith(error);
    expect(probe.state().error).toBe(error);
    expect(probe.state().isSyncing).toBe(false);

    const { settled: online } = await probe.choose('online');
    await advance(100);
    expect(probe.state().status).toBe('online');
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().isSyncing).toBe(false);
    await expect(online).resolves.toBe('online');

    const { settled: offline } = await probe.choose('offline');
    await advance(100);
    await expect(offline).resolves.toBe('offline');
    expect(server.statuses()).toEqual(['online', 'offline']);
    expect(probe.state().syncedStatus).toBe('offline');
    expect(probe.state().error).toBeNull();
  });
});

describe('defaults and newest props', () => {
  it('requestTimeout defaults to 10 seconds', async () => {
    const server = recordPresence(async (_, index) => {
      if (index === 0) await delay(10_500);
      return ok();
    });
    const probe = renderProbe({ environment: oneTabEnvironment() });

    await advance(9_900);
    expect(server.statuses()).toEqual(['online']);
    expect(probe.state().error).toBeNull();
    expect(probe.state().isSyncing).toBe(true);

    await advance(200);
    const error = probe.state().error;
    expect(error).toBeInstanceOf(PresenceNetworkError);
    expect(error?.message).toBe(`PUT ${PRESENCE_URL} timed out after 10000 ms`);

    // random 0.5 sends the retry 500 ms after the timeout, and the server responds to it at once.
    await advance(1000);
    expect(server.statuses()).toEqual(['online', 'online']);
    expect(probe.state().syncedStatus).toBe('online');
    expect(probe.state().error).toBeNull();
  });

  it('onError uses the newest prop', async () => {
    const server = recordPresence((request) => (request.status === 'away' ? reply(400) : ok()));
    const first = vi.fn();
    const second = vi.fn();
    const probe = renderProbe({ environment: oneTabEnvironment(), onError: first });
    await advance(100);

    probe.rerenderWith({ onError: second });
    await probe.choose('away');
    await advance(100);

    expect(server.statuses()).toEqual(['online', 'away']);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
    expect(second.mock.calls[0]?.[0]).toBeInstanceOf(PresenceHttpError);
    expect(probe.state().error).toBe(second.mock.calls[0]?.[0]);
  });
});
