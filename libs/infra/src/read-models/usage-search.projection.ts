import type { Session, UsageRecorded } from '@runledger/domain';
import { Migration } from '../database/migrations';
import { SqlExecutor } from '../database/sql-database';
import { RecordedEvent } from '../event-store/event-store.port';

/*
 * Two read models the session projection keeps beside its snapshots (docs/ARCHITECTURE.md §4g), derived from the log
 * like every rl_rm_* table (invariant 8):
 * - rl_rm_usage: tokens per session, UTC day, run, sub-agent and model, summed from UsageRecorded (cost is computed
 *   when read, from the price table in force, so a price change never needs a rebuild);
 * - rl_rm_search: the searchable text of each event that has one (prompts, tool inputs and outputs, divergences, file
 *   paths), as stored (redacted before append, invariant 12), keyed by the event's global position, under an expression
 *   GIN index of its tsvector, and nothing else: a hit's session, revision, type, call and time are read from its event
 *   through the event-store port (EventStore.readAt), its project from the session's row, for the hits shown only. Measured (bench/usage-search): a stored
 *   tsvector of short tool texts is about twice the text, so text plus an expression index is the smaller index (about
 *   275 bytes per event against 500); the hit's columns copied beside the text were another ~75 bytes per event (1.29×
 *   the events' own data at 1,000,000 events, against a target of 1×), so migration 41 dropped them.
 */

/** Schema of the usage rollup and the search index; version 40 leaves room for the other read models' migrations. */
export const usageSearchMigration: Migration = {
  version: 40,
  name: 'read models: usage rollup and full-text search',
  sql: `
CREATE TABLE rl_rm_usage (
  session_id            text NOT NULL,
  project_id            text NOT NULL,
  day                   text NOT NULL,
  run_id                text NOT NULL,
  subagent              text NOT NULL,
  model                 text NOT NULL,
  calls                 bigint NOT NULL,
  input_tokens          bigint NOT NULL,
  output_tokens         bigint NOT NULL,
  cache_read_tokens     bigint NOT NULL,
  cache_creation_tokens bigint NOT NULL,
  PRIMARY KEY (session_id, day, run_id, subagent, model)
)
--;
CREATE INDEX rl_rm_usage_project_day ON rl_rm_usage (project_id, day)
--;
CREATE TABLE rl_rm_search (
  global_position bigint PRIMARY KEY,
  session_id      text NOT NULL,
  project_id      text NOT NULL,
  revision        bigint NOT NULL,
  type            text NOT NULL,
  call_id         text,
  at              text,
  body            text NOT NULL
)
--;
CREATE INDEX rl_rm_search_document ON rl_rm_search USING gin (to_tsvector('simple', body))
`,
};

/**
 * rl_rm_search without the hit's columns (session, project, revision, type, call, time: read from the event and the
 * session's row when a page of hits is shown). The primary key stays although it is 12 % of the table's bytes: a run
 * without it (bench/usage-search, 1,000,000 events) stored 196,950 documents twice, so some batches do reach the
 * insert twice and `ON CONFLICT (global_position) DO NOTHING` is what keeps one document per event. Its leaves are packed full (`fillfactor = 100`) and a batch's
 * rows are inserted in position order (a batch holds them session by session): keys then only ever land at the right
 * edge, where a page split leaves the full page as it is (in session order, middle splits left the key's pages about
 * half empty, 37 MB for 1,010,196 keys at 1,000,000 events). The search rows are written by the session projection with the other
 * read models, so all of them are emptied with its checkpoint and rebuilt from the log (as migration 6 does).
 */
export const searchTextOnlyMigration: Migration = {
  version: 41,
  name: 'read models: the search index keeps the text and the global position only',
  sql: `
TRUNCATE rl_rm_projects, rl_rm_sessions, rl_rm_worktrees, rl_rm_tool_calls, rl_rm_dead_letters, rl_rm_custody_worktrees, rl_rm_usage
--;
DELETE FROM rl_checkpoints WHERE subscription_id = 'read-models'
--;
DROP TABLE rl_rm_search
--;
CREATE TABLE rl_rm_search (
  global_position bigint PRIMARY KEY WITH (fillfactor = 100),
  body            text NOT NULL
)
--;
CREATE INDEX rl_rm_search_document ON rl_rm_search USING gin (to_tsvector('simple', body))
`,
};

/** The read-model tables of this file (truncated and rebuilt with the others). */
export const USAGE_SEARCH_TABLES = ['rl_rm_usage', 'rl_rm_search'] as const;

/** The text search configuration of the index (its expression names it literally) and of every query: `simple` (no stemming, no stop words), so commands, flags and paths match as written. */
export const SEARCH_CONFIG = 'simple';

/** Longest text indexed per event (characters): a tsvector holds at most 1 MiB, and a tool's output can be larger. */
export const MAX_SEARCH_TEXT = 200_000;

/** Usage and search rows gathered from the events of a batch, written by writeLedgerRows. */
export interface LedgerRows {
  usage: Map<string, UsageRow>;
  search: SearchRow[];
}

interface UsageRow {
  session_id: string;
  project_id: string;
  day: string;
  run_id: string;
  subagent: string;
  model: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
}

interface SearchRow {
  global_position: number;
  body: string;
}

/** Empty rows. */
export const ledgerRows = (): LedgerRows => ({ usage: new Map(), search: [] });

