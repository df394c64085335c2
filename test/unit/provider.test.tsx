import { inspect } from 'node:util';
import { QueryClient, QueryClientProvider, useMutationState } from '@tanstack/react-query';
import { act, render, screen, waitFor } from '@testing-library/react';
import ky from 'ky';
import { HttpResponse, http } from 'msw';
import { useEffect } from 'react';
import { describe, expect, it, vi } from 'vitest';
import {
  PresenceAuthError,
  PresenceHttpError,
  PresenceProvider,
  PresenceResponseError,
  type PresenceState,
  type PresenceStatus,
  PresenceTokenError,
  usePresence,
  useReportActivity,
  useSetPresence,
} from '../../src';
import { renderWithPresence } from './render';
import { BASE_URL, mockPresence, PRESENCE_URL, server, statusesOf } from './server';

type SetPresence = ReturnType<typeof useSetPresence>;

/** Shows the presence state and hands the mutation to the test. */
function Probe({ onMutation }: { onMutation?: (mutation: SetPresence) => void }) {
  const state = usePresence();
  const mutation = useSetPresence();
  useEffect(() => {
    onMutation?.(mutation);
  });
  return (
    <div>
      <span data-testid="status">{state.status}</span>
      <span data-testid="synced">{String(state.syncedStatus)}</span>
      <span data-testid="error">{state.error?.name ?? 'none'}</span>
      <span data-testid="mutation">{mutation.status}</span>
    </div>
  );
}

function renderProbe(props: Parameters<typeof renderWithPresence>[1] = {}) {
  let mutation: SetPresence | undefined;
  const result = renderWithPresence(<Probe onMutation={(value) => (mutation = value)} />, props);
  return { ...result, mutation: () => mutation as SetPresence };
}

const text = (id: string) => screen.getByTestId(id).textContent;

