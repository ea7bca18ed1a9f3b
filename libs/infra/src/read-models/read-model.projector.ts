import {
  custodyDecider,
  custodyDisplayState,
  type CustodyEvent,
  type CustodyState,
  maskEnv,
  parseStreamName,
  PersistentMap,
  projectDecider,
  reviveSession,
  sessionDecider,
  sessionIdOfStream,
  toProjectSummary,
  toProjectView,
  toSessionView,
  toToolCallView,
  type ProjectEvent,
  type ProjectState,
  type RegisteredProject,
  type Session,
  type SessionEvent,
  type SessionState,
  type ToolCall,
  worktreeStreamName,
} from '@runledger/domain';
import { SqlExecutor, toNumber } from '../database/sql-database';
import { RecordedEvent } from '../event-store/event-store.port';
import { addLedgerRows, ledgerRows, writeLedgerRows, type LedgerRows } from './usage-search.projection';

/** A stream the read models fold and the id its rows are keyed by (docs/ARCHITECTURE.md §2; worktree = custody, §4b). */
interface FoldedStream {
  kind: 'project' | 'session' | 'worktree';
  id: string;
}

/** Parses `streamId` with the domain's parser: a project, session or worktree-custody stream, or null for any other (e.g. `system`), which the read models ignore. */
const foldedStream = (streamId: string): FoldedStream | null => {
  const parsed = parseStreamName(streamId);
  switch (parsed.kind) {
    case 'project':
      return { kind: 'project', id: parsed.projectId };
    case 'session':
      return { kind: 'session', id: parsed.sessionId };
    case 'worktree':
      return { kind: 'worktree', id: parsed.key };
    default:
      return null;
  }
};

/** What one projectBatch call did: events folded, events skipped as unknown types, rows written per table. */
export interface ProjectionReport {
  /** Events of project/session streams folded into state (not counting re-deliveries). */
  applied: number;
  /** Events already folded (revision ≤ the stored one): re-deliveries, changed nothing. */
  duplicates: number;
  /** Events of a project/session stream whose type the domain does not know (folded as no-ops), as `streamId@revision type`. */
  unknown: string[];
  projects: string[];
  sessions: string[];
  /** Custody stream keys written (`worktree-<key>`). */
  custody: string[];
  /** Events this batch could not fold or store, recorded in `rl_rm_dead_letters` and skipped (only with `isolate`). */
  deadLetters: DeadLetter[];
}

/** An event the projector could not project, as `rl_rm_dead_letters` holds it: where it is in the log, and why. */
export interface DeadLetter {
  streamId: string;
  revision: number;
  globalPosition: number;
  type: string;
  error: string;
}

/** How projectBatch treats a failure: `isolate` retries a failing stream event by event and dead-letters what still fails. */
export interface ProjectBatchOptions {
  isolate?: boolean;
}

