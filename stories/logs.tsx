import type { ReactNode } from 'react';
import type { PresenceReason, PresenceStatus } from '../src';
import { formatTime } from './format';
import { StatusBadge } from './panels';
import type { RequestLogEntry } from './requestLog';

/** One call of `onStatusChange`. */
export interface Transition {
  id: number;
  at: number;
  status: PresenceStatus;
  reason: PresenceReason;
}

function resultClass(entry: RequestLogEntry): string {
  if (entry.result === 'pending') return 'result-pending';
  if (entry.httpStatus !== null && entry.httpStatus >= 200 && entry.httpStatus < 300) return 'result-ok';
  return 'result-failed';
}

/** Lists every change of the effective status, newest first. */
export function TransitionLog({ transitions }: { transitions: Transition[] }): ReactNode {
  return (
    <section className="panel log">
      <h2>Status changes (onStatusChange)</h2>
      {transitions.length === 0 ? <p className="muted">No change since the story started.</p> : null}
      <table>
        <tbody>
          {transitions.map((transition) => (
            <tr key={transition.id}>
              <td className="time">{formatTime(transition.at)}</td>
              <td>
                <StatusBadge status={transition.status} />
              </td>
              <td>
                <code>{transition.reason}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Lists the requests the package sent, newest first, with their HTTP result. */
export function RequestLog({ requests, url }: { requests: RequestLogEntry[]; url: string }): ReactNode {
  return (
    <section className="panel log">
      <h2>Requests</h2>
      <p className="muted">
        PUT <code>{url}</code>
      </p>
      {requests.length === 0 ? <p className="muted">No request yet.</p> : null}
      <table>
        <thead>
          <tr>
            <th>time</th>
            <th>status</th>
            <th>result</th>
            <th>took</th>
          </tr>
        </thead>
        <tbody>
          {requests.map((entry) => (
            <tr key={entry.id}>
              <td className="time">{formatTime(entry.startedAt)}</td>
              <td>
                <code>{entry.status}</code>
              </td>
              <td className={resultClass(entry)}>{entry.result}</td>
              <td className="time">{entry.durationMs === null ? '…' : `${entry.durationMs} ms`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