describe('PresenceProvider', () => {
  it('sends online once on mount', async () => {
    const seen = mockPresence();
    renderProbe();

    await waitFor(() => expect(text('synced')).toBe('online'));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual({
      method: 'PUT',
      url: PRESENCE_URL,
      authorization: 'Bearer secret-token',
      contentType: 'application/json',
      body: { status: 'online' },
    });
  });

  it('sends one request under StrictMode', async () => {
    const seen = mockPresence();
    renderProbe({ strict: true });

    await waitFor(() => expect(text('synced')).toBe('online'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(statusesOf(seen)).toEqual(['online']);
  });

  it('mutate sends the chosen status', async () => {
    const seen = mockPresence();
    const { mutation } = renderProbe();
    await waitFor(() => expect(text('synced')).toBe('online'));

    let result: PresenceStatus | undefined;
    await act(async () => {
      result = await mutation().mutateAsync('away');
    });

    expect(result).toBe('away');
    expect(statusesOf(seen)).toEqual(['online', 'away']);
    expect(seen[1]?.authorization).toBe('Bearer secret-token');
    expect(text('status')).toBe('away');
    expect(text('synced')).toBe('away');
    expect(text('mutation')).toBe('success');
  });

  it('requestBody maps the status', async () => {
    const seen = mockPresence();
    renderProbe({ requestBody: (status) => ({ presence: status.toUpperCase(), source: 'web' }) });

    await waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]?.body).toEqual({ presence: 'ONLINE', source: 'web' });
  });

  it('treats success false as a failure', async () => {
    mockPresence(() => HttpResponse.json({ success: false, message: 'User is banned' }));
    const onError = vi.fn();
    renderProbe({ onError });

    await waitFor(() => expect(text('error')).toBe('PresenceResponseError'));
    expect(onError).toHaveBeenCalledTimes(1);
    const error = onError.mock.calls[0]?.[0];
    expect(error).toBeInstanceOf(PresenceResponseError);
    expect(error.message).toBe('User is banned');
    expect(text('synced')).toBe('null');
  });

  it('treats a non-JSON 2xx as a success', async () => {
    const seen = mockPresence(() => new HttpResponse('OK', { status: 200 }));
    renderProbe();

    await waitFor(() => expect(text('synced')).toBe('online'));
    expect(seen).toHaveLength(1);
    expect(text('error')).toBe('none');
  });

  it('treats an empty 204 as a success', async () => {
    mockPresence(() => new HttpResponse(null, { status: 204 }));
    renderProbe();
    await waitFor(() => expect(text('synced')).toBe('online'));
  });

  it('reports a 400 with method, URL and status', async () => {
    const seen = mockPresence(() => HttpResponse.json({ message: 'bad' }, { status: 400 }));
    const onError = vi.fn();
    renderProbe({ onError });

    await waitFor(() => expect(onError).toHaveBeenCalledTimes(1));
    const error = onError.mock.calls[0]?.[0] as PresenceHttpError;
    expect(error).toBeInstanceOf(PresenceHttpError);
    expect(error.name).toBe('PresenceHttpError');
    expect(error.status).toBe(400);
    expect(error.method).toBe('PUT');
    expect(error.url).toBe(PRESENCE_URL);
    expect(error.serverMessage).toBe('bad');
    expect(error.message).toBe(`PUT ${PRESENCE_URL} failed with status 400: bad`);
    // A 400 is not retried.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(seen).toHaveLength(1);
  });

  it('reports a 401 as PresenceAuthError', async () => {
    const seen = mockPresence(() => new HttpResponse(null, { status: 401 }));
    const { mutation } = renderProbe();
    await waitFor(() => expect(text('error')).toBe('PresenceAuthError'));

    let caught: unknown;
    await act(async () => {
      await mutation()
        .mutateAsync('away')
        .catch((error) => (caught = error));
    });

    expect(caught).toBeInstanceOf(PresenceAuthError);
    expect((caught as PresenceAuthError).status).toBe(401);
    // One request per status: the string token cannot change, so there is no second try.
    expect(statusesOf(seen)).toEqual(['online', 'away']);
    expect(text('mutation')).toBe('error');
  });

  it('retries a 500 and reports it', async () => {
    const seen = mockPresence((_, index) =>
      index === 0 ? new HttpResponse(null, { status: 500 }) : HttpResponse.json({ success: true }),
    );
    const onError = vi.fn();
    renderProbe({ onError, environment: { random: () => 0 } });

    await waitFor(() => expect(text('synced')).toBe('online'));
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0].status).toBe(500);
    expect(statusesOf(seen)).toEqual(['online', 'online']);
    expect(text('error')).toBe('none');
  });

  it('accepts a token function', async () => {
    const seen = mockPresence();
    let current = 'first';
    const { mutation } = renderProbe({ token: () => current });
    await waitFor(() => expect(text('synced')).toBe('online'));

    current = 'second';
    await act(() => mutation().mutateAsync('away'));

    expect(seen.map((entry) => entry.authorization)).toEqual(['Bearer first', 'Bearer second']);
  });

  it('accepts an async token function', async () => {
    const seen = mockPresence();
    renderProbe({ token: async () => 'async-token' });

    await waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]?.authorization).toBe('Bearer async-token');
  });

  it('sends nothing when the token function rejects', async () => {
    const seen = mockPresence();
    const onError = vi.fn();
    renderProbe({ token: () => Promise.reject(new Error('refresh failed')), onError });

    await waitFor(() => expect(text('error')).toBe('PresenceTokenError'));
    const error = onError.mock.calls[0]?.[0] as PresenceTokenError;
    expect(error).toBeInstanceOf(PresenceTokenError);
    expect((error.cause as Error).message).toBe('refresh failed');
    expect(seen).toHaveLength(0);
  });

  it('sends nothing with an empty token', async () => {
    const seen = mockPresence();
    renderProbe({ token: '' });

    await waitFor(() => expect(text('error')).toBe('PresenceTokenError'));
    expect(seen).toHaveLength(0);
  });

  it('rejects an invalid status', async () => {
    const seen = mockPresence();
    const { mutation } = renderProbe();
    await waitFor(() => expect(text('synced')).toBe('online'));

    let caught: unknown;
    await act(async () => {
      await mutation()
        .mutateAsync('busy' as PresenceStatus)
        .catch((error) => (caught = error));
    });

    expect(caught).toBeInstanceOf(TypeError);
    expect((caught as Error).message).toBe('Invalid presence status "busy": expected "online", "away" or "offline".');
    expect(seen).toHaveLength(1);
    expect(text('status')).toBe('online');
  });

  it('sends nothing when disabled', async () => {
    const seen = mockPresence();
    const addListener = vi.spyOn(window, 'addEventListener');
    renderProbe({ enabled: false });

    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toHaveLength(0);
    // TanStack Query adds its own focus and online listeners, so only ours are checked.
    const types = addListener.mock.calls.map(([type]) => type);
    for (const type of ['pointerdown', 'pointermove', 'keydown', 'pagehide', 'pageshow', 'focus']) {
      expect(types).not.toContain(type);
    }
  });

  it('keeps the token out of errors and storage', async () => {
    mockPresence(() => new HttpResponse(null, { status: 401 }));
    const onError = vi.fn();
    const { mutation } = renderProbe({ onError });
    await waitFor(() => expect(onError).toHaveBeenCalled());
    await act(() =>
      mutation()
        .mutateAsync('offline')
        .catch(() => {}),
    );

    for (const [error] of onError.mock.calls) {
      expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toContain('secret-token');
    }
    const stored = Object.keys(localStorage).map((key) => `${key}=${localStorage.getItem(key)}`);
    expect(stored.join('\n')).not.toContain('secret-token');
  });
});

