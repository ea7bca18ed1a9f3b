import { MAX_BUDGET_USD } from '../budget/budget.policy';
import { assertNever } from '../shared/assert-never';
import type { Decider } from '../shared/decider';
import { omitUndefined } from '../shared/omit-undefined';
import { PersistentMap } from '../shared/persistent-map';
import { filesCallInFlight } from '../file-effects/file-effects.errors';
import type { SessionFiles } from '../file-effects/file-effects.events';
import type { ToolCallCommand } from '../tool-call/tool-call.commands';
import { evolveToolCall, decideToolCall, type ToolCall, type ToolCallLateResult, type ToolCallState } from '../tool-call/tool-call.decider';
import type { ToolCallEvent } from '../tool-call/tool-call.events';
import type { WorktreeCommand } from '../worktree/worktree.commands';
import {
  activateRestored,
  decideWorktree,
  evolveWorktree,
  isWorktreeReleased,
  type Worktree,
} from '../worktree/worktree.decider';
import type { WorktreeEvent } from '../worktree/worktree.events';
import type {
  AgentRunCommand,
  RecordDivergence,
  RetireSession,
  SessionCommand,
  StartAgentRun,
  StartSession,
  TerminateSession,
} from './session.commands';
import {
  agentRunNotFound,
  agentRunNotOpen,
  sessionAlreadyStarted,
  sessionAlreadyTerminated,
  sessionInvalid,
  sessionInvalidTransition,
  sessionNotActive,
  sessionNotFound,
  sessionNotOrchestrator,
  sessionNotRestorable,
  sessionWorktreeNotReleased,
} from './session.errors';
import type { AgentActivity, AgentRunEvent, DivergenceDetected, ResumeMode, SessionEvent, SessionInterrupted, SessionRuntime, SessionStarted } from './session.events';

/** Fields of an agent run (one prompt/turn of work); times are ISO-8601. */
export interface AgentRunBase {
  runId: string;
  prompt?: string;
  parentRunId?: string;
  /** A sub-agent's id and type (Claude Code `agent_id`, `agent_type`). */
  agentId?: string;
  agentType?: string;
  /** A sub-agent's own transcript, once it reported it. */
  transcriptPath?: string;
  startedAt: string;
  updatedAt: string;
}

/** An agent run: `started → completed | failed | interrupted` (docs/ARCHITECTURE.md §2). */
export type AgentRun =
  | (AgentRunBase & { status: 'started' })
  | (AgentRunBase & { status: 'completed'; endedAt: string })
  | (AgentRunBase & { status: 'failed'; endedAt: string; error: string })
  | (AgentRunBase & { status: 'interrupted'; endedAt: string; reason: string });

/** Status of an agent run. */
export type AgentRunStatus = AgentRun['status'];

/** A recorded disagreement between the log and an outside source. */
export type Divergence = DivergenceDetected['data'];

/** A non-fatal warning kept on the session (a repo skipped because it left the project). */
export interface SessionWarning {
  kind: 'worktree_skipped';
  repo: string;
  reason: string;
  at: string;
}

/** Why the session is interrupted; `resumable` drives the restore policy (docs/ARCHITECTURE.md §4). */
export type SessionInterruption = SessionInterrupted['data'];

/** How the runtime ended on its own (`exited`): exit code or signal when observed; `finished` = its last run had ended. */
export interface SessionExit {
  exitCode?: number;
  signal?: string;
  finished: boolean;
  reason: string;
  at: string;
}

/** How the session ended: a failed launch, a kill (`freed`: worktrees released), or a normal end/retirement. */
export interface SessionTermination {
  cause: 'launch_failed' | 'killed' | 'terminated';
  reason: string;
  freed?: boolean;
  at: string;
}

/** An orchestrator's retirement (invariant 11): when it began, why, and the last reason it stopped half-way, if it did. */
export interface SessionRetirement {
  reason?: string;
  startedAt: string;
  failure?: { reason: string; at: string };
}

