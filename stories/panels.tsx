import type { ReactNode } from 'react';
import { PresenceAuthError, type PresenceReason, type PresenceStatus, usePresence, useSetPresence } from '../src';
import { formatSeconds } from './format';
import { useAwayCountdown } from './useAwayCountdown';

const STATUS_LABELS: Record<PresenceStatus, string> = {
  online: 'Online',
  away: 'Away',
  offline: 'Offline',
};

// Descriptions of the reasons for automatic away.
const REASON_TEXT: Partial<Record<PresenceReason, string>> = {
  idle: 'no input for idleTimeout',
  hidden: 'the tab was hidden for hiddenTimeout',
};

const PICKER_OPTIONS: { status: PresenceStatus; label: string }[] = [
  { status: 'online', label: 'Online (automatic)' },
  { status: 'away', label: 'Away' },
  { status: 'offline', label: 'Appear offline' },
];

function formatTimeout(timeout: number | false): string {
  return timeout === false ? 'off' : `${timeout} ms`;
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0]?.toUpperCase())
    .join('');
}

export function StatusBadge({ status }: { status: PresenceStatus }): ReactNode {
  return <span className={`badge badge-${status}`}>{STATUS_LABELS[status]}</span>;
}

/** Chat header: the signed-in user with the effective status, which the package sends to the server. */
export function ChatHeader({ userName }: { userName: string }): ReactNode {
  const status = usePresence((state) => state.status);
  const reason = usePresence((state) => state.reason);

  return (
    <header className="chat-header">
      <span className="avatar">
        {initials(userName)}
        <span className={`avatar-dot dot-${status}`} />
      </span>
      <span className="user-name">{userName}</span>
      <StatusBadge status={status} />
      <span className="muted">
        reason: <code>{reason}</code>
      </span>
    </header>
  );
}

/** Buttons that set the chosen status through `useSetPresence`, with the mutation's state. */
export function StatusPicker(): ReactNode {
  const chosenStatus = usePresence((state) => state.chosenStatus);
  const setPresence = useSetPresence();

  return (
    <section className="panel">
      <h2>Choose a status</h2>
      <div className="picker">
        {PICKER_OPTIONS.map(({ status, label }) => (
          <button
            key={status}
            type="button"
            aria-pressed={chosenStatus === status}
            onClick={() => setPresence.mutate(status)}
          >
            {label}
          </button>
        ))}
      </div>
      <p className="muted">
        Chosen status: <code>{chosenStatus}</code>
      </p>
      {setPresence.variables ? (
        <p className="muted">
          <code>mutate('{setPresence.variables}')</code>: <code>{setPresence.status}</code>
          {setPresence.error ? ` with ${setPresence.error.name}` : null}
        </p>
      ) : null}
    </section>
  );
}

/** Shows the status the server acknowledged, whether a request is pending, and the latest error. */
export function SyncState({ errorCount }: { errorCount: number }): ReactNode {
  const status = usePresence((state) => state.status);
  const syncedStatus = usePresence((state) => state.syncedStatus);
  const isSyncing = usePresence((state) => state.isSyncing);
  const error = usePresence((state) => state.error);

  let syncLabel = <span className="synced">up to date</span>;
  if (isSyncing) syncLabel = <span className="syncing">syncing…</span>;
  else if (syncedStatus !== status)
    syncLabel = <span className="syncing">stopped until the next change or heartbeat</span>;

  return (
    <section className="panel">
      <h2>Sync with the server</h2>
      <p>
        Server has: {syncedStatus ? <StatusBadge status={syncedStatus} /> : <span className="muted">nothing yet</span>}
      </p>
      <p>Requests: {syncLabel}</p>
      <p className="muted">onError calls: {errorCount}</p>
      {error ? (
        <p className="error" role="alert">
          <strong>{error.name}</strong>: {error.message}
          {error instanceof PresenceAuthError ? (
            <>
              <br />
              The server rejected the token. Sign in again to get a new one.
            </>
          ) : null}
        </p>
      ) : null}
    </section>
  );
}

/** Shows the time left until automatic away, or the reason it does not apply. */
export function AwayTimer({
  idleTimeout,
  hiddenTimeout,
}: {
  idleTimeout: number | false;
  hiddenTimeout: number | false;
}): ReactNode {
  const { status, chosenStatus, reason } = usePresence();
  const countdown = useAwayCountdown(idleTimeout, hiddenTimeout);
  const limits = `idleTimeout ${formatTimeout(idleTimeout)}, hiddenTimeout ${formatTimeout(hiddenTimeout)}`;

  let message: ReactNode;
  if (chosenStatus !== 'online') {
    message = `Automatic away is off because you chose ${chosenStatus}.`;
  } else if (status === 'away') {
    message = `Away (${REASON_TEXT[reason] ?? reason}). Move the pointer or press a key to come back online.`;
  } else if (countdown.msLeft === null) {
    message = 'Automatic away is turned off.';
  } else {
    const trigger =
      countdown.cause === 'hidden' ? 'unless the tab becomes visible' : 'unless you move the pointer or type';
    message = (
      <>
        Away in <strong className="countdown">{formatSeconds(countdown.msLeft)}</strong> ({countdown.cause}), {trigger}.
      </>
    );
  }

  return (
    <section className="panel">
      <h2>Automatic away</h2>
      <p>{message}</p>
      <p className="muted">{limits}. The countdown is the demo's own estimate from this tab's input and visibility.</p>
    </section>
  );
}
