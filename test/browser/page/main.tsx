// Test page for the real-browser suite. It reads the provider's options from the query string,
// shows the presence state, and exposes it on `window` for the tests to read over CDP.
import {
  PresenceAuthError,
  PresenceProvider,
  type PresenceProviderProps,
  type PresenceState,
  type PresenceStatus,
  usePresence,
  useSetPresence,
} from '@minbil/react-presence';
import { StrictMode, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import type { ExposedState, PageEvent } from './exposed';

declare global {
  interface Window {
    presenceState?: ExposedState;
    pageEvents: PageEvent[];
  }
}

const STATUSES: PresenceStatus[] = ['online', 'away', 'offline'];

function describeTarget(target: EventTarget | null): PageEvent['target'] {
  if (target === window) return 'window';
  if (target === document) return 'document';
  return 'element';
}

window.pageEvents = [];
for (const type of ['visibilitychange', 'focus', 'blur', 'pageshow', 'pagehide']) {
  const target = type === 'visibilitychange' ? document : window;
  target.addEventListener(
    type,
    (event) => {
      window.pageEvents.push({
        type,
        target: describeTarget(event.target),
        visibilityState: document.visibilityState,
        hasFocus: document.hasFocus(),
        at: Date.now(),
      });
    },
    { capture: true },
  );
}

/** Reads a timing option in ms. A missing one keeps the package default, and `false` turns it off. */
function readTiming(params: URLSearchParams, name: string): number | false | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (value === 'false') return false;
  return Number(value);
}

function readOptions(): Omit<PresenceProviderProps, 'children'> {
  const params = new URLSearchParams(location.search);
  const options: Omit<PresenceProviderProps, 'children'> = {
    token: params.get('token') ?? 'test-token',
    baseUrl: location.origin,
  };
  for (const name of ['idleTimeout', 'hiddenTimeout', 'heartbeatInterval'] as const) {
    const value = readTiming(params, name);
    if (value !== undefined) options[name] = value;
  }
  const requestTimeout = readTiming(params, 'requestTimeout');
  if (typeof requestTimeout === 'number') options.requestTimeout = requestTimeout;
  const channelName = params.get('channelName');
  if (channelName) options.channelName = channelName;
  return options;
}

function exposeState(state: PresenceState): ExposedState {
  const { error } = state;
  return {
    ...state,
    error: error ? { name: error.name, message: error.message, isAuthError: error instanceof PresenceAuthError } : null,
  };
}

function PresencePanel() {
  const state = usePresence();
  const setPresence = useSetPresence();

  useEffect(() => {
    window.presenceState = exposeState(state);
  }, [state]);

  return (
    <main>
      <p>
        Status: <output id="status">{state.status}</output> (chosen <output id="chosen">{state.chosenStatus}</output>,
        reason <output id="reason">{state.reason}</output>, server has{' '}
        <output id="synced">{state.syncedStatus ?? 'nothing'}</output>)
      </p>
      <p>
        Error: <output id="error">{state.error ? `${state.error.name}: ${state.error.message}` : 'none'}</output>
      </p>
      {STATUSES.map((status) => (
        <button key={status} id={`set-${status}`} type="button" onClick={() => setPresence.mutate(status)}>
          {status}
        </button>
      ))}
    </main>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <PresenceProvider {...readOptions()}>
      <PresencePanel />
    </PresenceProvider>
  </StrictMode>,
);
