/**
 * The five properties the crash harness checks after every restart, as a pure function of what it observed:
 * the log right after the SIGKILL, the log and the read side after the new process's `ReconcileCompleted`, and the
 * operations the old process acknowledged (2xx). Violations are returned, never thrown, so a soak can count them.
 */

/** One row of `rl_events`, as the checks need it. */
export interface StoredEvent {
  position: number;
  streamId: string;
  revision: number;
  eventId: string;
  type: string;
  data: any;
  hash: string;
}

/** A process identity as runledger records it: pid plus the opaque /proc start time (a reused pid never matches). */
export interface RuntimeId {
  pid: number;
  startTime: string;
}

/** What went wrong, one kind per property (plus a reconcile that never reported). */
export type ViolationKind =
  | 'event-lost'
  | 'tool-call-without-owner'
  | 'session-id'
  | 'snapshot-mismatch'
  | 'agent-not-adopted'
  | 'reconcile-missing'
  | 'agent-work-repeated'
  | 'log-not-transcript'
  | 'work-lost'
  | 'cleanup-refused'
  | 'orphan-unnoticed'
  | 'agent-not-resumed';

/** Every violation kind, in report order. */
export const VIOLATION_KINDS: readonly ViolationKind[] = [
  'event-lost',
  'tool-call-without-owner',
  'session-id',
  'snapshot-mismatch',
  'agent-not-adopted',
  'reconcile-missing',
  'agent-work-repeated',
  'log-not-transcript',
  'work-lost',
  'cleanup-refused',
  'orphan-unnoticed',
  'agent-not-resumed',
];

/** One broken property, with enough detail to find it in the log. */
export interface Violation {
  kind: ViolationKind;
  detail: string;
  /** The soak's account of how it came about (the session's last events, the servers' lines naming it); set by the harness. */
  diagnosis?: string[];
}

/** A hook call of a fake Claude Code session that the server answered 2xx. */
export type HookName = 'SessionStart' | 'UserPromptSubmit' | 'PreToolUse' | 'PostToolUse' | 'PostToolUseFailure' | 'Stop';

/** An operation the server acknowledged (2xx), and so the events it promised to have committed. */
export type Ack =
  | { op: 'project'; projectId: string }
  /** `POST /sessions` → 201: the id, its project, the snapshot revision and the launched runtime, if any. */
  | { op: 'spawn'; sessionId: string; projectId: string; revision: number; runtime?: RuntimeId; idempotencyKey?: string }
  /** A repeated `Idempotency-Key` of an acknowledged spawn, sent after a restart: must give the same id. */
  | { op: 'spawn-retry'; sessionId: string; expectedSessionId: string; idempotencyKey: string }
  /** `POST /sessions/:id/tool-calls` → 2xx with `status: dispatched` (or already settled) at `attempt`. */
  | { op: 'dispatch'; sessionId: string; callId: string; attempt: number }
  /** A result acknowledged: `POST …/result` → 200, or a managed call answered settled by `?wait=true`. */
  | { op: 'result'; sessionId: string; callId: string; attempt: number; late: boolean }
  /** `POST /sessions/:id/kill` → 200. */
  | { op: 'kill'; sessionId: string }
  /** `POST /hooks/claude-code` → 200. */
  | { op: 'hook'; hook: HookName; agentSessionId: string; callId?: string };

/** Everything one restart check looks at. */
export interface RestartObservation {
  /** The whole log right after the kill (nothing could write any more). */
  before: StoredEvent[];
  /** The whole log once the new process appended its `ReconcileCompleted`. */
  after: StoredEvent[];
  /** Every acknowledged operation since the database was created. */
  acks: Ack[];
  /** Runtimes of non-terminal sessions that were alive right after the kill, by session id. */
  liveAtKill: Map<string, RuntimeId>;
  /** pid of the one runledger process now serving the database. */
  serverPid: number;
  /** Unexpired rows of `rl_leases`. */
  leases: { resource: string; owner: string }[];
  /** True when the (pid, start time) identifies a live, non-zombie process now. */
  isAlive: (runtime: RuntimeId) => boolean;
  /** `GET /sessions` entries (the read model) by id, `runtime.alive` set to null and `health` left out (both read-time); `listedIds` keeps duplicates. */
  snapshots: Map<string, unknown>;
  listedIds: string[];
  /** `GET /sessions/:id/state` by id: the replayed view and the stream head. */
  replays: Map<string, { view: unknown; head: number }>;
  /**
   * Sessions whose stream grew while the read side was being read (a live agent posting hooks): their snapshot and
   * replay were read at different heads, so comparing them proves nothing; the harness reads again.
   */
  moving: Set<string>;
  /** Whether the new process's `ReconcileCompleted` was seen. */
  reconciled: boolean;
  /** Claude Code session id → runledger session id seen at earlier checks (kept stable across restarts). */
  agentSessions: Map<string, string>;
}

