import { useMemo } from 'preact/hooks';
import { Link, useSearchParams } from 'wouter-preact';
import { useProjects, useSessions } from '../api/queries';
import type { SessionSnapshot } from '../api/types';
import { formatTime } from '../lib/format';
import { NeedsYouBadge, SessionFlags, StatusBadge, healthFlags } from '../session/badges';
import { ProjectUsage, SearchBox } from '../usage/usage';

/** Session statuses offered by the filter even before a session has them. */
const STATUSES = ['starting', 'running', 'exited', 'interrupted', 'retiring', 'terminated'];

/** `3/5 done · 1 failed · 1 interrupted` */
const callsText = (counts: SessionSnapshot['toolCalls']): string =>
  [`${counts.completed + counts.failed}/${counts.total} done`, counts.failed ? `${counts.failed} failed` : '', counts.interrupted ? `${counts.interrupted} interrupted` : '', counts.dispatched ? `${counts.dispatched} in flight` : '']
    .filter(Boolean)
    .join(' · ');

/** Filters of the list, kept in the page's query string so a filtered view can be linked. */
interface Filters {
  project: string;
  status: string;
  kind: string;
  flag: string;
  q: string;
}

const matches = (s: SessionSnapshot, f: Filters): boolean =>
  (!f.project || s.projectId === f.project) &&
  (!f.status || s.status === f.status) &&
  (!f.kind || s.kind === f.kind) &&
  (!f.flag || (f.flag === 'flagged' ? healthFlags(s.health).length > 0 || Boolean(s.divergences?.length) : s.activity === f.flag)) &&
  (!f.q || [s.id, s.branch, s.agent, s.prompt ?? ''].some((v) => v.toLowerCase().includes(f.q.toLowerCase())));

/** Projects and their sessions: status, activity and health flags, the orchestrator marked, with filters. */
export const SessionsPage = () => {
  const projects = useProjects();
  const sessions = useSessions();
  const [params, setParams] = useSearchParams();
  const filters: Filters = { project: params.get('project') ?? '', status: params.get('status') ?? '', kind: params.get('kind') ?? '', flag: params.get('flag') ?? '', q: params.get('q') ?? '' };
  const set = (name: keyof Filters, value: string) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      if (value) next.set(name, value);
      else next.delete(name);
      return next;
    }, { replace: true });
  const all = sessions.data ?? [];
  const shown = useMemo(() => all.filter((s) => matches(s, filters)).sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0)), [all, filters.project, filters.status, filters.kind, filters.flag, filters.q]);
  const statuses = [...new Set([...STATUSES, ...all.map((s) => s.status)])];
  const activities = [...new Set(all.map((s) => s.activity).filter((a): a is NonNullable<typeof a> => Boolean(a)))];

  return (
    <>
      <h1>Sessions</h1>
      <section aria-labelledby="projects-heading" class="projects">
        <h2 id="projects-heading">Projects</h2>
        {projects.error && <p class="error" role="alert">{(projects.error as Error).message}</p>}
        {projects.data?.length === 0 && <p class="muted">No project yet: <code>POST /api/v1/projects</code> registers one.</p>}
        <ul class="project-list">
          {projects.data?.map((p) => {
            const own = all.filter((s) => s.projectId === p.id);
            const orchestrator = own.find((s) => s.kind === 'orchestrator' && s.status !== 'terminated');
            const selected = filters.project === p.id;
            return (
              <li key={p.id}>
                <button type="button" class={`project${selected ? ' selected' : ''}`} aria-pressed={selected} onClick={() => set('project', selected ? '' : p.id)}>
                  <strong>{p.name}</strong> <span class="muted">{p.id} · {p.kind}</span>
                  <span class="counts">{own.length} session{own.length === 1 ? '' : 's'} · {own.filter((s) => s.status === 'running').length} running</span>
                  {orchestrator && <span class="badge orchestrator">★ {orchestrator.id}</span>}
                </button>
              </li>
            );
          })}
        </ul>
      </section>

      <SearchBox {...(filters.project ? { projectId: filters.project } : {})} />
      {filters.project && <ProjectUsage projectId={filters.project} />}

      <section aria-labelledby="sessions-heading">
        <h2 id="sessions-heading" class="visually-hidden">Session list</h2>
        <form class="filters" role="search" aria-label="filter sessions" onSubmit={(e) => e.preventDefault()}>
          <label>
            Project
            <select value={filters.project} onChange={(e) => set('project', (e.target as HTMLSelectElement).value)}>
              <option value="">all</option>
              {projects.data?.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
            </select>
          </label>
          <label>
            Status
            <select value={filters.status} onChange={(e) => set('status', (e.target as HTMLSelectElement).value)}>
              <option value="">all</option>
              {statuses.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </label>
          <label>
            Kind
            <select value={filters.kind} onChange={(e) => set('kind', (e.target as HTMLSelectElement).value)}>
              <option value="">all</option>
              <option value="orchestrator">orchestrator</option>
              <option value="worker">worker</option>
            </select>
          </label>
          <label>
            Activity / health
            <select value={filters.flag} onChange={(e) => set('flag', (e.target as HTMLSelectElement).value)}>
              <option value="">all</option>
              <option value="flagged">flagged (health, divergences)</option>
              {activities.map((a) => <option key={a} value={a}>{a.replace(/_/g, ' ')}</option>)}
            </select>
          </label>
          <label class="grow">
            Search
            <input type="search" placeholder="id, branch, agent, prompt" value={filters.q} onInput={(e) => set('q', (e.target as HTMLInputElement).value)} />
          </label>
        </form>
        {sessions.error && <p class="error" role="alert">{(sessions.error as Error).message}</p>}
        <p class="muted" aria-live="polite">{sessions.isLoading ? 'Loading sessions…' : `${shown.length} of ${all.length} sessions`}</p>
        {shown.length > 0 && (
          <table class="sessions">
            <thead>
              <tr>
                <th scope="col">Session</th>
                <th scope="col">Project</th>
                <th scope="col">Status</th>
                <th scope="col">Flags</th>
                <th scope="col">Agent</th>
                <th scope="col">Tool calls</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((s) => (
                <tr key={s.id} data-session={s.id} class={s.kind === 'orchestrator' ? 'orchestrator-row' : undefined}>
                  <th scope="row" data-label="Session"><Link href={`/sessions/${encodeURIComponent(s.id)}`}>{s.id}</Link></th>
                  <td data-label="Project">{s.projectId}</td>
                  <td data-label="Status"><StatusBadge status={s.status} /></td>
                  <td data-label="Flags"><NeedsYouBadge session={s} /><SessionFlags session={s} /></td>
                  <td data-label="Agent">{s.agent}{s.status === 'running' && s.runtime?.alive === false ? <span class="badge health" title="the recorded runtime is not running">runtime gone</span> : null}</td>
                  <td data-label="Tool calls">{callsText(s.toolCalls)}</td>
                  <td data-label="Updated"><time dateTime={s.updatedAt}>{formatTime(s.updatedAt)}</time></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
};