/** Fields every started session keeps; JSON-serializable (plain objects keyed by runId and repo; tool calls in a PersistentMap, which serializes as a plain object keyed by callId: `reviveSession` reads it back). */
export interface SessionCore extends Omit<SessionStarted['data'], 'at'> {
  /** Last known runtime (kept after it is gone, for diagnosis). */
  runtime?: SessionRuntime;
  agentSessionId?: string;
  transcriptPath?: string;
  /** How the last relaunch continued the agent (absent before any relaunch). */
  resumeMode?: ResumeMode;
  /** A restore started and its runtime is not launched yet. */
  restoring: boolean;
  runs: Record<string, AgentRun>;
  /** Keyed by callId; a PersistentMap so folding one event never copies the session's other calls. */
  toolCalls: PersistentMap<ToolCall>;
  /** The tool calls by status, kept by evolve (a count never walks the calls). */
  callCounts: ToolCallCounts;
  worktrees: Record<string, Worktree>;
  divergences: Divergence[];
  /** Calls with a late result, in order of their first one; the late results themselves are kept once, on each call. */
  lateResultCalls: string[];
  warnings: SessionWarning[];
  /** callId of the tool call completed last, in log order. */
  lastCompletedCallId?: string;
  /** What the agent is doing, from its hooks (absent until a hook told). */
  activity?: AgentActivity;
  /** ISO-8601 time of the last event an agent hook produced (the hook channel's last signal). */
  lastHookAt?: string;
  /** The agent's own report that its session ended (Claude Code SessionEnd). */
  agentEnded?: { reason: string; at: string };
  /** The last snapshot tree of each root, and the pruning (absent until the first snapshot, docs/ARCHITECTURE.md §4e). */
  files?: SessionFiles;
  /** Keys of the model calls whose usage is recorded (UsageRecorded), so a second reconcile or import appends none; absent before the first. */
  usageKeys?: PersistentMap<true>;
  /** Keys (`<callId>:<event>`) of the agent telemetry recorded (ToolCallTelemetryRecorded), so a record sent again appends none; absent before the first. */
  telemetryKeys?: PersistentMap<true>;
  createdAt: string;
  updatedAt: string;
}

/** A started session, a union on status (docs/ARCHITECTURE.md §2): starting → running → terminated; running → exited | interrupted → running (same id); running → retiring → terminated. */
export type Session =
  | (SessionCore & { status: 'starting' })
  | (SessionCore & { status: 'running'; runtime: SessionRuntime })
  | (SessionCore & { status: 'exited'; exit: SessionExit })
  | (SessionCore & { status: 'interrupted'; interruption: SessionInterruption })
  | (SessionCore & { status: 'retiring'; retirement: SessionRetirement })
  | (SessionCore & { status: 'terminated'; termination: SessionTermination });

/** State of a session stream: `none` before SessionStarted. */
export type SessionState = { status: 'none' } | Session;

/** Status of a session. */
export type SessionStatus = SessionState['status'];

/** Tool-call counts of a session snapshot (docs/ARCHITECTURE.md §5). */
export interface ToolCallCounts {
  total: number;
  dispatched: number;
  completed: number;
  failed: number;
  interrupted: number;
}

export { sessionStreamName } from '../shared/stream-names';

const NO_CALLS: ToolCallCounts = Object.freeze({ total: 0, dispatched: 0, completed: 0, failed: 0, interrupted: 0 });

/** Counts `calls` by status. */
const countCalls = (calls: Iterable<ToolCall>): ToolCallCounts => {
  const counts: ToolCallCounts = { ...NO_CALLS };
  for (const call of calls) {
    counts.total += 1;
    counts[call.status] += 1;
  }
  return counts;
};

/** Counts a session's tool calls by status (kept by evolve: O(1)); all zero for `none`. */
export const toolCallCounts = (state: SessionState): ToolCallCounts => (state.status === 'none' ? { ...NO_CALLS } : { ...state.callCounts });

/** The tool call completed last (log order), if any (docs/ARCHITECTURE.md §5 `lastCompletedToolCall`). */
export const lastCompletedToolCall = (state: SessionState): ToolCall | undefined =>
  state.status === 'none' || state.lastCompletedCallId === undefined ? undefined : state.toolCalls.get(state.lastCompletedCallId);

/** The results that arrived for interrupted attempts, grouped by call in order of each call's first one; read from the calls (kept once, there). */
export const sessionLateResults = (state: Session): ToolCallLateResult[] =>
  state.lateResultCalls.flatMap((callId) => state.toolCalls.get(callId)?.lateResults ?? []);

/**
 * A session state read back from its JSON (a stored snapshot): tool calls into a PersistentMap, counts recomputed when
 * absent, and the calls with late results listed from the `lateResults` copy that snapshots written before kept on the
 * session. `json` must be what JSON.stringify wrote for a SessionState; anything else is returned as read.
 */