/** A tool call attempt folded from the log. */
export interface FoldedCall {
  callId: string;
  attempt: number;
  mode: string;
  status: 'dispatched' | 'completed' | 'failed' | 'interrupted';
  /** observed calls: the session's runtime when the attempt was dispatched (its owner); null when it had none. */
  owner: RuntimeId | null;
  /** The agent's own id of the call, when the log knows it under another one (`ToolCallIdentified`: Gemini CLI's hook ids). */
  agentCallId?: string;
  /** The revision of the attempt's result (completed, failed or interrupted); absent while dispatched. */
  endedAt?: number;
}

/** A session folded from its stream, independently of runledger's deciders. */
export interface FoldedSession {
  sessionId: string;
  projectId?: string;
  agent?: string;
  started: number;
  startedIds: string[];
  status: 'none' | 'starting' | 'running' | 'exited' | 'interrupted' | 'retiring' | 'terminated';
  runtime: RuntimeId | null;
  head: number;
  agentSessionIds: Set<string>;
  runsStarted: number;
  calls: Map<string, FoldedCall>;
  events: StoredEvent[];
}

const SESSION_PREFIX = 'session-';

const runtimeOf = (data: any): RuntimeId | null => {
  const runtime = data?.runtime;
  return runtime && typeof runtime.pid === 'number' && typeof runtime.startTime === 'string' ? { pid: runtime.pid, startTime: runtime.startTime } : null;
};

/** Folds every `session-*` stream of the log (in position order) into the facts the checks need. */
export const foldSessions = (events: readonly StoredEvent[]): Map<string, FoldedSession> => {
  const sessions = new Map<string, FoldedSession>();
  for (const event of [...events].sort((a, b) => a.position - b.position)) {
    if (!event.streamId.startsWith(SESSION_PREFIX)) continue;
    const sessionId = event.streamId.slice(SESSION_PREFIX.length);
    let s = sessions.get(sessionId);
    if (!s) {
      s = { sessionId, started: 0, startedIds: [], status: 'none', runtime: null, head: -1, agentSessionIds: new Set(), runsStarted: 0, calls: new Map(), events: [] };
      sessions.set(sessionId, s);
    }
    s.events.push(event);
    s.head = Math.max(s.head, event.revision);
    const d = event.data ?? {};
    switch (event.type) {
      case 'SessionStarted':
        s.started++;
        s.startedIds.push(d.sessionId);
        s.projectId = d.projectId;
        s.agent = d.agent;
        s.status = 'starting';
        break;
      case 'SessionRuntimeLaunched':
      case 'SessionAdopted':
        s.status = 'running';
        s.runtime = runtimeOf(d);
        break;
      case 'SessionInterrupted':
        s.status = 'interrupted';
        break;
      case 'SessionExited':
        s.status = 'exited';
        break;
      case 'SessionRetiring':
        s.status = 'retiring';
        break;
      case 'SessionLaunchFailed':
      case 'SessionKilled':
      case 'SessionTerminated':
        s.status = 'terminated';
        break;
      case 'AgentSessionLinked':
        s.agentSessionIds.add(d.agentSessionId);
        break;
      case 'AgentRunStarted':
        s.runsStarted++;
        break;
      case 'ToolCallDispatched': {
        const agentCallId = d.agentCallId ?? s.calls.get(d.callId)?.agentCallId;
        s.calls.set(d.callId, {
          callId: d.callId, attempt: d.attempt, mode: d.mode, status: 'dispatched',
          owner: d.mode === 'observed' && s.status === 'running' ? s.runtime : null,
          ...(agentCallId !== undefined ? { agentCallId } : {}),
        });
        break;
      }
      case 'ToolCallIdentified': {
        const call = s.calls.get(d.callId);
        if (call) call.agentCallId = d.agentCallId;
        break;
      }
      case 'ToolCallCompleted':
      case 'ToolCallFailed':
      case 'ToolCallInterrupted': {
        const call = s.calls.get(d.callId);
        if (call && call.attempt === d.attempt) {
          call.status = event.type === 'ToolCallCompleted' ? 'completed' : event.type === 'ToolCallFailed' ? 'failed' : 'interrupted';
          call.endedAt = event.revision;
        }
        break;
      }
    }
  }
  return sessions;
};

