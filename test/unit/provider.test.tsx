import { QueryClient, QueryClientProvider, useMutationState } from '@tanstack/react-query';
import { act, render, screen, waitFor } from '@testing-library/react';
import { HttpResponse } from 'msw';
import { useEffect } from 'react';
import { describe, expect, it, vi } from 'vitest';
import {
  PresenceAuthError,
  PresenceHttpError,
  PresenceProvider,
  PresenceResponseError,
  type PresenceStatus,
  PresenceTokenError,
  usePresence,
  useReportActivity,
  useSetPresence,
} from '../../src';
import { renderWithPresence } from './render';
import { BASE_URL, mockPresence, PRESENCE_URL, statusesOf } from './server';

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
