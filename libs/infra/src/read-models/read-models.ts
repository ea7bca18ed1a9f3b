import type { HeldWorktree, ProjectSummary, ProjectView, RegisteredProject, SessionKind, SessionRuntime, SessionStatus, SessionView, ToolCallView } from '@runledger/domain';
import { custodyDisplayState } from '@runledger/domain';
import { SqlExecutor, toNumber } from '../database/sql-database';
import { loadCheckpoint } from '../event-store/checkpoint-store';
import { Checkpoint } from '../event-store/event-store.port';
import { READ_MODELS_SUBSCRIPTION } from './projection-checkpoint';

/** Filters of `GET /sessions` (docs/ARCHITECTURE.md §5); each one given narrows the list (AND). */
export interface SessionFilter {
  projectId?: string;
  status?: SessionStatus;
  kind?: SessionKind;
  agentSessionId?: string;
}

/** A session's snapshot revision, to compare with its stream's head (lag detection, invariant 8). */
export interface SessionRevision {
  sessionId: string;
  revision: number;
}

/** A session's worktree record joined with what the reaper needs of its session (docs/ARCHITECTURE.md §4b). */
export interface WorktreeRecordRow {
  sessionId: string;
  projectId: string;
  repo: string;
  path: string;
  branch: string;
  state: string;
  preservedRef: string | null;
  stranded: boolean;
  strandedReason: string | null;
  sessionStatus: SessionStatus;
}

/** What the reaper needs to know of a session that may own a worktree: status, runtime, when it terminated. */
export interface SessionOwnerRow {
  sessionId: string;
  projectId: string;
  status: SessionStatus;
  runtime: SessionRuntime | null;
  restoring: boolean;
  terminatedAt: string | null;
}

/** One line of `GET /worktrees`: a session's record, or a path runledger holds (orphan, Claude Code worktree). */
export interface WorktreeListItem {
  path: string;
  source: 'record' | 'custody';
  /** Record: the worktree status (`active`, `unavailable`, …). Custody: `orphan`, `stranded`, `active`, `removed`, `released`. */
  state: string;
  stranded: boolean;
  /** The rule that decided the state (custody), or the stranded reason (record). */
  rule?: string;
  detail?: string;
  sessionId?: string;
  projectId?: string;
  repo?: string;
  branch?: string;
  preservedRef?: string;
  origin?: string;
  updatedAt?: string;
}

/**
 * Queries over the read-model tables (rows written by projectBatch). Snapshots may trail the log by the projection's
 * lag; `revision` on each says how far it got. Never returns project config in lists, nor any env value (invariant 12).
 */
export class ReadModels {
  constructor(private readonly db: SqlExecutor) {}

  /** The snapshot of one session, or null when unknown (or not projected yet). */
  async getSession(sessionId: string): Promise<SessionView | null> {
    const { rows } = await this.db.query<{ view: SessionView }>('SELECT view FROM rl_rm_sessions WHERE session_id = $1', [sessionId]);
    return rows[0]?.view ?? null;
  }

  /** Session snapshots matching `filter`, ordered by creation time then id. */
  async listSessions(filter: SessionFilter = {}): Promise<SessionView[]> {
    const columns: [keyof SessionFilter, string][] = [
      ['projectId', 'project_id'],
      ['status', 'status'],
      ['kind', 'kind'],
      ['agentSessionId', 'agent_session_id'],
    ];
    const params: unknown[] = [];
    const where: string[] = [];
    for (const [field, column] of columns) {
      const value = filter[field];
      if (value === undefined) continue;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    }
    const { rows } = await this.db.query<{ view: SessionView }>(
      `SELECT view FROM rl_rm_sessions ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, session_id`,
      params,
    );
    return rows.map((row) => row.view);
  }

  /** One project with env values masked (invariant 12), or null when unknown. */
  async getProject(projectId: string): Promise<ProjectView | null> {
    const { rows } = await this.db.query<{ view: ProjectView }>('SELECT view FROM rl_rm_projects WHERE project_id = $1', [projectId]);
    return rows[0]?.view ?? null;
  }

  /** Every project as a narrow summary (no repos, config or env: invariant 12), ordered by registration time then id. */
  async listProjects(): Promise<ProjectSummary[]> {
    const { rows } = await this.db.query<{ summary: ProjectSummary }>(
      `SELECT summary FROM rl_rm_projects ORDER BY view->>'registeredAt', project_id`,
    );
    return rows.map((row) => row.summary);
  }