/** `host:pid:suffix` (processOwnerId) → pid; NaN when the owner id has another shape. */
export const leaseOwnerPid = (owner: string): number => {
  const parts = owner.split(':');
  return parts.length >= 3 ? Number(parts[parts.length - 2]) : Number.NaN;
};

const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value as object).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined).map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
};

/** The first path at which two JSON values differ (key order ignored), or null when they are equal. */
export const firstDifference = (a: unknown, b: unknown, path = '$'): string | null => {
  const [x, y] = [canonical(a), canonical(b)];
  if (JSON.stringify(x) === JSON.stringify(y)) return null;
  if (x && y && typeof x === 'object' && typeof y === 'object' && Array.isArray(x) === Array.isArray(y)) {
    const keys = new Set([...Object.keys(x as object), ...Object.keys(y as object)]);
    for (const key of keys) {
      const diff = firstDifference((x as Record<string, unknown>)[key], (y as Record<string, unknown>)[key], `${path}.${key}`);
      if (diff) return diff;
    }
  }
  const show = (v: unknown) => (v === undefined ? 'undefined' : JSON.stringify(v).slice(0, 120));
  return `${path}: ${show(x)} ≠ ${show(y)}`;
};

const sameRuntime = (a: RuntimeId | null | undefined, b: RuntimeId | null | undefined): boolean => !!a && !!b && a.pid === b.pid && a.startTime === b.startTime;

