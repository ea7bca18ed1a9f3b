import type { ProjectSummary, ProjectView, SessionKind, SessionStatus, SessionView, ToolCallView } from '@runledger/domain';
import { SqlExecutor, toNumber } from '../database/sql-database';
import { loadCheckpoint } from '../event-store/checkpoint-store';
import { Checkpoint } from '../event-store/event-store.port';
import { READ_MODELS_SUBSCRIPTION } from './projection-checkpoint';

/** Filters of `GET /sessions` (DESIGN §5); each one given narrows the list (AND). */
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

  /** The tool calls of a session in order of first dispatch (log order); empty for an unknown session. */
  async listToolCalls(sessionId: string): Promise<ToolCallView[]> {
    const { rows } = await this.db.query<{ view: ToolCallView }>(
      'SELECT view FROM rl_rm_tool_calls WHERE session_id = $1 ORDER BY first_revision, call_id',
      [sessionId],
    );
    return rows.map((row) => row.view);
  }

  /** One tool call of a session, or null. */
  async getToolCall(sessionId: string, callId: string): Promise<ToolCallView | null> {
    const { rows } = await this.db.query<{ view: ToolCallView }>(
      'SELECT view FROM rl_rm_tool_calls WHERE session_id = $1 AND call_id = $2',
      [sessionId, callId],
    );
    return rows[0]?.view ?? null;
  }

  /** Every session's snapshot revision, by session id (compare with the stream heads to find lagging snapshots, invariant 8). */
  async sessionRevisions(): Promise<SessionRevision[]> {
    const { rows } = await this.db.query<{ session_id: string; revision: string | number }>(
      'SELECT session_id, revision FROM rl_rm_sessions ORDER BY session_id',
    );
    return rows.map((row) => ({ sessionId: row.session_id, revision: toNumber(row.revision) }));
  }

  /** The committed checkpoint of the read-model projection (START before the first batch). */
  checkpoint(): Promise<Checkpoint> {
    return loadCheckpoint(this.db, READ_MODELS_SUBSCRIPTION);
  }
}