  /**
   * When the oldest observed call still without a result was dispatched (ISO-8601), by session id; only sessions that
   * have one, restricted to `sessionIds` when given. The `unfinished_call` health fact (docs/ARCHITECTURE.md §4a).
   */
  async openCallsSince(sessionIds?: string[]): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ session_id: string; since: string }>(
      `SELECT session_id, min(view->>'dispatchedAt') AS since FROM rl_rm_tool_calls
        WHERE status = 'dispatched' AND mode = 'observed'${sessionIds ? ' AND session_id = ANY($1)' : ''} GROUP BY session_id`,
      sessionIds ? [sessionIds] : [],
    );
    return new Map(rows.map((row) => [row.session_id, row.since]));
  }

  /** Every session's snapshot revision, by session id (compare with the stream heads to find lagging snapshots, invariant 8). */
  async sessionRevisions(): Promise<SessionRevision[]> {
    const { rows } = await this.db.query<{ session_id: string; revision: string | number }>(
      'SELECT session_id, revision FROM rl_rm_sessions ORDER BY session_id',
    );
    return rows.map((row) => ({ sessionId: row.session_id, revision: toNumber(row.revision) }));
  }

  /** Every session worktree record with its session's status and project (the reaper's "who claims this path"). */
  async worktreeRecords(): Promise<WorktreeRecordRow[]> {
    const { rows } = await this.db.query<{
      session_id: string; project_id: string; repo: string; path: string; branch: string; state: string; preserved_ref: string | null;
      stranded: boolean; stranded_reason: string | null; status: SessionStatus;
    }>(
      `SELECT w.session_id, s.project_id, w.repo, w.path, w.branch, w.state, w.preserved_ref, w.stranded,
              s.state->'worktrees'->w.repo->>'strandedReason' AS stranded_reason, s.status
       FROM rl_rm_worktrees w JOIN rl_rm_sessions s USING (session_id) ORDER BY w.session_id, w.repo`,
    );
    return rows.map((r) => ({
      sessionId: r.session_id, projectId: r.project_id, repo: r.repo, path: r.path, branch: r.branch, state: r.state,
      preservedRef: r.preserved_ref, stranded: r.stranded, strandedReason: r.stranded_reason, sessionStatus: r.status,
    }));
  }

  /** Every session as a possible worktree owner, by id. */
  async sessionOwners(): Promise<Map<string, SessionOwnerRow>> {
    const { rows } = await this.db.query<{
      session_id: string; project_id: string; status: SessionStatus; runtime: SessionRuntime | null; restoring: boolean | null; terminated_at: string | null;
    }>(
      `SELECT session_id, project_id, status, state->'runtime' AS runtime, (state->>'restoring')::boolean AS restoring,
              COALESCE(state->'termination'->>'at', updated_at) AS terminated_at
       FROM rl_rm_sessions`,
    );
    return new Map(rows.map((r) => [r.session_id, {
      sessionId: r.session_id, projectId: r.project_id, status: r.status, runtime: r.runtime, restoring: r.restoring === true,
      terminatedAt: r.status === 'terminated' ? r.terminated_at : null,
    }]));
  }

  /** Every registered project's state (repos with paths, default branch); env values masked. */
  async registeredProjects(): Promise<RegisteredProject[]> {
    const { rows } = await this.db.query<{ state: RegisteredProject }>(`SELECT state FROM rl_rm_projects WHERE state->>'status' = 'registered' ORDER BY project_id`);
    return rows.map((r) => r.state);
  }

  /** Every path runledger holds or held by custody stream (orphans, Claude Code worktrees). */
  async custodyWorktrees(): Promise<{ streamId: string; state: HeldWorktree }[]> {
    const { rows } = await this.db.query<{ stream_id: string; state: HeldWorktree }>('SELECT stream_id, state FROM rl_rm_custody_worktrees ORDER BY path');
    return rows.map((r) => ({ streamId: r.stream_id, state: r.state }));
  }

  /** `GET /worktrees`: session records and held paths (removed and released custody entries included), optionally only the stranded. */
  async listWorktrees(filter: { stranded?: boolean } = {}): Promise<WorktreeListItem[]> {
    const records = (await this.worktreeRecords()).map((r): WorktreeListItem => ({
      path: r.path, source: 'record', state: r.state, stranded: r.stranded, sessionId: r.sessionId, projectId: r.projectId, repo: r.repo, branch: r.branch,
      ...(r.strandedReason ? { rule: r.strandedReason } : {}), ...(r.preservedRef ? { preservedRef: r.preservedRef } : {}),
    }));
    const held = (await this.custodyWorktrees()).map(({ state }): WorktreeListItem => ({
      path: state.path, source: 'custody', state: custodyDisplayState(state), stranded: state.status === 'held' && state.stranded, rule: state.rule,
      origin: state.origin, updatedAt: state.updatedAt,
      ...(state.detail ? { detail: state.detail } : {}), ...(state.ownerSessionId ? { sessionId: state.ownerSessionId } : {}),
      ...(state.branch ? { branch: state.branch } : {}), ...(state.preservedRef ? { preservedRef: state.preservedRef } : {}),
    }));
    // A path both recorded by a session and held (a terminated session's worktree the reaper decided on) is one line.
    const byPath = new Map(records.map((r) => [r.path, r]));
    const unrecorded = held.filter((h) => {
      const record = byPath.get(h.path);
      if (!record) return true;
      if (h.state !== 'removed' && h.state !== 'released') Object.assign(record, { rule: h.rule, ...(h.detail ? { detail: h.detail } : {}), stranded: record.stranded || h.stranded });
      return false;
    });
    const all = [...records, ...unrecorded].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return filter.stranded === true ? all.filter((w) => w.stranded) : all;
  }

  /** The committed checkpoint of the read-model projection (START before the first batch). */
  checkpoint(): Promise<Checkpoint> {
    return loadCheckpoint(this.db, READ_MODELS_SUBSCRIPTION);
  }
}