/** The five properties of after one restart; returns every violation found (empty: all hold). */
export const checkRestart = (o: RestartObservation): Violation[] => {
  const violations: Violation[] = [];
  const add = (kind: ViolationKind, detail: string) => violations.push({ kind, detail });
  const sessions = foldSessions(o.after);
  const sessionsBefore = foldSessions(o.before);
  const killPosition = o.before.reduce((max, e) => Math.max(max, e.position), 0);

  if (!o.reconciled) add('reconcile-missing', `no ReconcileCompleted with pid ${o.serverPid} in the system stream`);

  // 1. No acknowledged event lost (and nothing committed before the kill changed or vanished).
  const afterByPosition = new Map(o.after.map((e) => [e.position, e]));
  for (const e of o.before) {
    const now = afterByPosition.get(e.position);
    if (!now || now.eventId !== e.eventId || now.hash !== e.hash || now.streamId !== e.streamId || now.revision !== e.revision) {
      add('event-lost', `event ${e.type} at position ${e.position} (${e.streamId}@${e.revision}) is gone or changed after the restart`);
    }
  }
  const has = (sessionId: string, predicate: (e: StoredEvent) => boolean) => sessions.get(sessionId)?.events.some(predicate) ?? false;
  const linked = new Map<string, Set<string>>();
  for (const s of sessions.values()) for (const agentSessionId of s.agentSessionIds) linked.set(agentSessionId, (linked.get(agentSessionId) ?? new Set()).add(s.sessionId));
  const sessionOfAgent = (agentSessionId: string): string | undefined => [...(linked.get(agentSessionId) ?? [])][0];
  const promptsAcked = new Map<string, number>();
  for (const ack of o.acks) {
    switch (ack.op) {
      case 'project':
        if (!o.after.some((e) => e.streamId === `project-${ack.projectId}` && e.type === 'ProjectRegistered')) add('event-lost', `project ${ack.projectId} was acknowledged but has no ProjectRegistered`);
        break;
      case 'spawn': {
        const s = sessions.get(ack.sessionId);
        if (!s || s.started === 0) add('event-lost', `spawn of ${ack.sessionId} was acknowledged but its SessionStarted is missing`);
        else if (s.head < ack.revision) add('event-lost', `spawn of ${ack.sessionId} was acknowledged at revision ${ack.revision}, the stream ends at ${s.head}`);
        if (ack.runtime && !has(ack.sessionId, (e) => e.type === 'SessionRuntimeLaunched' && sameRuntime(runtimeOf(e.data), ack.runtime))) {
          add('event-lost', `spawn of ${ack.sessionId} acknowledged runtime pid ${ack.runtime.pid}, no SessionRuntimeLaunched records it`);
        }
        break;
      }
      case 'dispatch':
        if (!has(ack.sessionId, (e) => e.type === 'ToolCallDispatched' && e.data?.callId === ack.callId && e.data?.attempt === ack.attempt)) {
          add('event-lost', `dispatch of ${ack.sessionId}/${ack.callId}#${ack.attempt} was acknowledged, its ToolCallDispatched is missing`);
        }
        break;
      case 'result': {
        const types = ack.late ? ['ToolCallLateResultRecorded'] : ['ToolCallCompleted', 'ToolCallFailed', 'ToolCallLateResultRecorded'];
        if (!has(ack.sessionId, (e) => types.includes(e.type) && e.data?.callId === ack.callId && e.data?.attempt === ack.attempt)) {
          add('event-lost', `result of ${ack.sessionId}/${ack.callId}#${ack.attempt} was acknowledged, no ${types.join('/')} holds it`);
        }
        break;
      }
      case 'kill':
        if (!has(ack.sessionId, (e) => e.type === 'SessionKilled')) add('event-lost', `kill of ${ack.sessionId} was acknowledged, SessionKilled is missing`);
        break;
      case 'hook': {
        const sessionId = sessionOfAgent(ack.agentSessionId);
        if (!sessionId) {
          add('event-lost', `${ack.hook} of Claude session ${ack.agentSessionId} was acknowledged, no session links it`);
          break;
        }
        if (ack.hook === 'UserPromptSubmit') promptsAcked.set(sessionId, (promptsAcked.get(sessionId) ?? 0) + 1);
        if (ack.hook === 'PreToolUse' && !has(sessionId, (e) => e.type === 'ToolCallDispatched' && e.data?.callId === ack.callId)) {
          add('event-lost', `PreToolUse ${ack.callId} of ${sessionId} was allowed, its ToolCallDispatched is missing`);
        }
        if ((ack.hook === 'PostToolUse' || ack.hook === 'PostToolUseFailure') &&
          !has(sessionId, (e) => ['ToolCallCompleted', 'ToolCallFailed', 'ToolCallLateResultRecorded'].includes(e.type) && e.data?.callId === ack.callId)) {
          add('event-lost', `${ack.hook} ${ack.callId} of ${sessionId} was acknowledged, its result is missing`);
        }
        break;
      }
      case 'spawn-retry':
        break;
    }
  }
  for (const [sessionId, acked] of promptsAcked) {
    const runs = sessions.get(sessionId)?.runsStarted ?? 0;
    if (runs < acked) add('event-lost', `${acked} UserPromptSubmit of ${sessionId} were acknowledged, only ${runs} AgentRunStarted`);
  }

  // 2. No tool call left dispatched without a live owner.
  const liveLeases = new Set(o.leases.filter((l) => leaseOwnerPid(l.owner) === o.serverPid).map((l) => l.resource));
  for (const s of sessions.values()) {
    for (const call of s.calls.values()) {
      if (call.status !== 'dispatched') continue;
      const where = `${s.sessionId}/${call.callId}#${call.attempt} (${call.mode}, session ${s.status}, agent ${s.agent ?? '?'})`;
      if (call.mode === 'managed') {
        if (!liveLeases.has(`tool-call:${s.sessionId}:${call.callId}:${call.attempt}`)) add('tool-call-without-owner', `${where} is dispatched and no live process holds its lease`);
      } else if (!call.owner || !o.isAlive(call.owner)) {
        add('tool-call-without-owner', `${where} is dispatched and its runtime ${call.owner ? `pid ${call.owner.pid}` : '(none)'} is not alive`);
      }
    }
  }

  // 3. No session id minted twice or changed.
  const allocations = (events: readonly StoredEvent[]) => events.filter((e) => e.streamId.startsWith('project-') && e.type === 'SessionIdAllocated');
  const allocated = new Map<string, number>();
  for (const e of allocations(o.after)) allocated.set(e.data?.sessionId, (allocated.get(e.data?.sessionId) ?? 0) + 1);
  for (const [id, n] of allocated) if (n > 1) add('session-id', `session id ${id} was allocated ${n} times`);
  const mintedOnRestart = allocations(o.after).length - allocations(o.before).length;
  if (mintedOnRestart !== 0) add('session-id', `the restart allocated ${mintedOnRestart} session id(s) with no request to do so`);
  for (const s of sessions.values()) {
    if (s.started !== 1 || s.startedIds[0] !== s.sessionId) add('session-id', `stream session-${s.sessionId} has SessionStarted for ${JSON.stringify(s.startedIds)}`);
    if (!allocated.has(s.sessionId)) add('session-id', `session ${s.sessionId} has a stream but no SessionIdAllocated`);
  }
  for (const before of sessionsBefore.values()) {
    const now = sessions.get(before.sessionId);
    if (before.projectId !== undefined && now?.projectId !== before.projectId) add('session-id', `session ${before.sessionId} changed project: ${before.projectId} → ${now?.projectId}`);
  }
  const spawned = new Map<string, number>();
  for (const ack of o.acks) {
    if (ack.op === 'spawn') {
      spawned.set(ack.sessionId, (spawned.get(ack.sessionId) ?? 0) + 1);
      const s = sessions.get(ack.sessionId);
      if (s && s.projectId !== ack.projectId) add('session-id', `spawn acknowledged ${ack.sessionId} in ${ack.projectId}, its stream says ${s.projectId}`);
    }
    if (ack.op === 'spawn-retry' && ack.sessionId !== ack.expectedSessionId) {
      add('session-id', `Idempotency-Key ${ack.idempotencyKey} gave ${ack.expectedSessionId}, after a restart it gave ${ack.sessionId}`);
    }
  }
  for (const [id, n] of spawned) if (n > 1) add('session-id', `${n} different spawn requests were answered with the same id ${id}`);
  for (const [agentSessionId, ids] of linked) {
    if (ids.size > 1) add('session-id', `Claude session ${agentSessionId} is linked to ${[...ids].join(', ')}`);
    const known = o.agentSessions.get(agentSessionId);
    if (known && !ids.has(known)) add('session-id', `Claude session ${agentSessionId} was ${known}, now ${[...ids].join(', ')}`);
  }
  const seen = new Set<string>();
  for (const id of o.listedIds) {
    if (seen.has(id)) add('session-id', `GET /sessions lists ${id} twice`);
    seen.add(id);
  }

  // 4. Every snapshot equal to a replay of its stream.
  for (const s of sessions.values()) {
    if (o.moving.has(s.sessionId)) continue;
    const snapshot = o.snapshots.get(s.sessionId) as { revision?: number } | undefined;
    const replay = o.replays.get(s.sessionId);
    if (!snapshot) add('snapshot-mismatch', `${s.sessionId} has a stream (head ${s.head}) but no snapshot`);
    else if (!replay) add('snapshot-mismatch', `${s.sessionId}: no replay could be read`);
    else if (replay.head !== s.head) add('snapshot-mismatch', `${s.sessionId}: the replay's head ${replay.head} is not the stream's ${s.head}`);
    else if (snapshot.revision !== s.head) add('snapshot-mismatch', `${s.sessionId}: snapshot at revision ${snapshot.revision}, stream at ${s.head}`);
    else {
      const diff = firstDifference(snapshot, replay.view);
      if (diff) add('snapshot-mismatch', `${s.sessionId}: snapshot ≠ replay at ${diff}`);
    }
  }
  for (const id of o.snapshots.keys()) if (!sessions.has(id)) add('snapshot-mismatch', `snapshot ${id} has no stream`);

  // 5. Every live agent process adopted (same id, same runtime, still running).
  for (const [sessionId, runtime] of o.liveAtKill) {
    const s = sessions.get(sessionId);
    const after = s?.events.filter((e) => e.position > killPosition) ?? [];
    const adopted = after.some((e) => e.type === 'SessionAdopted' && sameRuntime(runtimeOf(e.data), runtime));
    const where = `${sessionId} (pid ${runtime.pid})`;
    if (!adopted) add('agent-not-adopted', `${where} was alive at the kill and has no SessionAdopted after it`);
    else if (after.some((e) => e.type === 'SessionInterrupted' || e.type === 'SessionRuntimeLaunched')) add('agent-not-adopted', `${where} was adopted but also interrupted or relaunched`);
    else if (s?.status !== 'running' || !sameRuntime(s.runtime, runtime)) add('agent-not-adopted', `${where} is ${s?.status} with runtime ${s?.runtime?.pid ?? 'none'}`);
    else if (!o.isAlive(runtime)) add('agent-not-adopted', `${where} was adopted but the process is gone`);
  }
  return violations;
};