export const reviveSession = (json: unknown): SessionState => {
  const state = json as SessionState;
  if (state.status === 'none' || state.toolCalls instanceof PersistentMap) return state;
  const { lateResults: older, ...rest } = state as Session & { lateResults?: ToolCallLateResult[] };
  const plain = (state as unknown as { toolCalls?: Record<string, ToolCall> }).toolCalls ?? {};
  const toolCalls = PersistentMap.fromRecord(plain);
  const usageKeys = (state as { usageKeys?: unknown }).usageKeys;
  const telemetryKeys = (state as { telemetryKeys?: unknown }).telemetryKeys;
  return {
    ...rest,
    ...(usageKeys !== undefined && !(usageKeys instanceof PersistentMap) ? { usageKeys: PersistentMap.fromRecord(usageKeys as Record<string, true>) } : {}),
    ...(telemetryKeys !== undefined && !(telemetryKeys instanceof PersistentMap) ? { telemetryKeys: PersistentMap.fromRecord(telemetryKeys as Record<string, true>) } : {}),
    toolCalls,
    callCounts: state.callCounts ?? countCalls(toolCalls.values()),
    lateResultCalls: state.lateResultCalls ?? [...new Set((older ?? []).map((late) => late.callId))],
  };
};

/** True when a session is not terminated (the recovery reconciler visits these, docs/ARCHITECTURE.md §4). */
export const isSessionLive = (state: SessionState): state is Exclude<Session, { status: 'terminated' }> =>
  state.status !== 'none' && state.status !== 'terminated';

const TOOL_CALL_COMMANDS: ReadonlySet<string> = new Set<ToolCallCommand['type']>([
  'DispatchToolCall',
  'RecordToolCallResult',
  'InterruptToolCall',
  'RetryToolCall',
  'IdentifyToolCall',
]);
const WORKTREE_COMMANDS: ReadonlySet<string> = new Set<WorktreeCommand['type']>([
  'RecordWorktreeCreated',
  'RecordWorkPreserved',
  'RecordWorktreeRemoved',
  'RecordWorktreeRemovalFailed',
  'RecordWorktreeRestored',
  'FlagWorktreeStranded',
  'RecordWorktreeVanished',
  'RecordWorktreeSkipped',
]);
const isToolCallCommand = (command: SessionCommand): command is ToolCallCommand => TOOL_CALL_COMMANDS.has(command.type);
const isWorktreeCommand = (command: SessionCommand): command is WorktreeCommand => WORKTREE_COMMANDS.has(command.type);

/** AgentRunInterrupted for every open run and ToolCallInterrupted for every in-flight observed call: their owner, the agent runtime, is gone (invariant 6). Managed calls stay with their executor. */
const closeInFlight = (session: Session, reason: string, at: string): SessionEvent[] => [
  ...session.toolCalls
    .values()
    .filter((call) => call.status === 'dispatched' && call.mode === 'observed')
    .map((call): SessionEvent => ({ type: 'ToolCallInterrupted', data: { callId: call.callId, attempt: call.attempt, reason, at } })),
  ...Object.values(session.runs)
    .filter((run) => run.status === 'started')
    .map((run): SessionEvent => ({ type: 'AgentRunInterrupted', data: { runId: run.runId, reason, at } })),
];

const start = ({ data }: StartSession, state: SessionState): SessionEvent[] => {
  if (state.status !== 'none') throw sessionAlreadyStarted(state.sessionId, state.status);
  if (!data.sessionId.trim()) throw sessionInvalid('sessionId', 'must not be empty');
  if (!data.projectId.trim()) throw sessionInvalid('projectId', 'must not be empty');
  if (!data.branch.trim()) throw sessionInvalid('branch', 'must not be empty');
  if (!data.baseRef.trim()) throw sessionInvalid('baseRef', 'must not be empty');
  if (data.agent === 'command' && !(data.command && data.command.length > 0)) {
    throw sessionInvalid('command', 'a command agent needs a non-empty command');
  }
  if (data.remote !== undefined && !(data.remote.host.trim() && data.remote.person.trim())) throw sessionInvalid('remote.host', 'a remote session names its host and person');
  if (data.budgetUsd !== undefined && !(Number.isFinite(data.budgetUsd) && data.budgetUsd > 0 && data.budgetUsd <= MAX_BUDGET_USD)) {
    throw sessionInvalid('budgetUsd', `a number of USD above 0, at most ${MAX_BUDGET_USD}`);
  }
  return [{ type: 'SessionStarted', data: omitUndefined({ ...data }) }];
};