/** Thrown when the domain's evolve throws on an event (a malformed event in the log): deterministic, so dead-letterable. */
export class ProjectionEvolveError extends Error {
  readonly code = 'PROJECTION.EVOLVE_FAILED';
  constructor(readonly event: RecordedEvent, readonly reason: unknown) {
    super(`evolve failed on ${event.streamId}@${event.revision} ${event.type}: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}

/**
 * True when `error` would recur on every retry of the same events: an evolve failure, or a PostgreSQL data exception
 * (SQLSTATE class 22), integrity violation (23) or program limit (54, e.g. an index row too large). Connection and
 * server errors are transient: the batch is retried, never dead-lettered.
 */
export const isDeterministicProjectionError = (error: unknown): boolean => {
  if (error instanceof ProjectionEvolveError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
};

/** Thrown when a stream's next event is not the stored revision + 1: the read model lost rows while its checkpoint stayed (rebuild it). */
export class ProjectionGapError extends Error {
  readonly code = 'PROJECTION.GAP';
  constructor(readonly streamId: string, readonly storedRevision: number, readonly nextRevision: number) {
    super(
      `read model of ${streamId} is at revision ${storedRevision} but the next event delivered is revision ${nextRevision}: ` +
        'the read models are inconsistent with their checkpoint; run `runledger projections rebuild`',
    );
  }
}

// Exhaustive by type: adding an event to the domain fails compilation here until the projector knows it.
const PROJECT_EVENT_TYPES: Record<ProjectEvent['type'], true> = {
  ProjectRegistered: true,
  SessionIdAllocated: true,
  OrchestratorAssigned: true,
  OrchestratorReleased: true, ProjectEnvForgotten: true, ProjectBudgetSet: true, BudgetThresholdCrossed: true, ProjectWebhooksSet: true, NotificationRaised: true,
};
const SESSION_EVENT_TYPES: Record<SessionEvent['type'], true> = {
  SessionStarted: true,
  SessionRuntimeLaunched: true,
  SessionLaunchFailed: true,
  SessionAdopted: true,
  SessionExited: true,
  SessionInterrupted: true,
  SessionRestoreStarted: true,
  SessionKilled: true,
  SessionRetiring: true,
  SessionRetirementFailed: true,
  SessionTerminated: true,
  AgentSessionLinked: true,
  AgentRunStarted: true,
  AgentRunCompleted: true,
  AgentRunFailed: true,
  AgentRunInterrupted: true,
  ToolCallDispatched: true,
  ToolCallCompleted: true,
  ToolCallFailed: true,
  ToolCallInterrupted: true,
  ToolCallIdentified: true,
  ToolCallLateResultRecorded: true,
  WorktreeCreated: true,
  WorktreeWorkPreserved: true,
  WorktreeRemoved: true,
  WorktreeRemovalFailed: true,
  WorktreeRestored: true,
  WorktreeStranded: true,
  WorktreeVanished: true,
  WorktreeSkipped: true,
  DivergenceDetected: true,
  AgentHookReceived: true,
  AgentActivityChanged: true,
  AgentSessionEnded: true,
  FilesSnapshotted: true,
  FilesRewound: true,
  FileSnapshotsPruned: true,
  UsageRecorded: true,
  ToolCallTelemetryRecorded: true,
};
const CUSTODY_EVENT_TYPES: Record<CustodyEvent['type'], true> = {
  OrphanWorktreeFound: true,
  AgentWorktreeCreated: true,
  CustodyWorktreeKept: true,
  CustodyWorktreeStranded: true,
  CustodyWorkPreserved: true,
  CustodyWorktreeRemoved: true,
  CustodyWorktreeRemovalRefused: true,
  CustodyWorktreeReleased: true,
};
const isKnown = (types: Record<string, true>, type: string): boolean => Object.prototype.hasOwnProperty.call(types, type);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const cleanString = (value: string): string => value.replace(/\u0000/g, '\ufffd').replace(LONE_SURROGATE, '\ufffd');
const clean = (value: unknown): unknown => {
  if (typeof value === 'string') return cleanString(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [cleanString(key), clean(entry)]));
  }
  return value;
};

/**
 * JSON text for a jsonb parameter. jsonb refuses NUL (`\u0000`) and lone surrogates, which tool output may hold and the
 * event store's `json` column accepts: they become U+FFFD here, identically on every (re)build, so one odd byte never
 * wedges the projection.
 */
export const toJsonb = (value: unknown): string => {
  const text = JSON.stringify(value);
  // Cleaned from the parsed text, so values with a toJSON (a PersistentMap) are cleaned as they serialize.
  return /\\u0000|\\ud[89a-f]/i.test(text) ? JSON.stringify(clean(JSON.parse(text))) : text;
};

const NEEDS_CLEANING = /[\u0000\ud800-\udfff]/;
const needsCleaning = (value: unknown): boolean => {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'string') {
      if (NEEDS_CLEANING.test(node)) return true;
    } else if (node !== null && typeof node === 'object') {
      for (const [key, entry] of Object.entries(node)) {
        if (NEEDS_CLEANING.test(key)) return true;
        stack.push(entry);
      }
    }
  }
  return false;
};

/**
 * The event as the projector folds it: NUL and lone surrogates in its stream id, data keys and string values become
 * U+FFFD (PostgreSQL text and jsonb refuse them, the log's json column keeps them). The same event is returned when it
 * has none, so the common case costs one walk. Applied before evolve, every row and key derived from it is storable,
 * identically on every (re)build.
 */
export const storableEvent = (event: RecordedEvent): RecordedEvent => {
  if (!NEEDS_CLEANING.test(event.streamId) && !NEEDS_CLEANING.test(event.type) && !needsCleaning(event.data)) return event;
  return { ...event, streamId: cleanString(event.streamId), type: cleanString(event.type), data: clean(event.data) as RecordedEvent['data'] };
};

interface Stored<S> {
  state: S;
  revision: number;
}

/** Groups the events of project/session streams by stream, in order of first appearance (deterministic). */
const groupByStream = (events: readonly RecordedEvent[]): Map<string, RecordedEvent[]> => {
  const groups = new Map<string, RecordedEvent[]>();
  for (const event of events) {
    if (foldedStream(event.streamId) === null) continue;
    const group = groups.get(event.streamId) ?? [];
    group.push(event);
    groups.set(event.streamId, group);
  }
  return groups;
};

const loadStored = async <S>(tx: SqlExecutor, table: 'rl_rm_projects' | 'rl_rm_sessions' | 'rl_rm_custody_worktrees', key: string, ids: string[]) => {
  const stored = new Map<string, Stored<S>>();
  if (ids.length === 0) return stored;
  const { rows } = await tx.query<{ id: string; state: S; revision: string | number }>(
    `SELECT ${key} AS id, state, revision FROM ${table} WHERE ${key} = ANY($1::text[])`,
    [ids],
  );
  for (const row of rows) stored.set(row.id, { state: row.state, revision: toNumber(row.revision) });
  return stored;
};

/** The events after `revision`, in revision order, deduplicated; throws ProjectionGapError when one is missing. */
const freshEvents = (streamId: string, group: RecordedEvent[], revision: number): RecordedEvent[] => {
  const byRevision = new Map<number, RecordedEvent>();
  for (const event of group) if (event.revision > revision) byRevision.set(event.revision, event);
  const fresh = [...byRevision.values()].sort((a, b) => a.revision - b.revision);
  let expected = revision + 1;
  for (const event of fresh) {
    if (event.revision !== expected) throw new ProjectionGapError(streamId, expected - 1, event.revision);
    expected += 1;
  }
  return fresh;
};

const writeProject = async (tx: SqlExecutor, projectId: string, state: RegisteredProject, revision: number): Promise<void> => {
  // The stored state keeps env keys but not values: evolve never reads them, and secrets persist only in the log (invariant 12).
  const stored: RegisteredProject = state.env === undefined ? state : { ...state, env: maskEnv(state.env) };
  await tx.query(
    `INSERT INTO rl_rm_projects (project_id, name, kind, session_prefix, summary, view, state, revision)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8)
     ON CONFLICT (project_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, session_prefix = EXCLUDED.session_prefix,
       summary = EXCLUDED.summary, view = EXCLUDED.view, state = EXCLUDED.state, revision = EXCLUDED.revision`,
    [
      projectId,
      state.name,
      state.kind,
      state.sessionPrefix,
      toJsonb(toProjectSummary(state)),
      toJsonb(toProjectView(state)),
      toJsonb(stored),
      revision,
    ],
  );
};

/** The session state as its row stores it: without its tool calls, which live in their own rows (an append rewrites only what changed). */
const withoutCalls = (state: Session): Session => ({ ...state, toolCalls: PersistentMap.empty() });

/** A stored session state with the stored calls it needs (its row keeps none of them). */
const withCalls = (stored: SessionState, calls: Record<string, ToolCall> | undefined): SessionState => {
  const state = reviveSession(stored);
  return state.status === 'none' || calls === undefined ? state : { ...state, toolCalls: PersistentMap.fromRecord(calls) };
};

/** The callIds each session's events of this batch touch, plus the calls each stored snapshot shows (completed last, late results). */
const callsToLoad = (groups: Map<string, RecordedEvent[]>, stored: Map<string, Stored<SessionState>>): Map<string, Set<string>> => {
  const wanted = new Map<string, Set<string>>();
  for (const [streamId, group] of groups) {
    const sessionId = sessionIdOfStream(streamId);
    if (sessionId === undefined) continue;
    const ids = new Set<string>();
    for (const event of group) {
      const callId = (event.data as { callId?: unknown } | null)?.callId;
      if (event.type.startsWith('ToolCall') && typeof callId === 'string') ids.add(callId);
    }
    const state = stored.get(sessionId)?.state;
    if (state !== undefined && state.status !== 'none') {
      if (state.lastCompletedCallId !== undefined) ids.add(state.lastCompletedCallId);
      // The snapshot's late results are read from their calls, where they are kept (once).
      const revived = reviveSession(state) as Session;
      for (const callId of revived.lateResultCalls) ids.add(callId);
    }
    if (ids.size > 0) wanted.set(sessionId, ids);
  }
  return wanted;
};

/** The stored state of the wanted tool calls, by session then callId (one query for the whole batch). */
const loadCalls = async (tx: SqlExecutor, wanted: Map<string, Set<string>>): Promise<Map<string, Record<string, ToolCall>>> => {
  const sessions: string[] = [];
  const calls: string[] = [];
  for (const [sessionId, ids] of wanted) for (const callId of ids) (sessions.push(sessionId), calls.push(callId));
  const loaded = new Map<string, Record<string, ToolCall>>();
  if (calls.length === 0) return loaded;
  const { rows } = await tx.query<{ session_id: string; call_id: string; state: ToolCall }>(
    `SELECT t.session_id, t.call_id, t.state FROM rl_rm_tool_calls t
     JOIN unnest($1::text[], $2::text[]) AS w(session_id, call_id) ON t.session_id = w.session_id AND t.call_id = w.call_id`,
    [sessions, calls],
  );
  for (const row of rows) {
    const record = loaded.get(row.session_id) ?? {};
    record[row.call_id] = row.state;
    loaded.set(row.session_id, record);
  }
  return loaded;
};

/** Revisions at which each tool call of a session first appeared and last changed, within one batch. */
interface CallRevisions {
  first: number;
  last: number;
}

/**
 * The session rows a batch writes, keyed by column name, sent as three JSON documents and flushed in one statement for
 * every session of the batch (jsonb_to_recordset: one parameter per table, not one array per column).
 */
interface SessionRows {
  sessions: object[];
  worktrees: object[];
  calls: object[];
  /** Usage and search rows of the events folded (usage-search.projection.ts). */
  ledger?: LedgerRows;
}

/** Rows folded but not yet written: projects and custody rows one statement each (few), every session's rows in one (see flushRows). */
interface PendingRows {
  projects: Array<() => Promise<void>>;
  custody: Array<() => Promise<void>>;
  sessions: SessionRows;
}

const pendingRows = (): PendingRows => ({ projects: [], custody: [], sessions: { sessions: [], worktrees: [], calls: [] } });

/** Adds the rows of session `sessionId` at `revision`: its row, its worktree rows (the whole set) and the tool calls `changedCalls` names. */
const addSessionRows = (
  rows: SessionRows, sessionId: string, state: Session, revision: number, changedCalls: Map<string, CallRevisions>, applied: readonly RecordedEvent[] = [],
): void => {
  addLedgerRows((rows.ledger ??= ledgerRows()), state, applied);
  const view = toSessionView(state, revision);
  rows.sessions.push({
    session_id: sessionId,
    project_id: state.projectId,
    kind: state.kind,
    status: state.status,
    agent: state.agent,
    agent_session_id: state.agentSessionId ?? null,
    view,
    state: withoutCalls(state),
    revision,
    created_at: state.createdAt,
    updated_at: state.updatedAt,
  });
  for (const worktree of view.worktrees) {
    rows.worktrees.push({
      session_id: sessionId,
      repo: worktree.repo,
      path: worktree.path,
      branch: worktree.branch,
      state: worktree.state,
      preserved_ref: worktree.preservedRef ?? null,
      stranded: worktree.stranded === true,
      revision,
    });
  }
  // Tool-call rows: only the calls this batch changed; `revision` is the call's last change and `first_revision` its first
  // dispatch, both read from the events, so any batching gives the same rows.
  for (const [callId, revisions] of changedCalls) {
    const call = state.toolCalls.get(callId);
    if (call === undefined) continue;
    rows.calls.push({
      session_id: sessionId,
      call_id: call.callId,
      tool: call.tool,
      status: call.status,
      attempt: call.attempt,
      mode: call.mode,
      view: toToolCallView(call),
      revision: revisions.last,
      first_revision: revisions.first,
      state: call,
    });
  }
};

/**
 * Every session row, worktree row and tool-call row of a batch in one statement (one round trip whatever the number of
 * sessions). Worktree rows mirror each session's snapshot: upserted, and the session's rows for other repos deleted
 * (the two touch different rows, so they can share the statement).
 */
const WRITE_SESSIONS = `
WITH sessions AS (
  INSERT INTO rl_rm_sessions (session_id, project_id, kind, status, agent, agent_session_id, view, state, revision, created_at, updated_at)
  SELECT session_id, project_id, kind, status, agent, agent_session_id, view, state, revision, created_at, updated_at
  FROM jsonb_to_recordset($1::jsonb) AS u(session_id text, project_id text, kind text, status text, agent text, agent_session_id text,
    view jsonb, state jsonb, revision bigint, created_at text, updated_at text)
  ON CONFLICT (session_id) DO UPDATE SET project_id = EXCLUDED.project_id, kind = EXCLUDED.kind, status = EXCLUDED.status,
    agent = EXCLUDED.agent, agent_session_id = EXCLUDED.agent_session_id, view = EXCLUDED.view, state = EXCLUDED.state,
    revision = EXCLUDED.revision, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
  RETURNING session_id
), worktrees AS (
  SELECT * FROM jsonb_to_recordset($2::jsonb)
    AS w(session_id text, repo text, path text, branch text, state text, preserved_ref text, stranded boolean, revision bigint)
), gone AS (
  DELETE FROM rl_rm_worktrees o WHERE o.session_id IN (SELECT session_id FROM sessions)
    AND NOT EXISTS (SELECT 1 FROM worktrees w WHERE w.session_id = o.session_id AND w.repo = o.repo)
), kept AS (
  INSERT INTO rl_rm_worktrees (session_id, repo, path, branch, state, preserved_ref, stranded, revision)
  SELECT session_id, repo, path, branch, state, preserved_ref, stranded, revision FROM worktrees
  ON CONFLICT (session_id, repo) DO UPDATE SET path = EXCLUDED.path, branch = EXCLUDED.branch, state = EXCLUDED.state,
    preserved_ref = EXCLUDED.preserved_ref, stranded = EXCLUDED.stranded, revision = EXCLUDED.revision
), calls AS (
  INSERT INTO rl_rm_tool_calls (session_id, call_id, tool, status, attempt, mode, view, revision, first_revision, state)
  SELECT session_id, call_id, tool, status, attempt, mode, view, revision, first_revision, state
  FROM jsonb_to_recordset($3::jsonb) AS u(session_id text, call_id text, tool text, status text, attempt integer, mode text,
    view jsonb, revision bigint, first_revision bigint, state jsonb)
  ON CONFLICT (session_id, call_id) DO UPDATE SET tool = EXCLUDED.tool, status = EXCLUDED.status, attempt = EXCLUDED.attempt,
    mode = EXCLUDED.mode, view = EXCLUDED.view, revision = EXCLUDED.revision, state = EXCLUDED.state
)
SELECT 1`;

/** Writes what `rows` gathered (projects, custody, then every session's rows in one statement) and empties it. */
const flushRows = async (tx: SqlExecutor, rows: PendingRows): Promise<void> => {
  const { projects, custody, sessions } = rows;
  Object.assign(rows, pendingRows());
  for (const write of projects) await write();
  for (const write of custody) await write();
  if (sessions.ledger) await writeLedgerRows(tx, sessions.ledger);
  if (sessions.sessions.length === 0) return;
  // toJsonb per document: NUL and lone surrogates become U+FFFD in every value (as they did column by column).
  await tx.query(WRITE_SESSIONS, [toJsonb(sessions.sessions), toJsonb(sessions.worktrees), toJsonb(sessions.calls)]);
};

const writeCustody = async (tx: SqlExecutor, key: string, state: Exclude<CustodyState, { status: 'none' }>, revision: number): Promise<void> => {
  await tx.query(
    `INSERT INTO rl_rm_custody_worktrees (stream_id, path, origin, status, display_state, stranded, owner_session_id, state, revision)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
     ON CONFLICT (stream_id) DO UPDATE SET path = EXCLUDED.path, origin = EXCLUDED.origin, status = EXCLUDED.status,
       display_state = EXCLUDED.display_state, stranded = EXCLUDED.stranded, owner_session_id = EXCLUDED.owner_session_id,
       state = EXCLUDED.state, revision = EXCLUDED.revision`,
    [worktreeStreamName(key), state.path, state.origin, state.status, custodyDisplayState(state), state.stranded, state.ownerSessionId ?? null, toJsonb(state), revision],
  );
};

/** What differs between the two kinds of stream the read models fold: project-* and session-*. */
interface StreamKind<S extends { status: string }> {
  types: Record<string, true>;
  initial: () => S;
  evolve: (state: S, event: RecordedEvent) => S;
  /** Adds the rows of stream `id` at `revision` to `rows` (written by flushRows on `tx`). */
  write: (tx: SqlExecutor, rows: PendingRows, id: string, state: S, revision: number, changedCalls: Map<string, CallRevisions>, applied?: readonly RecordedEvent[]) => void;
  reported: 'projects' | 'sessions' | 'custody';
}

/** One folded stream kind: its decider's fold over stored events (unknown types filtered by `types` before), its row writer, its report list. */
const streamKind = <S extends { status: string }, E>(
  decider: { initialState: () => S; evolve: (state: S, event: E) => S },
  types: Record<string, true>,
  write: StreamKind<S>['write'],
  reported: StreamKind<S>['reported'],
): StreamKind<S> => ({
  types,
  initial: () => decider.initialState(),
  evolve: (state, event) => decider.evolve(state, { type: event.type, data: event.data } as E),
  write,
  reported,
});

const PROJECTS = streamKind<ProjectState, ProjectEvent>(projectDecider, PROJECT_EVENT_TYPES, (tx, rows, id, state, revision) => {
  rows.projects.push(() => writeProject(tx, id, state as RegisteredProject, revision));
}, 'projects');

const SESSIONS = streamKind<SessionState, SessionEvent>(
  sessionDecider,
  SESSION_EVENT_TYPES,
  (_tx, rows, id, state, revision, changedCalls, applied) => addSessionRows(rows.sessions, id, state as Session, revision, changedCalls, applied),
  'sessions',
);

const CUSTODY = streamKind<CustodyState, CustodyEvent>(
  custodyDecider,
  CUSTODY_EVENT_TYPES,
  (tx, rows, id, state, revision) => {
    rows.custody.push(() => writeCustody(tx, id, state as Exclude<CustodyState, { status: 'none' }>, revision));
  },
  'custody',
);

/** Folds `events` onto `state` (unknown types are no-ops, reported), noting which tool calls changed at which revision; wraps an evolve failure as ProjectionEvolveError. */
const fold = <S extends { status: string }>(
  kind: StreamKind<S>,
  state: S,
  events: readonly RecordedEvent[],
  report: ProjectionReport,
  changedCalls: Map<string, CallRevisions>,
  applied?: RecordedEvent[],
): S => {
  for (const event of events) {
    if (!isKnown(kind.types, event.type)) {
      report.unknown.push(`${event.streamId}@${event.revision} ${event.type}`);
      continue;
    }
    const before = state;
    try {
      state = kind.evolve(state, event);
    } catch (error) {
      throw new ProjectionEvolveError(event, error);
    }
    report.applied += 1;
    if (kind !== (SESSIONS as unknown as StreamKind<S>)) continue;
    applied?.push(event);
    const callId = (event.data as { callId?: unknown } | null)?.callId;
    const was = before as unknown as SessionState;
    const now = state as unknown as SessionState;
    if (event.type.startsWith('ToolCall') && typeof callId === 'string' && now.status !== 'none') {
      const previous = was.status === 'none' ? undefined : was.toolCalls.get(callId);
      const current = now.toolCalls.get(callId);
      // evolve returns the same object for a call it did not change, so identity tells a change.
      if (current !== undefined && current !== previous) {
        // `first` matters only when the row is inserted, i.e. in the batch holding the call's first dispatch.
        const first = previous === undefined ? event.revision : (changedCalls.get(callId)?.first ?? event.revision);
        changedCalls.set(callId, { first, last: event.revision });
      }
    }
  }
  return state;
};

/** Records `event` in rl_rm_dead_letters with the reason it could not be projected (idempotent per stream and revision). */
const recordDeadLetter = async (tx: SqlExecutor, event: RecordedEvent, error: unknown, report: ProjectionReport): Promise<void> => {
  const reason = error instanceof ProjectionEvolveError && error.reason instanceof Error ? error.reason.message : error instanceof Error ? error.message : String(error);
  const letter: DeadLetter = {
    streamId: event.streamId, revision: event.revision, globalPosition: event.globalPosition, type: event.type,
    error: cleanString(`${(error as { code?: unknown })?.code ?? (error as Error)?.name ?? 'Error'}: ${reason}`).slice(0, 2000),
  };
  await tx.query(
    `INSERT INTO rl_rm_dead_letters (stream_id, revision, global_position, event_type, error)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (stream_id, revision) DO NOTHING`,
    [letter.streamId, letter.revision, letter.globalPosition, letter.type, letter.error],
  );
  report.deadLetters.push(letter);
};

/** Runs `work` inside a savepoint: rolled back alone when it throws (the caller's transaction stays usable), then rethrown. */
const inSavepoint = async <T>(tx: SqlExecutor, work: () => Promise<T>): Promise<T> => {
  await tx.query('SAVEPOINT rl_projection');
  try {
    const result = await work();
    await tx.query('RELEASE SAVEPOINT rl_projection');
    return result;
  } catch (error) {
    await tx.query('ROLLBACK TO SAVEPOINT rl_projection');
    throw error;
  }
};

/**
 * One stream event by event, each fold + write in its own savepoint: an event that fails deterministically is
 * dead-lettered and skipped (the state stays as before it; the row still moves to its revision, so the snapshot is not
 * seen as lagging), a transient failure is rethrown for the whole batch to be retried.
 */
const projectEventByEvent = async <S extends { status: string }>(
  tx: SqlExecutor, kind: StreamKind<S>, id: string, stored: Stored<S>, fresh: RecordedEvent[], report: ProjectionReport,
): Promise<void> => {
  let state = stored.state;
  const rows = pendingRows();
  for (const event of fresh) {
    try {
      state = await inSavepoint(tx, async () => {
        const changedCalls = new Map<string, CallRevisions>();
        const applied: RecordedEvent[] = [];
        const next = fold(kind, state, [event], report, changedCalls, applied);
        if (next.status !== 'none') {
          kind.write(tx, rows, id, next, event.revision, changedCalls, applied);
          await flushRows(tx, rows);
        }
        return next;
      });
    } catch (error) {
      if (!isDeterministicProjectionError(error)) throw error;
      await recordDeadLetter(tx, event, error, report);
      if (state.status !== 'none') {
        kind.write(tx, rows, id, state, event.revision, new Map());
        await flushRows(tx, rows);
      }
    }
  }
  if (state.status !== 'none' && !report[kind.reported].includes(id)) report[kind.reported].push(id);
};

/** The highest revision of `streamId` in rl_rm_dead_letters, or -1: a stream whose events were skipped continues after them. */
const deadLetterHead = async (tx: SqlExecutor, streamId: string): Promise<number> => {
  const { rows } = await tx.query<{ revision: string | number | null }>('SELECT max(revision) AS revision FROM rl_rm_dead_letters WHERE stream_id = $1', [streamId]);
  return rows[0]?.revision === null || rows[0]?.revision === undefined ? -1 : toNumber(rows[0].revision);
};

/**
 * Folds a batch of recorded events into the read-model tables, inside the caller's transaction `tx` (commit the
 * checkpoint with it). Only `project-*` and `session-*` streams count; every event is made storable first
 * (storableEvent). Per stream: loads the stored state and revision, folds only events past that revision with the
 * domain's `evolve` (a re-delivery changes nothing), then upserts the project/session row, replaces the session's
 * worktree rows and upserts the tool calls that changed. A session row's state keeps no tool calls: the batch loads the
 * rows of the calls its events touch (and the last completed one), so its cost follows the batch, not the session's
 * length. Pure in the events: no clock, no randomness, so a rebuild reproduces the rows of the incremental run exactly
 * (invariant 8). With `isolate`, a stream whose fold or write
 * fails is retried event by event in savepoints and the events that still fail deterministically go to
 * rl_rm_dead_letters (the projection moves on); without it, the first failure is thrown. Throws ProjectionGapError when
 * a stream's next event is not its stored revision + 1 (revisions skipped as dead letters count as stored).
 */
export const projectBatch = async (tx: SqlExecutor, events: readonly RecordedEvent[], options: ProjectBatchOptions = {}): Promise<ProjectionReport> => {
  const report: ProjectionReport = { applied: 0, duplicates: 0, unknown: [], projects: [], sessions: [], custody: [], deadLetters: [] };
  const groups = groupByStream(events.map(storableEvent));
  const streamIds = [...groups.keys()];
  const idsOf = (kind: FoldedStream['kind']) => streamIds.map(foldedStream).filter((f) => f?.kind === kind).map((f) => f!.id);
  const projectIds = idsOf('project');
  const sessionIds = idsOf('session');
  const storedProjects = await loadStored<ProjectState>(tx, 'rl_rm_projects', 'project_id', projectIds);
  const storedSessions = await loadStored<SessionState>(tx, 'rl_rm_sessions', 'session_id', sessionIds);
  const storedCalls = await loadCalls(tx, callsToLoad(groups, storedSessions));
  const custodyIds = idsOf('worktree');
  const storedCustody = new Map(
    [...(await loadStored<CustodyState>(tx, 'rl_rm_custody_worktrees', 'stream_id', custodyIds.map(worktreeStreamName)))].map(([streamId, row]) => [foldedStream(streamId)!.id, row]),
  );

  const batchRows = pendingRows();
  const projectStream = async <S extends { status: string }>(
    kind: StreamKind<S>,
    streamId: string,
    group: RecordedEvent[],
    storedRows: Map<string, Stored<S>>,
    revive: (id: string, state: S) => S = (_, state) => state,
  ) => {
    const id = foldedStream(streamId)!.id;
    const row = storedRows.get(id);
    const stored = { state: revive(id, row?.state ?? kind.initial()), revision: row?.revision ?? -1 };
    let fresh: RecordedEvent[];
    try {
      fresh = freshEvents(streamId, group, stored.revision);
    } catch (error) {
      // A gap exactly covered by dead letters is no gap: those events were skipped on purpose.
      const dead = error instanceof ProjectionGapError ? await deadLetterHead(tx, streamId) : -1;
      if (dead <= stored.revision) throw error;
      stored.revision = dead;
      fresh = freshEvents(streamId, group, dead);
    }
    report.duplicates += group.length - fresh.length;
    if (fresh.length === 0) return;
    const foldInto = (rows: PendingRows) => {
      const changedCalls = new Map<string, CallRevisions>();
      const applied: RecordedEvent[] = [];
      const state = fold(kind, stored.state, fresh, report, changedCalls, applied);
      if (state.status === 'none') return;
      kind.write(tx, rows, id, state, fresh[fresh.length - 1].revision, changedCalls, applied);
      report[kind.reported].push(id);
    };
    // Without isolation every stream's rows wait for one bulk write at the end of the batch.
    if (!options.isolate) return foldInto(batchRows);
    const counted = { applied: report.applied, unknown: report.unknown.length };
    try {
      await inSavepoint(tx, async () => {
        const rows = pendingRows();
        foldInto(rows);
        await flushRows(tx, rows);
      });
    } catch (error) {
      if (!isDeterministicProjectionError(error)) throw error;
      report.applied = counted.applied;
      report.unknown.length = counted.unknown;
      await projectEventByEvent(tx, kind, id, stored, fresh, report);
    }
  };

  for (const [streamId, group] of groups) {
    const kind = foldedStream(streamId)!.kind;
    if (kind === 'worktree') await projectStream(CUSTODY, streamId, group, storedCustody);
    else if (kind === 'project') await projectStream(PROJECTS, streamId, group, storedProjects);
    // The stored session plus the stored state of the calls this batch touches: evolve reads no other call.
    else await projectStream(SESSIONS, streamId, group, storedSessions, (id, state) => withCalls(state, storedCalls.get(id)));
  }
  await flushRows(tx, batchRows);
  return report;
};