/** What the checks read of a real agent's own record, for one agent kind. */
export interface AgentRecord {
  /**
   * The tool call ids of the transcript at `path` (main and sub-agents; OpenCode: the rows of its agent session
   * `agentSessionId` in the database at `path`); null when it cannot be read.
   */
  callIds(path: string, agentSessionId: string | undefined): string[] | null;
  /** Whether the transcript's last turn ended (the agent finished its prompt); null when unreadable; absent: not checked. */
  lastTurnEnded?(path: string): boolean | null;
  /**
   * True for an agent whose native resume continues its own agent session (Codex, OpenCode, Gemini CLI): a session then
   * keeps one agent session. Absent for an agent whose native resume may start a new one (Claude Code).
   */
  resumesInPlace?: boolean;
  /**
   * How many transcript files hold the agent's own session `agentSessionId` (Codex: rollouts of a thread; Gemini CLI:
   * chat files beside `transcriptPath`, the one the session names); absent where the record is not a file per session.
   * When present, it must be one.
   */
  files?(agentSessionId: string, transcriptPath: string | undefined): number;
}

/**
 * Invariants 14 and 15 for sessions of the real agents in `records` (by `agent`), from the log and the agents' own
 * records: `agent-work-repeated` when a runtime was launched again after the agent had finished (`SessionExited` with
 * `finished`), relaunched other than natively once its agent session id was known, left not `exited` although its
 * transcript's last turn ended and its runtime is gone, or (agents that resume in place) continued under a second agent
 * session or a second transcript file; `log-not-transcript` when an agent whose runtime is gone has tool calls in its
 * transcript (main and sub-agents) that the log lacks, or the reverse (but a call the log checkpointed or ended before its
 * agent died unwritten, which must be interrupted or followed by the session's interruption, and named by a
 * `call_only_in_log` divergence); `agent-not-resumed` when a session interrupted as
 * resumable is still interrupted after the restart's reconcile, its runtime gone (the boot reconcile relaunches it).
 */