const retire = (command: RetireSession, session: Session): SessionEvent[] => {
  if (session.kind !== 'orchestrator') throw sessionNotOrchestrator(session.sessionId, session.kind);
  if (session.status === 'terminated') throw sessionAlreadyTerminated(session.sessionId);
  if (session.status === 'retiring') return [];
  return [{ type: 'SessionRetiring', data: { ...command.data } }];
};

const terminate = ({ data }: TerminateSession, session: Session): SessionEvent[] => {
  if (session.status === 'terminated') throw sessionAlreadyTerminated(session.sessionId);
  if (session.status === 'retiring') {
    const held = Object.values(session.worktrees)
      .filter((worktree) => !isWorktreeReleased(worktree))
      .map((worktree) => ({ repo: worktree.repo, status: worktree.status }));
    if (held.length > 0) throw sessionWorktreeNotReleased(session.sessionId, held);
  }
  return [{ type: 'SessionTerminated', data: { ...data } }, ...closeInFlight(session, `session terminated: ${data.reason}`, data.at)];
};

const startRun = ({ data }: StartAgentRun, session: Session): SessionEvent[] => {
  if (session.status === 'terminated') throw sessionNotActive(session.sessionId, session.status);
  if (session.runs[data.runId] !== undefined) return [];
  if (data.parentRunId !== undefined && session.runs[data.parentRunId] === undefined) throw agentRunNotFound(data.parentRunId);
  return [{ type: 'AgentRunStarted', data: omitUndefined({ ...data }) }];
};

const closeRun = (command: Exclude<AgentRunCommand, StartAgentRun>, session: Session): SessionEvent[] => {
  const run = session.runs[command.data.runId];
  if (run === undefined) throw agentRunNotFound(command.data.runId);
  if (run.status !== 'started') throw agentRunNotOpen(run.runId, run.status);
  switch (command.type) {
    case 'CompleteAgentRun':
      return [{ type: 'AgentRunCompleted', data: { ...command.data } }];
    case 'FailAgentRun':
      return [{ type: 'AgentRunFailed', data: { ...command.data } }];
    default:
      return assertNever(command);
  }
};

const divergence = ({ data }: RecordDivergence, session: Session): SessionEvent[] => {
  const known = session.divergences.some((d) => d.callId === data.callId && d.kind === data.kind && d.detail === data.detail);
  return known ? [] : [{ type: 'DivergenceDetected', data: omitUndefined({ ...data }) }];
};

const routeToolCall = (command: ToolCallCommand, session: Session): SessionEvent[] => {
  const opensWork = command.type === 'DispatchToolCall' || command.type === 'RetryToolCall';
  if (opensWork && session.status === 'terminated') throw sessionNotActive(session.sessionId, session.status);
  return decideToolCall(command, session.toolCalls.get(command.data.callId) ?? { status: 'none' });
};

const routeWorktree = (command: WorktreeCommand, session: Session): SessionEvent[] => {
  if (command.type === 'RecordWorktreeCreated' && session.status === 'terminated' && !session.restoring) {
    throw sessionNotActive(session.sessionId, session.status);
  }
  return decideWorktree(command, session.worktrees[command.data.repo] ?? { status: 'none' });
};

/** Statuses a restore can start from (docs/ARCHITECTURE.md §4): the runtime is gone and the session keeps its id. */
const isRestorable = (status: SessionStatus): boolean => status === 'interrupted' || status === 'terminated' || status === 'exited';

/** A runtime launch (or its failure) is expected: the session is starting, or a restore of it has begun. */
const awaitsLaunch = ({ status, restoring }: Session): boolean => status === 'starting' || (isRestorable(status) && restoring);

/** The refusal of a command the session's status does not allow. */
const invalidTransition = ({ sessionId, status, restoring }: Session, command: SessionCommand) =>
  sessionInvalidTransition(sessionId, status, restoring, command.type);

/** The commands a started session decides itself (tool-call and worktree commands go to their deciders). */
type SessionOwnCommand = Exclude<SessionCommand, StartSession | ToolCallCommand | WorktreeCommand>;

/** One command type's decision on a started session: the events it appends, `[]` when already done; throws when refused. */
type DecideStarted<C extends SessionCommand> = (command: C, session: Session) => SessionEvent[];