describe('query client', () => {
  it('reuses the nearest QueryClientProvider', async () => {
    mockPresence();
    const queryClient = new QueryClient();
    let states: unknown[] = [];
    function Watcher() {
      states = useMutationState({ filters: { mutationKey: ['presence', 'set'] }, select: (m) => m.state.variables });
      return null;
    }
    function Setter() {
      const { mutate } = useSetPresence();
      useEffect(() => mutate('away'), [mutate]);
      return null;
    }
    render(
      <QueryClientProvider client={queryClient}>
        <PresenceProvider token="t" baseUrl={BASE_URL}>
          <Setter />
        </PresenceProvider>
        <Watcher />
      </QueryClientProvider>,
    );

    await waitFor(() => expect(states).toEqual(['away']));
    expect(queryClient.getMutationCache().getAll()).toHaveLength(1);
  });

  it('uses the queryClient prop without a provider', async () => {
    mockPresence();
    const queryClient = new QueryClient();
    function Setter() {
      const { mutate } = useSetPresence();
      useEffect(() => mutate('away'), [mutate]);
      return null;
    }
    render(
      <PresenceProvider token="t" baseUrl={BASE_URL} queryClient={queryClient}>
        <Setter />
      </PresenceProvider>,
    );
    await waitFor(() => expect(queryClient.getMutationCache().getAll()).toHaveLength(1));
  });
});

describe('enabled prop', () => {
  it('choice while disabled reports the change', async () => {
    const seen = mockPresence();
    const onStatusChange = vi.fn();
    let mutation: SetPresence | undefined;
    const { rerenderWith } = renderWithPresence(<Probe onMutation={(value) => (mutation = value)} />, {
      enabled: false,
      onStatusChange,
    });

    await act(() => mutation?.mutateAsync('away'));

    expect(onStatusChange).toHaveBeenCalledWith('away', 'manual');
    expect(text('status')).toBe('away');
    expect(seen).toHaveLength(0);

    rerenderWith({ enabled: true });
    await waitFor(() => expect(text('synced')).toBe('away'));
    expect(statusesOf(seen)).toEqual(['away']);
  });

  it('turning it off sends offline once', async () => {
    const seen = mockPresence();
    let state: PresenceState | undefined;
    function StateProbe() {
      state = usePresence();
      return null;
    }
    const { rerenderWith } = renderWithPresence(<StateProbe />);
    await waitFor(() => expect(state?.syncedStatus).toBe('online'));

    rerenderWith({ enabled: false });
    await waitFor(() => expect(state?.syncedStatus).toBe('offline'));

    expect(statusesOf(seen)).toEqual(['online', 'offline']);
    expect(state?.status).toBe('offline');
    expect(state?.reason).toBe('unmount');
    expect(state?.isSyncing).toBe(false);
  });
});

describe('baseUrl prop', () => {
  it.each(['localhost:5000', '/api', 'ftp://chat.example.com'])('%s throws a TypeError', (baseUrl) => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => renderWithPresence(null, { baseUrl })).toThrow(TypeError);
    expect(() => renderWithPresence(null, { baseUrl })).toThrow(`Invalid baseUrl "${baseUrl}"`);
  });
});

describe('outside the provider', () => {
  it.each([
    ['usePresence', () => usePresence()],
    ['useSetPresence', () => useSetPresence()],
    ['useReportActivity', () => useReportActivity()],
  ])('%s throws naming PresenceProvider', (name, hook) => {
    function Component() {
      hook();
      return null;
    }
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() =>
      render(
        <QueryClientProvider client={new QueryClient()}>
          <Component />
        </QueryClientProvider>,
      ),
    ).toThrow(`${name} must be used inside <PresenceProvider>`);
  });
});