export const checkAgentSessions = (
  after: readonly StoredEvent[],
  isAlive: (runtime: RuntimeId) => boolean,
  records: Partial<Record<string, AgentRecord>>,
): Violation[] => {
  const violations: Violation[] = [];
  for (const s of foldSessions(after).values()) {
    const record = s.agent ? records[s.agent] : undefined;
    if (!record) continue;
    let finishedAt = -1;
    let linked = false;
    let launches = 0;
    let transcriptPath: string | undefined;
    for (const e of s.events) {
      if (e.type === 'AgentSessionLinked') {
        linked = true;
        transcriptPath = e.data?.transcriptPath ?? transcriptPath;
      }
      if (e.type === 'SessionExited' && e.data?.finished) finishedAt = e.revision;
      if (e.type === 'SessionRuntimeLaunched') {
        launches++;
        if (finishedAt >= 0) violations.push({ kind: 'agent-work-repeated', detail: `${s.sessionId}: launched again at revision ${e.revision} after its agent finished (revision ${finishedAt})` });
        else if (launches > 1 && linked && e.data?.resumeMode !== 'native') violations.push({ kind: 'agent-work-repeated', detail: `${s.sessionId}: relaunched ${e.data?.resumeMode ?? 'fresh'} at revision ${e.revision} although its ${s.agent} session could resume natively` });
      }
    }
    if (record.resumesInPlace) {
      if (s.agentSessionIds.size > 1) violations.push({ kind: 'agent-work-repeated', detail: `${s.sessionId}: its agent continued under ${s.agentSessionIds.size} agent sessions (${[...s.agentSessionIds].join(', ')}), not its own one` });
      for (const id of record.files ? s.agentSessionIds : []) {
        const files = record.files!(id, transcriptPath);
        if (files > 1) violations.push({ kind: 'agent-work-repeated', detail: `${s.sessionId}: agent session ${id} has ${files} transcript files, not one (a resume started a new one)` });
      }
    }
    if (s.runtime && isAlive(s.runtime)) continue;
    const interruption = s.status === 'interrupted' ? s.events.filter((e) => e.type === 'SessionInterrupted').at(-1) : undefined;
    if (interruption?.data?.resumable === true) {
      violations.push({ kind: 'agent-not-resumed', detail: `${s.sessionId}: interrupted as resumable at revision ${interruption.revision} (${String(interruption.data?.reason).slice(0, 120)}) and not relaunched by the restart` });
    }
    if (!transcriptPath || s.status === 'running' || s.status === 'starting') continue;
    if (record.lastTurnEnded?.(transcriptPath) === true && s.status === 'interrupted') {
      violations.push({ kind: 'agent-work-repeated', detail: `${s.sessionId}: its agent finished (the transcript's last turn ended) and its runtime is gone, yet the session is interrupted, not exited` });
    }
    const ids = record.callIds(transcriptPath, [...s.agentSessionIds].at(-1));
    if (!ids) continue;
    const inTranscript = new Set(ids);
    // A call the log knows under a hook id of its own (Gemini CLI) is compared under the agent's id once identified.
    const observed = [...s.calls.values()].filter((c) => c.mode === 'observed');
    const inLog = new Set(observed.map((c) => c.agentCallId ?? c.callId));
    const missing = [...inTranscript].filter((id) => !inLog.has(id));
    // The log ahead of the agent's record, as designed, named by a `call_only_in_log` divergence: a call checkpointed at
    // its PreToolUse whose agent died before writing it (interrupted), or one whose result its hook reported before the
    // agent died unwritten (Gemini CLI writes a turn to its chat file only when the turn ends): ended, then the session
    // interrupted. Any other extra is a violation.
    const onlyInLogNamed = new Set(s.events.filter((e) => e.type === 'DivergenceDetected' && e.data?.kind === 'call_only_in_log').map((e) => String(e.data?.callId)));
    const diedAfter = (c: FoldedCall): boolean => c.endedAt !== undefined && s.events.some((e) => e.type === 'SessionInterrupted' && e.revision > c.endedAt!);
    const aheadOfAgent = (c: FoldedCall): boolean => onlyInLogNamed.has(c.callId) && (c.status === 'interrupted' || diedAfter(c));
    const extra = observed.filter((c) => !inTranscript.has(c.agentCallId ?? c.callId) && !aheadOfAgent(c)).map((c) => c.agentCallId ?? c.callId);
    if (missing.length > 0) violations.push({ kind: 'log-not-transcript', detail: `${s.sessionId}: ${missing.length} transcript call(s) not in the log (${missing.slice(0, 3).join(', ')})` });
    if (extra.length > 0) violations.push({ kind: 'log-not-transcript', detail: `${s.sessionId}: ${extra.length} logged call(s) not in the transcript (${extra.slice(0, 3).join(', ')})` });
  }
  return violations;
};