/** The session's own rules, one small decision per command type. */
const DECIDE_STARTED: { [T in SessionOwnCommand['type']]: DecideStarted<Extract<SessionCommand, { type: T }>> } = {
  RecordRuntimeLaunched: (command, session) => {
    if (!awaitsLaunch(session)) throw invalidTransition(session, command);
    return [{ type: 'SessionRuntimeLaunched', data: { ...command.data } }];
  },
  RecordLaunchFailed: (command, session) => {
    if (!awaitsLaunch(session)) throw invalidTransition(session, command);
    const { reason, at } = command.data;
    return [{ type: 'SessionLaunchFailed', data: { reason, at } }, ...closeInFlight(session, `launch failed: ${reason}`, at)];
  },
  RecordRuntimeExited: (command, session) => {
    if (session.status === 'exited' && !session.restoring) return [];
    // Running, or interrupted under a restore whose agent ran to its end before its launch was recorded.
    if (session.status !== 'running' && !(session.status === 'interrupted' && session.restoring)) throw invalidTransition(session, command);
    const { reason, at } = command.data;
    return [{ type: 'SessionExited', data: omitUndefined({ ...command.data }) }, ...closeInFlight(session, `agent exited: ${reason}`, at)];
  },
  AdoptSession: (command, session) => {
    if (session.status === 'terminated') throw sessionAlreadyTerminated(session.sessionId);
    if (session.status !== 'running' && session.status !== 'interrupted' && session.status !== 'exited') throw invalidTransition(session, command);
    return [{ type: 'SessionAdopted', data: { ...command.data } }];
  },
  InterruptSession: (command, session) => {
    if (session.status === 'terminated') throw sessionAlreadyTerminated(session.sessionId);
    if ((session.status === 'interrupted' || session.status === 'exited') && !session.restoring) return [];
    const { reason, at } = command.data;
    return [{ type: 'SessionInterrupted', data: { ...command.data } }, ...closeInFlight(session, `session interrupted: ${reason}`, at)];
  },
  StartRestore: (command, session) => {
    if (!isRestorable(session.status)) throw sessionNotRestorable(session.sessionId, session.status);
    return session.restoring ? [] : [{ type: 'SessionRestoreStarted', data: { ...command.data } }];
  },
  KillSession: (command, session) => {
    if (session.status === 'terminated') throw sessionAlreadyTerminated(session.sessionId);
    const { reason, at } = command.data;
    return [{ type: 'SessionKilled', data: { ...command.data } }, ...closeInFlight(session, `session killed: ${reason}`, at)];
  },
  RetireSession: retire,
  RecordRetirementFailure: (command, session) => {
    if (session.status !== 'retiring') throw invalidTransition(session, command);
    return [{ type: 'SessionRetirementFailed', data: { ...command.data } }];
  },
  TerminateSession: terminate,
  LinkAgentSession: (command, session) => {
    const { agentSessionId, transcriptPath } = command.data;
    const linked = session.agentSessionId === agentSessionId && (transcriptPath === undefined || transcriptPath === session.transcriptPath);
    return linked ? [] : [{ type: 'AgentSessionLinked', data: omitUndefined({ ...command.data }) }];
  },
  RecordDivergence: divergence,
  RecordAgentHook: (command) => [{ type: 'AgentHookReceived', data: omitUndefined({ ...command.data }) }],
  SetAgentActivity: (command, session) =>
    session.activity === command.data.activity ? [] : [{ type: 'AgentActivityChanged', data: { ...command.data } }],
  RecordAgentSessionEnded: (command, session) =>
    session.agentEnded?.reason === command.data.reason ? [] : [{ type: 'AgentSessionEnded', data: { ...command.data } }],
  RecordUsage: (command, session) =>
    session.usageKeys?.has(command.data.key) ? [] : [{ type: 'UsageRecorded', data: omitUndefined({ ...command.data }) }],
  RecordToolCallTelemetry: (command, session) =>
    session.telemetryKeys?.has(command.data.key) ? [] : [{ type: 'ToolCallTelemetryRecorded', data: omitUndefined({ ...command.data }) }],
  StartAgentRun: startRun,
  CompleteAgentRun: closeRun,
  FailAgentRun: closeRun,
  RecordFilesSnapshot: (command, session) => {
    const { root, tree } = command.data;
    if (session.files?.pruned || session.files?.trees[root] === tree) return [];
    const running = callsInFlight(session).filter((callId) => callId !== command.data.callId);
    return [{ type: 'FilesSnapshotted', data: omitUndefined({ ...command.data, ...(running.length ? { callsInFlight: running } : {}) }) }];
  },
  RecordFilesRewound: (command, session) => {
    const running = callsInFlight(session);
    if (running.length > 0) throw filesCallInFlight(session.sessionId, running);
    return [{ type: 'FilesRewound', data: { ...command.data } }];
  },
  RecordSnapshotsPruned: (command, session) => (session.files?.pruned ? [] : [{ type: 'FileSnapshotsPruned', data: { ...command.data } }]),
};