/** Every string of a JSON value (keys left out), in order, joined by newlines; stops past MAX_SEARCH_TEXT. */
const stringsOf = (value: unknown, out: string[] = [], budget = { left: MAX_SEARCH_TEXT }): string[] => {
  if (budget.left <= 0) return out;
  if (typeof value === 'string') {
    out.push(value.slice(0, budget.left));
    budget.left -= value.length;
  } else if (typeof value === 'number' || typeof value === 'boolean') out.push(String(value));
  else if (Array.isArray(value)) for (const item of value) stringsOf(item, out, budget);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) stringsOf(item, out, budget);
  return out;
};

/**
 * The searchable text of a session event as stored, or null for an event that holds none: a run's prompt, a tool call's
 * name and input, a result's output and error, a divergence's kind and detail, the paths a file snapshot names.
 */
export const searchTextOf = (type: string, data: unknown): string | null => {
  const d = (data ?? {}) as Record<string, unknown>;
  let parts: unknown[];
  switch (type) {
    case 'AgentRunStarted':
      parts = [d.prompt];
      break;
    case 'ToolCallDispatched':
      parts = [d.tool, d.input];
      break;
    case 'ToolCallCompleted':
    case 'ToolCallFailed':
    case 'ToolCallLateResultRecorded':
      parts = [d.output, d.error];
      break;
    case 'DivergenceDetected':
      parts = [d.kind, d.detail];
      break;
    case 'FilesSnapshotted':
      parts = [Array.isArray(d.changed) ? d.changed.map((c) => (c as { path?: unknown } | null)?.path) : undefined];
      break;
    default:
      return null;
  }
  const text = stringsOf(parts).join('\n').slice(0, MAX_SEARCH_TEXT);
  return text.trim() === '' ? null : searchable(text);
};

/**
 * Text as the index and every query read it: each run of `/` or `\` set apart by spaces. PostgreSQL's parser reads
 * `https://host/a/b` and `/src/app.ts` as one URL or file token, so a word inside a path or URL would never match
 * alone; apart, `src/app.ts` matches `app.ts`, `src app.ts` and `src/app.ts`. `unsearchable` undoes it in a snippet.
 */
export const searchable = (text: string): string => text.replace(/[/\\]+/g, (run) => ` ${run} `);

/** A snippet cut from `searchable` text, its separators closed up again as stored. */
export const unsearchable = (snippet: string): string => snippet.replace(/ ([/\\]+) /g, '$1');

/** Adds the rows `applied` (events of one session, folded into `state`) give: usage sums and search documents. */
export const addLedgerRows = (rows: LedgerRows, state: Session, applied: readonly RecordedEvent[]): void => {
  for (const event of applied) {
    const data = event.data as Record<string, unknown> | null;
    if (event.type === 'UsageRecorded') {
      const u = data as unknown as UsageRecorded["data"];
      const row: UsageRow = {
        session_id: state.sessionId,
        project_id: state.projectId,
        day: typeof u.at === 'string' ? u.at.slice(0, 10) : '',
        run_id: u.runId ?? '',
        subagent: u.subagent ?? '',
        model: u.model ?? '',
        calls: 0,
        input_tokens: 0,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_creation_tokens: 0,
      };
      const key = JSON.stringify([row.session_id, row.day, row.run_id, row.subagent, row.model]);
      const sum = rows.usage.get(key) ?? row;
      sum.calls += 1;
      sum.input_tokens += count(u.inputTokens);
      sum.output_tokens += count(u.outputTokens);
      sum.cache_read_tokens += count(u.cacheReadTokens);
      sum.cache_creation_tokens += count(u.cacheCreationTokens);
      rows.usage.set(key, sum);
      continue;
    }
    const text = searchTextOf(event.type, data);
    if (text === null) continue;
    rows.search.push({ global_position: event.globalPosition, body: text });
  }
};

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.trunc(v) : 0);

/** Writes the gathered rows: usage sums added to the stored ones, search documents inserted (a re-delivery cannot reach here: the projector folds only events past the stored revision). */
export const writeLedgerRows = async (tx: SqlExecutor, rows: LedgerRows): Promise<void> => {
  if (rows.usage.size > 0) {
    await tx.query(
      `INSERT INTO rl_rm_usage (session_id, project_id, day, run_id, subagent, model, calls, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens)
       SELECT session_id, project_id, day, run_id, subagent, model, calls, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens
       FROM jsonb_to_recordset($1::jsonb) AS u(session_id text, project_id text, day text, run_id text, subagent text, model text, calls bigint,
         input_tokens bigint, output_tokens bigint, cache_read_tokens bigint, cache_creation_tokens bigint)
       ON CONFLICT (session_id, day, run_id, subagent, model) DO UPDATE SET
         calls = rl_rm_usage.calls + EXCLUDED.calls,
         input_tokens = rl_rm_usage.input_tokens + EXCLUDED.input_tokens,
         output_tokens = rl_rm_usage.output_tokens + EXCLUDED.output_tokens,
         cache_read_tokens = rl_rm_usage.cache_read_tokens + EXCLUDED.cache_read_tokens,
         cache_creation_tokens = rl_rm_usage.cache_creation_tokens + EXCLUDED.cache_creation_tokens`,
      [JSON.stringify([...rows.usage.values()])],
    );
  }
  if (rows.search.length > 0) {
    await tx.query(
      `INSERT INTO rl_rm_search (global_position, body)
       SELECT global_position, body FROM jsonb_to_recordset($1::jsonb) AS s(global_position bigint, body text)
       ORDER BY global_position
       ON CONFLICT (global_position) DO NOTHING`,
      [JSON.stringify(rows.search)],
    );
  }
  rows.usage.clear();
  rows.search.length = 0;
};