/** A process a dead agent's tool left running (a SIGKILLed Codex's exec child), as sampled right after the kill. */
export interface AgentOrphan {
  sessionId: string;
  pid: number;
  startTime: string;
  /** Its command line, e.g. `sleep 20`. */
  command: string;
  /** When it would end on its own (seconds since boot, the clock of /proc start times). */
  endsAt: number;
}

/** True when `orphan` was gone at `uptime` (seconds since boot) although it would still have run on its own: someone stopped it. */
export const orphanStopped = (orphan: AgentOrphan, isAlive: (runtime: RuntimeId) => boolean, uptime: number): boolean =>
  !isAlive(orphan) && uptime < orphan.endsAt;

/**
 * A dead agent's orphaned processes never outlive the reconcile unnoticed (docs/ARCHITECTURE.md §4d): each one sampled
 * after the kill is gone once the restart reconciled, and one that was stopped (gone before it would have ended on its
 * own) is named (`pid N`) in the reason of an interrupted call of its session. `isAlive` and `uptime` (seconds since
 * boot) are sampled at the same instant; an orphan that ran out by itself is not judged.
 */
export const checkOrphans = (
  orphans: readonly AgentOrphan[], after: readonly StoredEvent[], isAlive: (runtime: RuntimeId) => boolean, uptime: number,
): Violation[] => {
  const violations: Violation[] = [];
  const sessions = foldSessions(after);
  for (const o of orphans) {
    const where = `${o.sessionId}: pid ${o.pid} (${o.command}), left running by its dead agent,`;
    if (isAlive(o)) {
      violations.push({ kind: 'orphan-unnoticed', detail: `${where} outlived the reconcile` });
      continue;
    }
    if (!orphanStopped(o, isAlive, uptime)) continue;
    const named = sessions.get(o.sessionId)?.events.some((e) => e.type === 'ToolCallInterrupted' && String(e.data?.reason ?? '').includes(`pid ${o.pid} (`));
    if (!named) violations.push({ kind: 'orphan-unnoticed', detail: `${where} was stopped, and no interrupted call of its session names it` });
  }
  return violations;
};