/** The ids of the session's calls that are dispatched and have no result yet. */
const callsInFlight = (session: Session): string[] => {
  if (session.callCounts.dispatched === 0) return [];
  const ids: string[] = [];
  for (const [callId, call] of session.toolCalls.entries()) if (call.status === 'dispatched') ids.push(callId);
  return ids;
};

/** The session's file state with `root` at `tree`. */
const withTree = (session: Session, root: string, tree: string, at: string): SessionState => ({
  ...session,
  files: { ...session.files, trees: { ...session.files?.trees, [root]: tree } },
  updatedAt: at,
});

/** Decides a session command, routing tool-call and worktree commands to their deciders after the session check; throws SESSION.*, AGENT_RUN.*, TOOL_CALL.* or WORKTREE.* DomainErrors. */
export const decideSession = (command: SessionCommand, state: SessionState): SessionEvent[] => {
  if (command.type === 'StartSession') return start(command, state);
  if (state.status === 'none') throw sessionNotFound();
  if (isToolCallCommand(command)) return routeToolCall(command, state);
  if (isWorktreeCommand(command)) return routeWorktree(command, state);
  const decide = DECIDE_STARTED[command.type] as DecideStarted<SessionCommand> | undefined;
  return decide ? decide(command, state) : assertNever(command as never);
};

const coreOf = (session: Session): SessionCore => {
  const { status: _status, interruption: _interruption, termination: _termination, exit: _exit, retirement: _retirement, ...core } = session as SessionCore & {
    status: SessionStatus;
    interruption?: SessionInterruption;
    termination?: SessionTermination;
    exit?: SessionExit;
    retirement?: SessionRetirement;
  };
  return core;
};

const mapValues = <T>(record: Record<string, T>, f: (value: T) => T): Record<string, T> =>
  Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value)]));

const evolveRun = (session: Session, event: AgentRunEvent): SessionState => {
  const { runId, at } = event.data;
  const run = session.runs[runId];
  let next: AgentRun;
  if (event.type === 'AgentRunStarted') {
    const { at: _at, ...started } = event.data;
    next = { ...omitUndefined(started), status: 'started', startedAt: at, updatedAt: at };
  } else {
    if (run === undefined) return { ...session, updatedAt: at };
    const base: AgentRunBase = omitUndefined({
      runId: run.runId,
      prompt: run.prompt,
      parentRunId: run.parentRunId,
      agentId: run.agentId,
      agentType: run.agentType,
      transcriptPath: event.type === 'AgentRunCompleted' ? (event.data.transcriptPath ?? run.transcriptPath) : run.transcriptPath,
      startedAt: run.startedAt,
      updatedAt: at,
    });
    switch (event.type) {
      case 'AgentRunCompleted':
        next = { ...base, status: 'completed', endedAt: at };
        break;
      case 'AgentRunFailed':
        next = { ...base, status: 'failed', endedAt: at, error: event.data.error };
        break;
      case 'AgentRunInterrupted':
        next = { ...base, status: 'interrupted', endedAt: at, reason: event.data.reason };
        break;
      default:
        return assertNever(event);
    }
  }
  return { ...session, runs: { ...session.runs, [runId]: next }, updatedAt: at };
};

/** True for a tool-call event the agent itself reported (an observed dispatch, a hook result): a hook-channel signal. */
const fromAgent = (event: ToolCallEvent): boolean =>
  (event.type === 'ToolCallDispatched' && event.data.mode === 'observed') ||
  ((event.type === 'ToolCallCompleted' || event.type === 'ToolCallFailed') && event.data.source === 'hook');

/** Counts after a call went from `before` (absent: new) to `after`. */
const recount = (counts: ToolCallCounts, before: ToolCall | undefined, after: ToolCall): ToolCallCounts => {
  if (before?.status === after.status) return counts;
  const next = { ...counts };
  if (before === undefined) next.total += 1;
  else next[before.status] -= 1;
  next[after.status] += 1;
  return next;
};

/** The state of a call the session has not seen (shared: a fold never mutates it). */
const NO_CALL: ToolCallState = Object.freeze({ status: 'none' });

