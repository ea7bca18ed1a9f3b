import { type ModelPrice, sessionIdOfStream, type UsageRollupRow } from '@runledger/domain';
import { SqlExecutor, toNumber } from '../database/sql-database';
import { EventStore, READ_AT_LIMIT, RecordedEvent } from '../event-store/event-store.port';
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

/**
 * The hit an indexed event makes, less its snippet: null when its stream is not a session's or the session has no row
 * (not projected yet, or its project is gone), so it is left out as a hit without a project would be.
 */
const hitOf = (event: RecordedEvent, projects: ReadonlyMap<string, string | null>): Omit<SearchHit, 'snippet'> | null => {
  const sessionId = sessionIdOfStream(event.streamId);
  const projectId = sessionId === undefined ? null : projects.get(sessionId) ?? null;
  if (sessionId === undefined || projectId === null) return null;
  const data = (event.data ?? {}) as { callId?: unknown; at?: unknown };
  return {
    sessionId,
    projectId,
    revision: event.revision,
    globalPosition: event.globalPosition,
    type: event.type,
    ...(typeof data.callId === 'string' ? { callId: data.callId } : {}),
    at: typeof data.at === 'string' ? data.at : '',
  };
};

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

/** Reads of the usage rollup and the search index (usage-search.projection.ts): no fold; usage one query, a search a page of matches at a time. */
export class UsageSearchQueries {
  constructor(private readonly db: SqlExecutor, private readonly store: EventStore) {}

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
   * `limit`, with a snippet cut from each event as stored (redacted before append, invariant 12). The index holds the
   * text and the global position only: a hit's session, revision, type, call and time are read from its event through
   * the event-store port (`readAt`), its project from the session's row, a page of matches at a time until `limit`
   * hits pass the filters or the matches run out.
   */
  async search(filter: SearchFilter): Promise<SearchHit[]> {
    const query = searchable(filter.query);
    const hits: Omit<SearchHit, 'snippet'>[] = [];
    const projects = new Map<string, string | null>();
    let before = filter.before ?? null;
    // Pages of matches grow (twice the hits still wanted, then doubling) so a filter that keeps few of them costs a few
    // round trips, not one per hit; every page stays within readAt's limit.
    let page = Math.min(READ_AT_LIMIT, Math.max(16, 2 * filter.limit));
    while (hits.length < filter.limit) {
      const positions = await this.matches(query, before, page);
      if (positions.length === 0) break;
      const events = await this.store.readAt(positions);
      await this.learnProjects(events, projects);
      for (const event of events.sort((a, b) => b.globalPosition - a.globalPosition)) {
        const hit = hitOf(event, projects);
        if (hit === null || (filter.projectId !== undefined && hit.projectId !== filter.projectId)) continue;
        if (filter.since !== undefined && hit.at < filter.since) continue;
        hits.push(hit);
        if (hits.length === filter.limit) break;
      }
      if (positions.length < page) break;
      before = positions[positions.length - 1];
      page = Math.min(READ_AT_LIMIT, page * 2);
    }
    const snippets = await this.snippets(query, hits.map((h) => h.globalPosition));
    return hits.map((h) => ({ ...h, snippet: unsearchable(snippets.get(h.globalPosition) ?? '') }));
  }

  /** Global positions of the events whose text matches `query`, below `before` (null: any), newest first, at most `limit`. */
  private async matches(query: string, before: number | null, limit: number): Promise<number[]> {
    // The matches are gathered through the GIN index first (MATERIALIZED: given ORDER BY … LIMIT, the planner may
    // otherwise walk the primary key backwards and parse every row's text), then the newest kept.
    const { rows } = await this.db.query<{ global_position: string | number }>(
      `WITH matches AS MATERIALIZED (
         SELECT global_position FROM rl_rm_search
         WHERE to_tsvector('${SEARCH_CONFIG}', body) @@ websearch_to_tsquery('${SEARCH_CONFIG}', $1) AND ($2::bigint IS NULL OR global_position < $2)
       )
       SELECT global_position FROM matches ORDER BY global_position DESC LIMIT $3`,
      [query, before, limit],
    );
    return rows.map((r) => toNumber(r.global_position));
  }

  /** Adds to `projects` the project of each session stream of `events` not in it yet (null: the session has no row). */
  private async learnProjects(events: readonly RecordedEvent[], projects: Map<string, string | null>): Promise<void> {
    const unknown = [...new Set(events.map((e) => sessionIdOfStream(e.streamId)).filter((id): id is string => id !== undefined && !projects.has(id)))];
    if (unknown.length === 0) return;
    const { rows } = await this.db.query<{ session_id: string; project_id: string }>(
      'SELECT session_id, project_id FROM rl_rm_sessions WHERE session_id = ANY ($1::text[])',
      [unknown],
    );
    for (const id of unknown) projects.set(id, null);
    for (const row of rows) projects.set(row.session_id, row.project_id);
  }

  /** The `ts_headline` snippet of each of `positions` for `query`, keyed by global position. */
  private async snippets(query: string, positions: readonly number[]): Promise<Map<number, string>> {
    if (positions.length === 0) return new Map();
    const { rows } = await this.db.query<{ global_position: string | number; snippet: string }>(
      `SELECT global_position, ts_headline('${SEARCH_CONFIG}', body, websearch_to_tsquery('${SEARCH_CONFIG}', $1),
         'StartSel=${SNIPPET_MARKS.start}, StopSel=${SNIPPET_MARKS.stop}, MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "') AS snippet
       FROM rl_rm_search WHERE global_position = ANY ($2::bigint[])`,
      [query, [...positions]],
    );
    return new Map(rows.map((r) => [toNumber(r.global_position), r.snippet]));
  }
}