/**
 * What the harness found of the work it did in one session's worktree (as its agent would): commits on the session's
 * branch and uncommitted files (name → content), the worktree as the session records it, and what is on disk and in
 * the recorded preserved ref now (a file missing there: null).
 */
export interface WorkObservation {
  sessionId: string;
  /** Uncommitted files the harness wrote last, by name. */
  expected: Map<string, string>;
  /** Commits the harness made, each with whether the session's branch still contains it. */
  commits: { sha: string; onBranch: boolean }[];
  /** The recorded worktree: its state and preserved ref (`GET /sessions/:id/state`), null when the session has none. */
  recorded: { state: string; preservedRef?: string } | null;
  /** The files as they are on disk in the worktree; null when its directory is gone. */
  onDisk: Map<string, string | null> | null;
  /** The files in the recorded preserved ref's tree; null when none is recorded or it does not resolve. */
  inRef: Map<string, string | null> | null;
}

/**
 * Worktree custody (docs/ARCHITECTURE.md §4b, invariant 10) after a restart: no commit of the session lost from its
 * branch, and every uncommitted file either still in the worktree on disk or in the preserved ref the session records
 * (where restore looks for it), with the content written last.
 */
export const checkWork = (observations: readonly WorkObservation[]): Violation[] => {
  const violations: Violation[] = [];
  const all = (found: Map<string, string | null> | null, expected: Map<string, string>) =>
    found !== null && [...expected].every(([name, content]) => found.get(name) === content);
  for (const w of observations) {
    for (const c of w.commits) if (!c.onBranch) violations.push({ kind: 'work-lost', detail: `${w.sessionId}: commit ${c.sha} is no longer on its branch` });
    if (w.expected.size === 0 || all(w.onDisk, w.expected) || all(w.inRef, w.expected)) continue;
    const missing = [...w.expected.keys()].filter((name) => w.onDisk?.get(name) !== w.expected.get(name) && w.inRef?.get(name) !== w.expected.get(name));
    violations.push({
      kind: 'work-lost',
      detail: `${w.sessionId}: uncommitted work not found whole on disk (${w.onDisk ? 'directory present' : 'directory gone'}) nor in its recorded ref ` +
        `(${w.recorded?.preservedRef ?? 'none recorded'}, worktree ${w.recorded?.state ?? 'unrecorded'}); files missing or changed: ${missing.slice(0, 4).join(', ')}`,
    });
  }
  return violations;
};