const evolveCall = (session: Session, event: ToolCallEvent): SessionState => {
  const { callId, at } = event.data;
  const before = session.toolCalls.get(callId);
  const call = evolveToolCall(before ?? NO_CALL, event);
  if (call.status === 'none') return { ...session, updatedAt: at };
  // One clone, then stores into it (it is ours until returned): in a literal, every spread after the first copies
  // through V8's slow path (~0.7 KB more garbage per event, measured with bench/session-growth/fold).
  const next: Session = { ...session };
  next.toolCalls = session.toolCalls.set(callId, call);
  next.callCounts = recount(session.callCounts, before, call);
  if (event.type === 'ToolCallLateResultRecorded' && !session.lateResultCalls.includes(callId)) next.lateResultCalls = [...session.lateResultCalls, callId];
  if (event.type === 'ToolCallCompleted') next.lastCompletedCallId = callId;
  if (fromAgent(event)) next.lastHookAt = at;
  next.updatedAt = at;
  return next;
};

const evolveTree = (session: Session, event: WorktreeEvent): SessionState => {
  const { repo, at } = event.data;
  if (event.type === 'WorktreeSkipped') {
    const warning: SessionWarning = { kind: 'worktree_skipped', repo, reason: event.data.reason, at };
    return { ...session, warnings: [...session.warnings, warning], updatedAt: at };
  }
  const worktree = evolveWorktree(session.worktrees[repo] ?? { status: 'none' }, event);
  if (worktree.status === 'none') return { ...session, updatedAt: at };
  return { ...session, worktrees: { ...session.worktrees, [repo]: worktree }, updatedAt: at };
};

/** The session a SessionStarted opens: `starting`, with no runs, calls, worktrees or warnings yet. */
const sessionStarted = ({ data: { at, ...data } }: SessionStarted): Session => ({
  ...omitUndefined(data),
  status: 'starting',
  restoring: false,
  runs: {},
  toolCalls: PersistentMap.empty(),
  callCounts: { ...NO_CALLS },
  worktrees: {},
  divergences: [],
  lateResultCalls: [],
  warnings: [],
  createdAt: at,
  updatedAt: at,
});

/** One event type's fold into a started session (`at`: the event's time); pure, and it copies only what it changes. */
type EvolveStarted<E extends SessionEvent> = (session: Session, event: E, at: string) => SessionState;

