import { diffStates, StateChange } from '@runledger/domain/shared/json-diff';
import { useMemo } from 'preact/hooks';
import { useStateAt } from '../api/queries';
import type { AuditEvent } from '../api/types';
import { formatTime, prettyJson } from '../lib/format';

const short = (value: unknown): string => {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
};

const ChangeLine = ({ change }: { change: StateChange }) => (
  <li class={`change change-${change.op}`}>
    <span class="op" aria-label={change.op === 'add' ? 'added' : change.op === 'remove' ? 'removed' : 'changed'}>{change.op === 'add' ? '+' : change.op === 'remove' ? '−' : '~'}</span>{' '}
    <code>{change.path}</code>:{' '}
    {change.op === 'change' ? <><code>{short(change.before)}</code> → <code>{short(change.after)}</code></> : <code>{short(change.op === 'add' ? change.after : change.before)}</code>}
  </li>
);

/**
 * Replay: a slider over the stream's revisions showing the session's state at revision N (`GET state?at=N`, as the
 * server returns it) and what changed from N−1 (a structural diff of the two replayed states).
 */
export const Replay = ({ sessionId, events, at, onAt }: { sessionId: string; events: readonly AuditEvent[]; at: number; onAt: (n: number) => void }) => {
  const head = events.length - 1;
  const n = Math.min(Math.max(at, 0), Math.max(head, 0));
  const current = useStateAt(sessionId, n);
  const previous = useStateAt(sessionId, n - 1);
  const settled = current.data?.revision === n && (n === 0 || previous.data?.revision === n - 1);
  const changes = useMemo(
    () => (settled ? diffStates(n === 0 ? {} : previous.data!.state, current.data!.state) : []),
    [settled, n, current.data, previous.data],
  );
  const event = events[n];
  if (head < 0) return <p class="muted">No events.</p>;
  return (
    <div class="replay">
      <div class="replay-controls">
        <label for="replay-slider">
          Revision <output data-testid="replay-revision">{n}</output> of {head}
        </label>
        <input
          id="replay-slider"
          type="range"
          min={0}
          max={head}
          step={1}
          value={n}
          aria-valuetext={`revision ${n} of ${head}${event ? `: ${event.type}` : ''}`}
          onInput={(e) => onAt(Number((e.target as HTMLInputElement).value))}
        />
        <div class="buttons">
          <button type="button" onClick={() => onAt(n - 1)} disabled={n <= 0} aria-label="previous revision">◀</button>
          <button type="button" onClick={() => onAt(n + 1)} disabled={n >= head} aria-label="next revision">▶</button>
          <button type="button" onClick={() => onAt(head)} disabled={n >= head}>Latest</button>
        </div>
      </div>
      {event && (
        <p>
          Event {n}: <code data-testid="replay-event-type">{event.type}</code> <span class="muted">recorded {formatTime(event.metadata.recordedAt)}</span>
        </p>
      )}
      <div class="replay-body" aria-busy={!settled} aria-live="polite">
        {current.error && <p class="error" role="alert">{(current.error as Error).message}</p>}
        <section aria-labelledby="changes-heading">
          <h2 id="changes-heading">What changed from revision {n - 1 < 0 ? '(none)' : n - 1}</h2>
          {settled ? (
            changes.length ? <ul class="changes" data-testid="replay-changes">{changes.map((c) => <ChangeLine key={c.path} change={c} />)}</ul> : <p class="muted">No change to the state.</p>
          ) : <p class="muted">Loading…</p>}
        </section>
        <section aria-labelledby="state-heading">
          <h2 id="state-heading">State at revision {n}{current.data ? <span class="muted"> (status {current.data.view.status})</span> : null}</h2>
          {settled && <pre class="json state" tabIndex={0} data-testid="replay-state" data-revision={current.data!.revision}>{prettyJson(current.data!.state)}</pre>}
        </section>
      </div>
    </div>
  );
};
