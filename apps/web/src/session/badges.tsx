import { useNotifications } from '../api/queries';
import type { NotificationView, SessionSnapshot } from '../api/types';

/** A session status as a badge (text, coloured by the status class). */
export const StatusBadge = ({ status }: { status: string }) => <span class={`badge status-${status}`}>{status}</span>;

/** The health flags of a snapshot, whatever shape the server gives them (a string, a list, or an object of flags). */
export const healthFlags = (health: SessionSnapshot['health']): string[] => {
  if (health === undefined || health === null) return [];
  if (typeof health === 'string') return health === 'ok' || health === '' ? [] : [health];
  if (Array.isArray(health)) return health.map(String);
  return Object.entries(health).filter(([, on]) => on === true || (typeof on === 'string' && on !== 'ok')).map(([flag, on]) => (on === true ? flag : `${flag}: ${String(on)}`));
};

/** Kind (the orchestrator marked), activity and health flags of a session, each as text. */
export const SessionFlags = ({ session }: { session: SessionSnapshot }) => {
  const flags = healthFlags(session.health);
  return (
    <>
      {session.kind === 'orchestrator' && <span class="badge orchestrator" title="the project's orchestrator">★ orchestrator</span>}
      {session.activity && <span class={`badge activity-${session.activity}`} title="activity (from the agent's hooks)">{session.activity.replace(/_/g, ' ')}</span>}
      {flags.map((flag) => <span key={flag} class="badge health" title="health flag">⚠ {flag.replace(/_/g, ' ')}</span>)}
      {session.restoring && <span class="badge">restoring</span>}
      {session.divergences?.length ? <span class="badge diverged" title="divergences between the log and the agent's transcript">{session.divergences.length} divergence{session.divergences.length === 1 ? '' : 's'}</span> : null}
    </>
  );
};

/**
 * The notification a session still needs a person for (docs/ARCHITECTURE.md §4i): its latest one, while the session has
 * not moved on since it was raised (no event after it) and is not terminated; else undefined.
 */
export const openNotification = (session: SessionSnapshot, notifications: readonly NotificationView[] | undefined): NotificationView | undefined => {
  if (session.status === 'terminated') return undefined;
  const latest = notifications?.find((n) => n.sessionId === session.id); // newest first
  return latest && latest.raisedAt >= session.updatedAt ? latest : undefined;
};

/** A "needs you" badge naming why (permission request, waiting for input, budget, …), with the summary as its title. */
export const NeedsYouBadge = ({ session }: { session: SessionSnapshot }) => {
  const open = openNotification(session, useNotifications().data);
  return open ? <span class="badge needs-you" title={open.summary}>needs you: {open.kind.replace(/_/g, ' ')}</span> : null;
};