/** The session-level state transitions, one small fold per event type (runs, calls and worktrees fold in their own functions). */
const EVOLVE_STARTED: { [T in Exclude<SessionEvent['type'], 'SessionStarted'>]: EvolveStarted<Extract<SessionEvent, { type: T }>> } = {
  SessionRuntimeLaunched: (session, { data }, at) => {
    const worktrees = session.restoring ? mapValues(session.worktrees, activateRestored) : session.worktrees;
    const resumeMode = data.resumeMode ?? session.resumeMode;
    return { ...coreOf(session), worktrees, status: 'running', runtime: data.runtime, ...(resumeMode ? { resumeMode } : {}), restoring: false, updatedAt: at };
  },
  SessionExited: (session, { data: { at: _at, ...exit } }, at) => ({
    ...coreOf(session),
    // A restore whose agent ran before its launch was recorded: its recreated worktrees were in use, so they are active.
    worktrees: session.restoring ? mapValues(session.worktrees, activateRestored) : session.worktrees,
    status: 'exited', exit: { ...exit, at }, restoring: false, updatedAt: at,
  }),
  SessionAdopted: (session, { data }, at) => ({ ...coreOf(session), status: 'running', runtime: data.runtime, restoring: false, updatedAt: at }),
  SessionLaunchFailed: (session, { data }, at) => ({
    ...coreOf(session),
    status: 'terminated',
    termination: { cause: 'launch_failed', reason: data.reason, at },
    restoring: false,
    updatedAt: at,
  }),
  SessionInterrupted: (session, { data: { reason, resumable } }, at) => ({
    ...coreOf(session),
    status: 'interrupted',
    interruption: { reason, resumable, at },
    restoring: false,
    updatedAt: at,
  }),
  SessionRestoreStarted: (session, _event, at) => ({ ...session, restoring: true, updatedAt: at }),
  SessionKilled: (session, { data: { reason, freed } }, at) => ({ ...coreOf(session), status: 'terminated', termination: { cause: 'killed', reason, freed, at }, restoring: false, updatedAt: at }),
  SessionRetiring: (session, { data }, at) => ({ ...coreOf(session), status: 'retiring', retirement: omitUndefined({ reason: data.reason, startedAt: at }), updatedAt: at }),
  SessionRetirementFailed: (session, { data }, at) =>
    session.status !== 'retiring' ? { ...session, updatedAt: at } : { ...session, retirement: { ...session.retirement, failure: { reason: data.reason, at } }, updatedAt: at },
  SessionTerminated: (session, { data }, at) => ({
    ...coreOf(session),
    status: 'terminated',
    termination: { cause: 'terminated', reason: data.reason, at },
    restoring: false,
    updatedAt: at,
  }),
  AgentSessionLinked: (session, { data }, at) => {
    const transcriptPath = data.transcriptPath ?? session.transcriptPath;
    return { ...session, agentSessionId: data.agentSessionId, ...(transcriptPath !== undefined ? { transcriptPath } : {}), updatedAt: at };
  },
  DivergenceDetected: (session, { data }, at) => ({ ...session, divergences: [...session.divergences, { ...data }], updatedAt: at }),
  AgentHookReceived: (session, _event, at) => ({ ...session, lastHookAt: at, updatedAt: at }),
  AgentActivityChanged: (session, { data }, at) => ({ ...session, activity: data.activity, lastHookAt: at, updatedAt: at }),
  AgentSessionEnded: (session, { data }, at) => ({ ...session, agentEnded: { reason: data.reason, at }, lastHookAt: at, updatedAt: at }),
  UsageRecorded: (session, { data }, at) => ({ ...session, usageKeys: (session.usageKeys ?? PersistentMap.empty<true>()).set(data.key, true), updatedAt: at }),
  ToolCallTelemetryRecorded: (session, { data }, at) => ({ ...session, telemetryKeys: (session.telemetryKeys ?? PersistentMap.empty<true>()).set(data.key, true), updatedAt: at }),
  AgentRunStarted: evolveRun,
  AgentRunCompleted: evolveRun,
  AgentRunFailed: evolveRun,
  AgentRunInterrupted: evolveRun,
  ToolCallDispatched: evolveCall,
  ToolCallCompleted: evolveCall,
  ToolCallFailed: evolveCall,
  ToolCallInterrupted: evolveCall,
  ToolCallIdentified: evolveCall,
  ToolCallLateResultRecorded: evolveCall,
  WorktreeCreated: evolveTree,
  WorktreeWorkPreserved: evolveTree,
  WorktreeRemoved: evolveTree,
  WorktreeRemovalFailed: evolveTree,
  WorktreeRestored: evolveTree,
  WorktreeStranded: evolveTree,
  WorktreeVanished: evolveTree,
  WorktreeSkipped: evolveTree,
  FilesSnapshotted: (session, { data }, at) => withTree(session, data.root, data.tree, at),
  FilesRewound: (session, { data }, at) => withTree(session, data.root, data.tree, at),
  FileSnapshotsPruned: (session, _event, at) => ({ ...session, files: { trees: session.files?.trees ?? {}, pruned: { at } }, updatedAt: at }),
};

/** Folds one session event (including its runs, tool calls and worktrees); returns new objects, never mutates `state`; throws on an event type it does not know. */
export const evolveSession = (state: SessionState, event: SessionEvent): SessionState => {
  if (event.type === 'SessionStarted') return sessionStarted(event);
  if (state.status === 'none') return state;
  const evolve = EVOLVE_STARTED[event.type] as EvolveStarted<SessionEvent> | undefined;
  return evolve ? evolve(state, event, event.data.at) : assertNever(event as never);
};

/**
 * `state` after `events` (what `events.reduce(evolveSession, state)` gives), with the tool calls in one mutable copy of
 * the map for the whole run (PersistentMap.asMutable): a replay then copies each trie node about once instead of once
 * per event. The states between two events are never seen outside, so sharing that copy among them is safe; `state`
 * itself is never changed.
 */
export const evolveSessionAll = (state: SessionState, events: readonly SessionEvent[]): SessionState => {
  let current = state;
  let calls: PersistentMap<ToolCall> | undefined;
  for (const event of events) {
    current = evolveSession(current, event);
    if (current.status !== 'none' && current.toolCalls !== calls) {
      calls = current.toolCalls.asMutable();
      current = { ...current, toolCalls: calls };
    }
  }
  if (current.status === 'none' || calls === undefined) return current;
  return { ...current, toolCalls: calls.asImmutable() };
};

/** The session stream decider (`session-<sessionId>`): one stream replays one session with its runs, tool calls and worktrees. */
export const sessionDecider: Decider<SessionState, SessionCommand, SessionEvent> = {
  decide: decideSession,
  evolve: evolveSession,
  evolveAll: evolveSessionAll,
  initialState: () => ({ status: 'none' }),
};
