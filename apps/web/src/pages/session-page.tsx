import { useMemo } from 'preact/hooks';
import { Link, useSearchParams } from 'wouter-preact';
import { HttpError } from '../api/http';
import { useSession, useSessionEvents, useToolCalls } from '../api/queries';
import type { SessionSnapshot } from '../api/types';
import { formatTime } from '../lib/format';
import { runsFromEvents } from '../lib/timeline-layout';
import { NeedsYouBadge, SessionFlags, StatusBadge } from '../session/badges';
import { CompletenessPanel } from '../session/completeness';
import { CallDetail, RunDetail } from '../session/call-detail';
import { EventsPanel } from '../session/events-panel';
import { Replay } from '../session/replay';
import { rowKey, Timeline } from '../session/timeline';
import { SessionUsagePanel } from '../usage/usage';
import { Worktrees } from '../session/worktrees';

/** The views of a session page, in tab order. */
const VIEWS = [
  { id: 'timeline', label: 'Timeline' },
  { id: 'replay', label: 'Replay' },
  { id: 'events', label: 'Events' },
  { id: 'worktrees', label: 'Worktrees' },
] as const;
type View = (typeof VIEWS)[number]['id'];

const runtimeText = (runtime: SessionSnapshot['runtime']): string => {
  if (!runtime) return 'none';
  const state = runtime.alive === true ? 'alive' : runtime.alive === false ? 'not running' : 'unknown';
  const exit = runtime.exitCode != null ? `, exit ${runtime.exitCode}` : runtime.signal ? `, ${runtime.signal}` : '';
  return `${runtime.type}${runtime.pid ? ` pid ${runtime.pid}` : ''}${runtime.sessionName ? ` ${runtime.sessionName}` : ''} (${state}${exit})`;
};

const Summary = ({ session }: { session: SessionSnapshot }) => (
  <dl class="facts summary">
    <dt>project</dt><dd><Link href={`/?project=${encodeURIComponent(session.projectId)}`}>{session.projectId}</Link></dd>
    <dt>agent</dt><dd>{session.agent}{session.agentSessionId ? <> · <code>{session.agentSessionId}</code></> : null}</dd>
    <dt>branch</dt><dd><code>{session.branch}</code> from <code>{session.baseRef}</code></dd>
    <dt>runtime</dt><dd>{runtimeText(session.runtime)}</dd>
    <dt>tool calls</dt><dd>{session.toolCalls.total} · {session.toolCalls.completed} completed · {session.toolCalls.failed} failed · {session.toolCalls.interrupted} interrupted · {session.toolCalls.dispatched} in flight</dd>
    <dt>runs</dt><dd>{session.runs.total}{session.runs.open ? ` (${session.runs.open} open)` : ''}</dd>
    {session.resumeMode && <><dt>resume</dt><dd>{session.resumeMode}</dd></>}
    {session.lastHookAt && <><dt>last hook</dt><dd>{formatTime(session.lastHookAt)}</dd></>}
    {session.agentEnded && <><dt>agent ended</dt><dd>{session.agentEnded.reason} · {formatTime(session.agentEnded.at)}</dd></>}
    <dt>created</dt><dd>{formatTime(session.createdAt)}</dd>
    <dt>updated</dt><dd>{formatTime(session.updatedAt)} · revision {session.revision}</dd>
    {session.interruption && <><dt>interrupted</dt><dd>{session.interruption.reason}{session.interruption.resumable ? ' (resumable)' : ''}</dd></>}
    {session.termination && <><dt>terminated</dt><dd>{session.termination.reason}</dd></>}
    {session.prompt && <><dt>prompt</dt><dd class="prompt">{session.prompt}</dd></>}
  </dl>
);

