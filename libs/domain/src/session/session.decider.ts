import { assertNever } from '../shared/assert-never';
import type { Decider } from '../shared/decider';
import { omitUndefined } from '../shared/omit-undefined';
import { PersistentMap } from '../shared/persistent-map';
import type { ToolCallCommand } from '../tool-call/tool-call.commands';
import { evolveToolCall, decideToolCall, type ToolCall, type ToolCallLateResult } from '../tool-call/tool-call.decider';
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
  return {
    ...rest,
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

/** Decides a session command, routing tool-call and worktree commands to their deciders after the session check; throws SESSION.*, AGENT_RUN.*, TOOL_CALL.* or WORKTREE.* DomainErrors. */
export const decideSession = (command: SessionCommand, state: SessionState): SessionEvent[] => {
  if (command.type === 'StartSession') return start(command, state);
  if (state.status === 'none') throw sessionNotFound();
  const session = state;
  const { sessionId, status, restoring } = session;
  if (isToolCallCommand(command)) return routeToolCall(command, session);
  if (isWorktreeCommand(command)) return routeWorktree(command, session);
  switch (command.type) {
    case 'RecordRuntimeLaunched': {
      const restorable = status === 'interrupted' || status === 'terminated' || status === 'exited';
      if (status !== 'starting' && !(restorable && restoring)) {
        throw sessionInvalidTransition(sessionId, status, restoring, command.type);
      }
      return [{ type: 'SessionRuntimeLaunched', data: { ...command.data } }];
    }
    case 'RecordLaunchFailed': {
      if (status !== 'starting' && !((status === 'interrupted' || status === 'terminated' || status === 'exited') && restoring)) {
        throw sessionInvalidTransition(sessionId, status, restoring, command.type);
      }
      const { reason, at } = command.data;
      return [{ type: 'SessionLaunchFailed', data: { reason, at } }, ...closeInFlight(session, `launch failed: ${reason}`, at)];
    }
    case 'RecordRuntimeExited': {
      if (status === 'exited' && !restoring) return [];
      if (status !== 'running') throw sessionInvalidTransition(sessionId, status, restoring, command.type);
      const { reason, at } = command.data;
      return [{ type: 'SessionExited', data: omitUndefined({ ...command.data }) }, ...closeInFlight(session, `agent exited: ${reason}`, at)];
    }
    case 'AdoptSession':
      if (status === 'terminated') throw sessionAlreadyTerminated(sessionId);
      if (status !== 'running' && status !== 'interrupted' && status !== 'exited') {
        throw sessionInvalidTransition(sessionId, status, restoring, command.type);
      }
      return [{ type: 'SessionAdopted', data: { ...command.data } }];
    case 'InterruptSession': {
      if (status === 'terminated') throw sessionAlreadyTerminated(sessionId);
      if ((status === 'interrupted' || status === 'exited') && !restoring) return [];
      const { reason, at } = command.data;
      return [{ type: 'SessionInterrupted', data: { ...command.data } }, ...closeInFlight(session, `session interrupted: ${reason}`, at)];
    }
    case 'StartRestore':
      if (status !== 'interrupted' && status !== 'terminated' && status !== 'exited') throw sessionNotRestorable(sessionId, status);
      return restoring ? [] : [{ type: 'SessionRestoreStarted', data: { ...command.data } }];
    case 'KillSession': {
      if (status === 'terminated') throw sessionAlreadyTerminated(sessionId);
      const { reason, at } = command.data;
      return [{ type: 'SessionKilled', data: { ...command.data } }, ...closeInFlight(session, `session killed: ${reason}`, at)];
    }
    case 'RetireSession':
      return retire(command, session);
    case 'RecordRetirementFailure':
      if (status !== 'retiring') throw sessionInvalidTransition(sessionId, status, restoring, command.type);
      return [{ type: 'SessionRetirementFailed', data: { ...command.data } }];
    case 'TerminateSession':
      return terminate(command, session);
    case 'LinkAgentSession': {
      const { agentSessionId, transcriptPath } = command.data;
      if (session.agentSessionId === agentSessionId && (transcriptPath === undefined || transcriptPath === session.transcriptPath)) {
        return [];
      }
      return [{ type: 'AgentSessionLinked', data: omitUndefined({ ...command.data }) }];
    }
    case 'RecordDivergence':
      return divergence(command, session);
    case 'RecordAgentHook':
      return [{ type: 'AgentHookReceived', data: omitUndefined({ ...command.data }) }];
    case 'SetAgentActivity':
      return session.activity === command.data.activity ? [] : [{ type: 'AgentActivityChanged', data: { ...command.data } }];
    case 'RecordAgentSessionEnded':
      return session.agentEnded?.reason === command.data.reason ? [] : [{ type: 'AgentSessionEnded', data: { ...command.data } }];
    case 'StartAgentRun':
      return startRun(command, session);
    case 'CompleteAgentRun':
    case 'FailAgentRun':
      return closeRun(command, session);
    default:
      return assertNever(command);
  }
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

const evolveCall = (session: Session, event: ToolCallEvent): SessionState => {
  const { callId, at } = event.data;
  const before = session.toolCalls.get(callId);
  const call = evolveToolCall(before ?? { status: 'none' }, event);
  if (call.status === 'none') return { ...session, updatedAt: at };
  return {
    ...session,
    toolCalls: session.toolCalls.set(callId, call),
    callCounts: recount(session.callCounts, before, call),
    ...(event.type === 'ToolCallLateResultRecorded' && !session.lateResultCalls.includes(callId) ? { lateResultCalls: [...session.lateResultCalls, callId] } : {}),
    ...(event.type === 'ToolCallCompleted' ? { lastCompletedCallId: callId } : {}),
    ...(fromAgent(event) ? { lastHookAt: at } : {}),
    updatedAt: at,
  };
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

/** Folds one session event (including its runs, tool calls and worktrees); returns new objects, never mutates `state`. */
export const evolveSession = (state: SessionState, event: SessionEvent): SessionState => {
  if (event.type === 'SessionStarted') {
    const { at, ...data } = event.data;
    return {
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
    };
  }
  if (state.status === 'none') return state;
  const at = event.data.at;
  switch (event.type) {
    case 'SessionRuntimeLaunched': {
      const worktrees = state.restoring ? mapValues(state.worktrees, activateRestored) : state.worktrees;
      const resumeMode = event.data.resumeMode ?? state.resumeMode;
      return { ...coreOf(state), worktrees, status: 'running', runtime: event.data.runtime, ...(resumeMode ? { resumeMode } : {}), restoring: false, updatedAt: at };
    }
    case 'SessionExited': {
      const { at: _at, ...exit } = event.data;
      return { ...coreOf(state), status: 'exited', exit: { ...exit, at }, restoring: false, updatedAt: at };
    }
    case 'SessionAdopted':
      return { ...coreOf(state), status: 'running', runtime: event.data.runtime, restoring: false, updatedAt: at };
    case 'SessionLaunchFailed':
      return {
        ...coreOf(state),
        status: 'terminated',
        termination: { cause: 'launch_failed', reason: event.data.reason, at },
        restoring: false,
        updatedAt: at,
      };
    case 'SessionInterrupted': {
      const { reason, resumable } = event.data;
      return { ...coreOf(state), status: 'interrupted', interruption: { reason, resumable, at }, restoring: false, updatedAt: at };
    }
    case 'SessionRestoreStarted':
      return { ...state, restoring: true, updatedAt: at };
    case 'SessionKilled': {
      const { reason, freed } = event.data;
      return { ...coreOf(state), status: 'terminated', termination: { cause: 'killed', reason, freed, at }, restoring: false, updatedAt: at };
    }
    case 'SessionRetiring':
      return { ...coreOf(state), status: 'retiring', retirement: omitUndefined({ reason: event.data.reason, startedAt: at }), updatedAt: at };
    case 'SessionRetirementFailed':
      if (state.status !== 'retiring') return { ...state, updatedAt: at };
      return { ...state, retirement: { ...state.retirement, failure: { reason: event.data.reason, at } }, updatedAt: at };
    case 'SessionTerminated':
      return {
        ...coreOf(state),
        status: 'terminated',
        termination: { cause: 'terminated', reason: event.data.reason, at },
        restoring: false,
        updatedAt: at,
      };
    case 'AgentSessionLinked': {
      const transcriptPath = event.data.transcriptPath ?? state.transcriptPath;
      return {
        ...state,
        agentSessionId: event.data.agentSessionId,
        ...(transcriptPath !== undefined ? { transcriptPath } : {}),
        updatedAt: at,
      };
    }
    case 'DivergenceDetected':
      return { ...state, divergences: [...state.divergences, { ...event.data }], updatedAt: at };
    case 'AgentHookReceived':
      return { ...state, lastHookAt: at, updatedAt: at };
    case 'AgentActivityChanged':
      return { ...state, activity: event.data.activity, lastHookAt: at, updatedAt: at };
    case 'AgentSessionEnded':
      return { ...state, agentEnded: { reason: event.data.reason, at }, lastHookAt: at, updatedAt: at };
    case 'AgentRunStarted':
    case 'AgentRunCompleted':
    case 'AgentRunFailed':
    case 'AgentRunInterrupted':
      return evolveRun(state, event);
    case 'ToolCallDispatched':
    case 'ToolCallCompleted':
    case 'ToolCallFailed':
    case 'ToolCallInterrupted':
    case 'ToolCallLateResultRecorded':
      return evolveCall(state, event);
    case 'WorktreeCreated':
    case 'WorktreeWorkPreserved':
    case 'WorktreeRemoved':
    case 'WorktreeRemovalFailed':
    case 'WorktreeRestored':
    case 'WorktreeStranded':
    case 'WorktreeVanished':
    case 'WorktreeSkipped':
      return evolveTree(state, event);
    default:
      return assertNever(event);
  }
};

/** The session stream decider (`session-<sessionId>`): one stream replays one session with its runs, tool calls and worktrees. */
export const sessionDecider: Decider<SessionState, SessionCommand, SessionEvent> = {
  decide: decideSession,
  evolve: evolveSession,
  initialState: () => ({ status: 'none' }),
};
