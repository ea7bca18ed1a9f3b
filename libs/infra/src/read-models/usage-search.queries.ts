import type { ModelPrice, UsageRollupRow } from '@runledger/domain';
import { SqlExecutor, toNumber } from '../database/sql-database';
import { SEARCH_CONFIG, searchable, unsearchable } from './usage-search.projection';

/** A session's usage rows with what pricing them needs: its project and that project's own prices (null: the session is not projected). */
export interface SessionUsageRows {
  projectId: string;
  prices?: Record<string, ModelPrice>;
  rows: UsageRollupRow[];
}

/** Filters of `GET /usage`: a project, calls on or after a UTC day. */
export interface UsageFilter {
  projectId?: string;
  /** `YYYY-MM-DD` (UTC day, inclusive). */
  sinceDay?: string;
}

/** Filters and page of `GET /search`. */
export interface SearchFilter {
  query: string;
  projectId?: string;
  /** ISO-8601: only events at or after it. */
  since?: string;
  /** Only hits older than this global position (the previous page's `nextCursor`). */
  before?: number;
  limit: number;
}

/** One search hit: where the event is (session, revision, call) and a snippet with the matched words between « and ». */
export interface SearchHit {
  sessionId: string;
  projectId: string;
  revision: number;
  globalPosition: number;
  type: string;
  callId?: string;
  at: string;
  snippet: string;
}

/** Marks around a matched word in a snippet (plain text, never HTML: the web page escapes the snippet, then marks these). */
export const SNIPPET_MARKS = { start: '«', stop: '»' } as const;

interface UsageDbRow {
  session_id: string;
  project_id: string;
  day: string;
  run_id: string;
  subagent: string;
  model: string;
  calls: string | number;
  input_tokens: string | number;
  output_tokens: string | number;
  cache_read_tokens: string | number;
  cache_creation_tokens: string | number;
}

const toRow = (r: UsageDbRow): UsageRollupRow => ({
  sessionId: r.session_id,
  projectId: r.project_id,
  day: r.day,
  runId: r.run_id === '' ? null : r.run_id,
  subagent: r.subagent === '' ? null : r.subagent,
  model: r.model === '' ? null : r.model,
  calls: toNumber(r.calls),
  inputTokens: toNumber(r.input_tokens),
  outputTokens: toNumber(r.output_tokens),
  cacheReadTokens: toNumber(r.cache_read_tokens),
  cacheCreationTokens: toNumber(r.cache_creation_tokens),
});

/** Reads of the usage rollup and the search index (usage-search.projection.ts): one query each, no fold. */
export class UsageSearchQueries {
  constructor(private readonly db: SqlExecutor) {}

  /** A session's usage rows, its project and the project's prices, in one query; null when the session has no snapshot. */
  async sessionUsage(sessionId: string): Promise<SessionUsageRows | null> {
    const { rows } = await this.db.query<Partial<UsageDbRow> & { sid: string; pid: string; prices: Record<string, ModelPrice> | null }>(
      `SELECT s.session_id AS sid, s.project_id AS pid, p.state->'prices' AS prices, u.*
       FROM rl_rm_sessions s
       LEFT JOIN rl_rm_projects p ON p.project_id = s.project_id
       LEFT JOIN rl_rm_usage u ON u.session_id = s.session_id
       WHERE s.session_id = $1
       ORDER BY u.day, u.run_id, u.subagent, u.model`,
      [sessionId],
    );
    if (rows.length === 0) return null;
    const first = rows[0];
    return {
      projectId: first.pid,
      ...(first.prices ? { prices: first.prices } : {}),
      rows: rows.filter((r) => r.session_id !== null && r.session_id !== undefined).map((r) => toRow(r as UsageDbRow)),
    };
  }

  /** Usage rows matching `filter`, ordered by day, session, run, sub-agent and model. */
  async usageRows(filter: UsageFilter): Promise<UsageRollupRow[]> {
    const { rows } = await this.db.query<UsageDbRow>(
      `SELECT * FROM rl_rm_usage
       WHERE ($1::text IS NULL OR project_id = $1) AND ($2::text IS NULL OR day >= $2)
       ORDER BY day, session_id, run_id, subagent, model`,
      [filter.projectId ?? null, filter.sinceDay ?? null],
    );
    return rows.map(toRow);
  }

  /** Each project's own prices (ProjectConfig.prices), for the projects named. */
  async projectPrices(projectIds: readonly string[]): Promise<Map<string, Record<string, ModelPrice>>> {
    const out = new Map<string, Record<string, ModelPrice>>();
    if (projectIds.length === 0) return out;
    const { rows } = await this.db.query<{ project_id: string; prices: Record<string, ModelPrice> | null }>(
      `SELECT project_id, state->'prices' AS prices FROM rl_rm_projects WHERE project_id = ANY($1::text[])`,
      [[...projectIds]],
    );
    for (const row of rows) if (row.prices) out.set(row.project_id, row.prices);
    return out;
  }

  /**
   * Hits of `filter.query` (web-search syntax: words AND-ed, "a phrase", -word, or), newest first (log order), at most
   * `limit`, with a snippet cut from each event as stored (redacted before append, invariant 12).
   */
  async search(filter: SearchFilter): Promise<SearchHit[]> {
    // The matches are gathered through the GIN index first (MATERIALIZED: given ORDER BY … LIMIT, the planner may
    // otherwise walk the primary key backwards and parse every row's text), then filtered and the newest kept.
    const { rows } = await this.db.query<{
      global_position: string | number; session_id: string; project_id: string; revision: string | number; type: string; call_id: string | null; at: string | null; snippet: string;
    }>(
      `WITH matches AS MATERIALIZED (
         SELECT global_position FROM rl_rm_search
         WHERE to_tsvector('${SEARCH_CONFIG}', body) @@ websearch_to_tsquery('${SEARCH_CONFIG}', $1) AND ($4::bigint IS NULL OR global_position < $4)
       )
       SELECT s.global_position, s.session_id, s.project_id, s.revision, s.type, s.call_id, s.at,
         ts_headline('${SEARCH_CONFIG}', s.body, websearch_to_tsquery('${SEARCH_CONFIG}', $1),
           'StartSel=${SNIPPET_MARKS.start}, StopSel=${SNIPPET_MARKS.stop}, MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "') AS snippet
       FROM (
         SELECT s.* FROM matches m JOIN rl_rm_search s ON s.global_position = m.global_position
         WHERE ($2::text IS NULL OR s.project_id = $2) AND ($3::text IS NULL OR s.at >= $3)
         ORDER BY s.global_position DESC LIMIT $5
       ) s
       ORDER BY s.global_position DESC`,
      [searchable(filter.query), filter.projectId ?? null, filter.since ?? null, filter.before ?? null, filter.limit],
    );
    return rows.map((r) => ({
      sessionId: r.session_id,
      projectId: r.project_id,
      revision: toNumber(r.revision),
      globalPosition: toNumber(r.global_position),
      type: r.type,
      ...(r.call_id !== null ? { callId: r.call_id } : {}),
      at: r.at ?? '',
      snippet: unsearchable(r.snippet),
    }));
  }
}