/** One session: summary, then its timeline, replay, raw events and worktrees as tabs (`?view=`, `?at=`, `?select=`). */
export const SessionPage = ({ id }: { id: string }) => {
  const session = useSession(id);
  const calls = useToolCalls(id);
  const events = useSessionEvents(id);
  const [params, setParams] = useSearchParams();
  const view = (VIEWS.find((v) => v.id === params.get('view'))?.id ?? 'timeline') as View;
  const update = (changes: Record<string, string | undefined>) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      for (const [k, v] of Object.entries(changes)) v === undefined ? next.delete(k) : next.set(k, v);
      return next;
    }, { replace: true });
  const runs = useMemo(() => runsFromEvents(events.data ?? []), [events.data]);
  const divergences = session.data?.divergences ?? [];

  if (session.error) {
    const notFound = session.error instanceof HttpError && session.error.status === 404;
    return (
      <>
        <h1>{id}</h1>
        <p class="error" role="alert">{notFound ? 'No such session.' : (session.error as Error).message}</p>
        <p><Link href="/">All sessions</Link></p>
      </>
    );
  }
  if (!session.data) return <p class="muted">Loading {id}…</p>;
  const s = session.data;
  const selectedKey = params.get('select') ?? undefined;
  const selectedCall = calls.data?.find((c) => rowKey({ kind: 'call', id: c.callId }) === selectedKey);
  const selectedRun = runs.find((r) => rowKey({ kind: 'run', id: r.runId }) === selectedKey);
  const head = (events.data?.length ?? 0) - 1;
  const at = params.has('at') ? Number(params.get('at')) : head;

  const onTabKey = (event: KeyboardEvent) => {
    const index = VIEWS.findIndex((v) => v.id === view);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const next = VIEWS[(index + step + VIEWS.length) % VIEWS.length];
    update({ view: next.id });
    requestAnimationFrame(() => document.getElementById(`tab-${next.id}`)?.focus());
  };

  return (
    <>
      <p class="crumbs"><Link href="/">Sessions</Link> / {s.projectId}</p>
      <h1 class="session-title">
        {s.id} <StatusBadge status={s.status} /> <NeedsYouBadge session={s} /> <SessionFlags session={s} />
      </h1>
      <Summary session={s} />
      <SessionUsagePanel id={s.id} />
      <CompletenessPanel completeness={s.completeness} onSelect={(callId) => update({ view: 'timeline', select: rowKey({ kind: 'call', id: callId }) })} />
      {s.warnings?.length ? <ul class="warnings">{s.warnings.map((w, i) => <li key={i}>⚠ {Object.values(w).filter((v) => typeof v === 'string').join(': ')}</li>)}</ul> : null}

      <div role="tablist" aria-label="session views" class="tabs" onKeyDown={onTabKey}>
        {VIEWS.map((v) => (
          <button key={v.id} type="button" role="tab" id={`tab-${v.id}`} aria-controls={`panel-${v.id}`} aria-selected={view === v.id} tabIndex={view === v.id ? 0 : -1} onClick={() => update({ view: v.id })}>
            {v.label}
          </button>
        ))}
      </div>
      <section role="tabpanel" id={`panel-${view}`} aria-labelledby={`tab-${view}`} class={`panel panel-${view}`}>
        {(calls.error || events.error) && <p class="error" role="alert">{((calls.error ?? events.error) as Error).message}</p>}
        {view === 'timeline' && calls.data && events.data && (
          <div class="timeline-layout">
            <Timeline calls={calls.data} runs={runs} divergences={divergences} selected={selectedKey} onSelect={(key) => update({ select: key })} />
            <aside class="side" aria-label="selected run or call">
              {selectedCall ? <CallDetail sessionId={id} call={selectedCall} divergences={divergences} /> : selectedRun ? <RunDetail run={selectedRun} /> : <p class="muted">Select a run or a tool call (click, or ↑/↓ in the timeline) to see its input and result.</p>}
              {divergences.length > 0 && (
                <section aria-labelledby="divergences-heading" class="divergences">
                  <h2 id="divergences-heading">Divergences</h2>
                  <ul>
                    {divergences.map((d, i) => (
                      <li key={i}>
                        <strong>{d.kind.replace(/_/g, ' ')}</strong>
                        {d.callId && <> · <button type="button" class="link" onClick={() => update({ select: rowKey({ kind: 'call', id: d.callId! }) })}>{d.callId}</button></>} · {formatTime(d.at)}
                        <div class="muted">{d.detail}</div>
                      </li>
                    ))}
                  </ul>
                </section>
              )}
            </aside>
          </div>
        )}
        {view === 'replay' && events.data && <Replay sessionId={id} events={events.data} at={Number.isInteger(at) ? at : head} onAt={(n) => update({ at: String(Math.min(Math.max(n, 0), head)) })} />}
        {view === 'events' && events.data && <EventsPanel sessionId={id} events={events.data} />}
        {view === 'worktrees' && <Worktrees worktrees={s.worktrees} />}
        {(!calls.data || !events.data) && view !== 'worktrees' && <p class="muted">Loading…</p>}
      </section>
    </>
  );
};
