import { keepPreviousData, useQuery } from '@tanstack/preact-query';
import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import type { SessionUsage, UsageReport, UsageTotals } from '@runledger/domain/usage/usage.view';
import { get } from '../api/http';
import { formatTime } from '../lib/format';

/** One search hit of `GET /search` (libs/infra/src/read-models/usage-search.queries.ts). */
interface SearchHit {
  sessionId: string;
  revision: number;
  type: string;
  callId?: string;
  at: string;
  snippet: string;
}

const n = (value: number): string => value.toLocaleString('en-US');
/** `$0.0123`, or `n/a` with the models that have no price (never a guess). */
const cost = (t: UsageTotals): string => (t.costUsd === null ? `n/a (no price for ${(t.unpricedModels ?? []).join(', ')})` : `$${t.costUsd.toFixed(4)}`);

const TotalsCells = ({ t }: { t: UsageTotals }) => (
  <>
    <td>{n(t.calls)}</td>
    <td>{n(t.inputTokens)}</td>
    <td>{n(t.outputTokens)}</td>
    <td>{n(t.cacheReadTokens)}</td>
    <td>{n(t.cacheCreationTokens)}</td>
    <td>{cost(t)}</td>
  </>
);
const HEAD = ['model calls', 'input', 'output', 'cache read', 'cache creation', 'cost'];

/** A session's tokens and cost (GET /sessions/:id/usage): the session with its sub-agents, then each run. Refreshed with the session's page. */
export const SessionUsagePanel = ({ id }: { id: string }) => {
  const usage = useQuery({ queryKey: ['session', id, 'usage'], queryFn: () => get<SessionUsage>(`/sessions/${encodeURIComponent(id)}/usage`) });
  if (!usage.data || usage.data.calls === 0) return null;
  const u = usage.data;
  return (
    <details class="usage">
      <summary>Usage: {n(u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheCreationTokens)} tokens · {cost(u)}</summary>
      <table class="usage">
        <thead><tr><th scope="col" /> {HEAD.map((h) => <th key={h} scope="col">{h}</th>)}</tr></thead>
        <tbody>
          <tr><th scope="row">session (sub-agents included)</th><TotalsCells t={u} /></tr>
          {u.runs.map((r) => (
            <tr key={`${r.runId}:${r.subagent ?? ''}`}><th scope="row">{r.subagent ? `sub-agent ${r.subagent}` : `run ${r.runId ?? '–'}`}</th><TotalsCells t={r} /></tr>
          ))}
        </tbody>
      </table>
      <p class="muted">Prices of {u.prices.effective}{u.prices.projectOverrides.length ? `; the project's own for ${u.prices.projectOverrides.join(', ')}` : ''}.</p>
    </details>
  );
};

/** A project's usage per day (GET /usage?projectId=&groupBy=day). */
export const ProjectUsage = ({ projectId }: { projectId: string }) => {
  const report = useQuery({ queryKey: ['usage', projectId], queryFn: () => get<UsageReport>(`/usage?projectId=${encodeURIComponent(projectId)}&groupBy=day`) });
  if (!report.data || report.data.calls === 0) return null;
  return (
    <section aria-labelledby="usage-heading" class="usage">
      <h2 id="usage-heading">Usage of {projectId}</h2>
      <table class="usage">
        <thead><tr><th scope="col">day</th>{HEAD.map((h) => <th key={h} scope="col">{h}</th>)}</tr></thead>
        <tbody>
          {report.data.groups.map((g) => <tr key={g.key}><th scope="row">{g.key}</th><TotalsCells t={g} /></tr>)}
          <tr><th scope="row">total</th><TotalsCells t={report.data} /></tr>
        </tbody>
      </table>
    </section>
  );
};

/** A snippet with its matched words (between « and ») marked; the text itself is never HTML. */
const Snippet = ({ text }: { text: string }) => (
  <span class="snippet">{text.split(/(«[^»]*»)/).map((part, i) => (part.startsWith('«') && part.endsWith('»') ? <mark key={i}>{part.slice(1, -1)}</mark> : part))}</span>
);

/** Full-text search over every session (GET /search): prompts, tool inputs and outputs, divergences, as stored (redacted). */
export const SearchBox = ({ projectId }: { projectId?: string }) => {
  const [q, setQ] = useState('');
  const [submitted, setSubmitted] = useState('');
  const path = `/search?q=${encodeURIComponent(submitted)}${projectId ? `&projectId=${encodeURIComponent(projectId)}` : ''}`;
  const hits = useQuery({ queryKey: ['search', submitted, projectId ?? ''], queryFn: () => get<{ hits: SearchHit[]; nextCursor?: number }>(path), enabled: submitted.trim() !== '', placeholderData: keepPreviousData });
  return (
    <section aria-labelledby="search-heading" class="search">
      <h2 id="search-heading" class="visually-hidden">Search the log</h2>
      <form role="search" aria-label="search every session's log" onSubmit={(e) => (e.preventDefault(), setSubmitted(q))}>
        <label class="grow">
          Search the log
          <input type="search" placeholder='words, "a phrase", -excluded' value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      {hits.error && <p class="error" role="alert">{(hits.error as Error).message}</p>}
      {submitted && hits.data && (
        <ol class="hits" aria-live="polite">
          {hits.data.hits.length === 0 && <li class="muted">No hits.</li>}
          {hits.data.hits.map((h) => (
            <li key={`${h.sessionId}@${h.revision}`}>
              <Link href={`/sessions/${encodeURIComponent(h.sessionId)}?view=events`}>{h.sessionId}@{h.revision}</Link> <span class="muted">{h.type}{h.callId ? ` ${h.callId}` : ''} · {formatTime(h.at)}</span>
              <div><Snippet text={h.snippet} /></div>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
};