describe('provider options', () => {
  it('baseUrl defaults to localhost:5000', async () => {
    const defaultUrl = 'http://localhost:5000/api/ws/presence';
    const urls: string[] = [];
    server.use(
      http.put(defaultUrl, ({ request }) => {
        urls.push(request.url);
        return HttpResponse.json({ success: true });
      }),
    );
    const { unmount } = renderProbe({ baseUrl: undefined });

    await waitFor(() => expect(text('synced')).toBe('online'));
    expect(urls).toEqual([defaultUrl]);

    unmount();
    await waitFor(() => expect(urls).toHaveLength(2));
  });

  it('ky prop sends through the instance', async () => {
    const received: { header: string | null; authorization: string | null; body: unknown }[] = [];
    server.use(
      http.put(PRESENCE_URL, async ({ request }) => {
        received.push({
          header: request.headers.get('X-Chat-Client'),
          authorization: request.headers.get('Authorization'),
          body: await request.json(),
        });
        return HttpResponse.json({ success: true });
      }),
    );
    const beforeRequest = vi.fn((request: Request) => {
      request.headers.set('X-Chat-Client', 'web-7');
    });
    const api = ky.create({ hooks: { beforeRequest: [beforeRequest] } });
    renderProbe({ ky: api });

    await waitFor(() => expect(text('synced')).toBe('online'));
    expect(beforeRequest).toHaveBeenCalledTimes(1);
    expect(received).toEqual([{ header: 'web-7', authorization: 'Bearer secret-token', body: { status: 'online' } }]);
  });

  it('missing token prop throws TypeError', () => {
    const seen = mockPresence();
    vi.spyOn(console, 'error').mockImplementation(() => {});

    expect(() => renderWithPresence(null, { token: undefined as never })).toThrow(TypeError);
    expect(() => renderWithPresence(null, { token: undefined as never })).toThrow('Invalid token undefined');
    expect(seen).toHaveLength(0);
  });

  it('console output never contains the token', async () => {
    const token = 'console-secret-91c4';
    mockPresence(() => HttpResponse.json({ success: false, message: 'Invalid token' }, { status: 401 }));
    const spies = (['error', 'warn', 'log', 'info', 'debug'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation(() => {}),
    );
    // An onError that rethrows makes the package log the error it received.
    const onError = vi.fn((error: Error) => {
      throw error;
    });
    const { mutation } = renderProbe({ token, onError });
    await waitFor(() => expect(text('error')).toBe('PresenceAuthError'));
    await act(() =>
      mutation()
        .mutateAsync('away')
        .catch(() => {}),
    );

    expect(onError).toHaveBeenCalledTimes(2);
    const [consoleError] = spies;
    const report = consoleError?.mock.calls.find((args) => String(args[0]).includes('react-presence'));
    expect(report?.[1]).toBeInstanceOf(PresenceAuthError);
    for (const spy of spies) {
      for (const args of spy.mock.calls) expect(inspect(args, { depth: 8 })).not.toContain(token);
    }
  });
});

describe('useSetPresence options', () => {
  it('mutation callbacks receive the outcome', async () => {
    const seen = mockPresence((entry) =>
      (entry.body as { status: string }).status === 'offline'
        ? HttpResponse.json({ message: 'not allowed' }, { status: 403 })
        : HttpResponse.json({ success: true }),
    );
    const onSuccess = vi.fn();
    const onError = vi.fn();
    const onSettled = vi.fn();
    let setPresence: SetPresence | undefined;
    function Setter() {
      setPresence = useSetPresence({ onSuccess, onError, onSettled });
      return null;
    }
    renderWithPresence(<Setter />);
    await waitFor(() => expect(seen).toHaveLength(1));

    await act(() => (setPresence as SetPresence).mutateAsync('away'));
    expect(onSuccess).toHaveBeenCalledTimes(1);
    expect(onSuccess.mock.calls[0]?.slice(0, 2)).toEqual(['away', 'away']);
    expect(onSettled).toHaveBeenCalledTimes(1);
    expect(onSettled.mock.calls[0]?.slice(0, 3)).toEqual(['away', null, 'away']);

    await act(() => (setPresence as SetPresence).mutateAsync('offline').catch(() => {}));
    expect(onError).toHaveBeenCalledTimes(1);
    const [error, variables] = onError.mock.calls[0] ?? [];
    expect(error).toBeInstanceOf(PresenceHttpError);
    expect((error as PresenceHttpError).status).toBe(403);
    expect(variables).toBe('offline');
    expect(onSettled).toHaveBeenCalledTimes(2);
    expect(statusesOf(seen)).toEqual(['online', 'away', 'offline']);
  });
});

describe('query client choice', () => {
  function AwaySetter({ onStatus }: { onStatus?: (status: string) => void }) {
    const mutation = useSetPresence();
    const { mutate } = mutation;
    useEffect(() => mutate('away'), [mutate]);
    useEffect(() => {
      onStatus?.(mutation.status);
    });
    return null;
  }

  it('nearest client wins over prop', async () => {
    mockPresence();
    const nearest = new QueryClient();
    const fromProp = new QueryClient();
    render(
      <QueryClientProvider client={nearest}>
        <PresenceProvider token="t" baseUrl={BASE_URL} queryClient={fromProp}>
          <AwaySetter />
        </PresenceProvider>
      </QueryClientProvider>,
    );

    await waitFor(() => expect(nearest.getMutationCache().getAll()).toHaveLength(1));
    expect(fromProp.getMutationCache().getAll()).toHaveLength(0);
  });

  it('private client runs the mutation', async () => {
    const seen = mockPresence();
    const statuses: string[] = [];
    render(
      <PresenceProvider token="t" baseUrl={BASE_URL}>
        <AwaySetter onStatus={(status) => statuses.push(status)} />
      </PresenceProvider>,
    );

    await waitFor(() => expect(statuses.at(-1)).toBe('success'));
    expect(statusesOf(seen)).toEqual(['online', 'away']);
  });
});
