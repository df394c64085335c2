/// <reference types="vite/client" />

import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { PresenceProvider, type PresenceReason, type PresenceStatus } from '../src';
import { backend } from './backend';
import './demo.css';
import { RequestLog, type Transition, TransitionLog } from './logs';
import { AwayTimer, ChatHeader, StatusPicker, SyncState } from './panels';
import { createLoggingKy, type RequestLogEntry } from './requestLog';

// The package's defaults, repeated here only for the countdown display.
const DEFAULT_IDLE_TIMEOUT = 300_000;
const DEFAULT_HIDDEN_TIMEOUT = 60_000;
const MAX_LOG_ENTRIES = 50;

export interface PresenceDemoProps {
  /** Name of the signed-in user in the chat header. */
  userName: string;
  /** Description of the mock backend's behaviour in this story, shown above the demo. */
  scenario: string;
  idleTimeout?: number | false;
  hiddenTimeout?: number | false;
  heartbeatInterval?: number | false;
  /** Channel of the provider. Each story gets its own, so a status chosen in one stays there. */
  channelName?: string;
}

/** Replaces the entry with the same id, or adds `entry` at the top, keeping the newest entries. */
function upsertEntry(entries: RequestLogEntry[], entry: RequestLogEntry): RequestLogEntry[] {
  if (entries.some((existing) => existing.id === entry.id)) {
    return entries.map((existing) => (existing.id === entry.id ? entry : existing));
  }
  return [entry, ...entries].slice(0, MAX_LOG_ENTRIES);
}

function BackendBanner({ scenario }: { scenario: string }): ReactNode {
  if (!backend.isMock) {
    return (
      <p className="banner banner-real">
        Real backend <code>{backend.baseUrl}</code>: the mock scenario of this story does not apply.
      </p>
    );
  }
  return (
    <>
      <p className="banner">Mock backend (msw): {scenario}</p>
      {backend.warning ? <p className="banner banner-warning">{backend.warning}</p> : null}
    </>
  );
}

/** Renders a chat page's presence UI on top of `PresenceProvider`, with logs of requests and status changes. */
export function PresenceDemo({
  userName,
  scenario,
  idleTimeout,
  hiddenTimeout,
  heartbeatInterval,
  channelName,
}: PresenceDemoProps): ReactNode {
  const [queryClient] = useState(() => new QueryClient());
  const [requests, setRequests] = useState<RequestLogEntry[]>([]);
  const [transitions, setTransitions] = useState<Transition[]>([]);
  const [errorCount, setErrorCount] = useState(0);
  const [api] = useState(() => createLoggingKy((entry) => setRequests((entries) => upsertEntry(entries, entry))));

  const handleStatusChange = (status: PresenceStatus, reason: PresenceReason) => {
    setTransitions((list) =>
      [{ id: (list[0]?.id ?? 0) + 1, at: Date.now(), status, reason }, ...list].slice(0, MAX_LOG_ENTRIES),
    );
  };

  return (
    <QueryClientProvider client={queryClient}>
      <PresenceProvider
        token={backend.token}
        baseUrl={backend.baseUrl}
        ky={api}
        channelName={channelName}
        idleTimeout={idleTimeout}
        hiddenTimeout={hiddenTimeout}
        heartbeatInterval={heartbeatInterval}
        onStatusChange={handleStatusChange}
        onError={() => setErrorCount((count) => count + 1)}
      >
        <main className="demo">
          <BackendBanner scenario={scenario} />
          <ChatHeader userName={userName} />
          <div className="panels">
            <StatusPicker />
            <SyncState errorCount={errorCount} />
            <AwayTimer
              idleTimeout={idleTimeout ?? DEFAULT_IDLE_TIMEOUT}
              hiddenTimeout={hiddenTimeout ?? DEFAULT_HIDDEN_TIMEOUT}
            />
          </div>
          <div className="logs">
            <RequestLog requests={requests} url={`${backend.baseUrl.replace(/\/+$/, '')}/api/ws/presence`} />
            <TransitionLog transitions={transitions} />
          </div>
        </main>
      </PresenceProvider>
    </QueryClientProvider>
  );
}
