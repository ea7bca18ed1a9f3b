import type { CodingAgent } from '../agent/agent-kinds';
import type { SessionKind } from '../project/project.events';
import { omitUndefined } from '../shared/omit-undefined';
import type { ToolCall, ToolCallLateResult, ToolCallStatus } from '../tool-call/tool-call.decider';
import type { ToolCallMode, ToolCallResultSource } from '../tool-call/tool-call.events';
import type { Worktree, WorktreeStatus } from '../worktree/worktree.decider';
import {
  lastCompletedToolCall,
  sessionLateResults,
  toolCallCounts,
  type AgentRun,
  type Divergence,
  type Session,
  type SessionExit,
  type SessionInterruption,
  type SessionRetirement,
  type SessionTermination,
  type SessionWarning,
  type ToolCallCounts,
} from './session.decider';
import type { AgentActivity, AgentKind, RemoteOrigin, ResumeMode, RuntimeType, SessionFork, SessionRuntime } from './session.events';
import type { HealthFlag } from './session.health';

/** One worktree of a session snapshot (docs/ARCHITECTURE.md §5): `state` is the worktree status; `stranded` appears only when flagged. */
export interface WorktreeView {
  repo: string;
  path: string;
  branch: string;
  state: WorktreeStatus;
  /** The ref holding its uncommitted work (`unavailable`), or the last preserved ref while the worktree still exists. */
  preservedRef?: string;
  stranded?: true;
  strandedReason?: string;
  /** Why the last removal failed (`retry_remove`). */
  removalError?: string;
  /** Conflict reported by the last restore (its preserved ref was kept). */
  restoreConflict?: string;
}

/** The session's last known runtime; `alive` is `null` in a stored snapshot and filled live by the API (probe). */
export interface RuntimeView {
  type: SessionRuntime['type'];
  pid: number | null;
  /** Opaque OS start time that identifies the process with `pid` (invariant 7); `null` when unknown (tmux). */
  startTime: string | null;
  /** tmux session name, for a tmux runtime. */
  sessionName?: string;
  /** The installation's tmux server socket, for a tmux runtime (`runledger attach`). */
  socket?: string;
  /** ISO-8601 launch time, when known (the session state does not record it yet). */
  startedAt?: string;
  alive: boolean | null;
  /** Exit code of the ended runtime (`exited`), when runledger observed it. */
  exitCode?: number;
  /** Signal that ended the runtime (`exited`), when observed. */
  signal?: string;
}

/** The tool call completed last, in log order (docs/ARCHITECTURE.md §5 `lastCompletedToolCall`); `completedAt` is ISO-8601. */
export interface LastCompletedToolCallView {
  callId: string;
  tool: string;
  status: ToolCallStatus;
  attempt: number;
  completedAt?: string;
}

/** A session snapshot (docs/ARCHITECTURE.md §5): derived only from the session's events, so a rebuild reproduces it exactly (invariant 8). */
export interface SessionView {
  id: string;
  projectId: string;
  kind: SessionKind;
  status: Session['status'];
  agent: AgentKind;
  /** An external session's coding agent (absent: Claude Code, or a session runledger launched). */
  observedAgent?: CodingAgent;
  /** A remote flight-recorder session: the machine its agent runs on and the person who recorded it (docs/ARCHITECTURE.md §4f). */
  remote?: RemoteOrigin;
  agentSessionId?: string;
  transcriptPath?: string;
  branch: string;
  baseRef: string;
  prompt?: string;
  command?: string[];
  /** Sorted by repo (deterministic whatever the key order of the stored state). */
  worktrees: WorktreeView[];
  runtime: RuntimeView | null;
  toolCalls: ToolCallCounts;
  lastCompletedToolCall?: LastCompletedToolCallView;
  /** Agent runs: all of them, and those still `started`. */
  runs: { total: number; open: number };
  /** The sub-agents' runs (Claude Code SubagentStart/Stop), in start order; present only when there are some. */
  subagents?: SubagentView[];
  /** What the agent is doing, from its hooks (docs/ARCHITECTURE.md §2); absent until a hook told. */
  activity?: AgentActivity;
  /** ISO-8601 time of the last event the agent's hooks produced. */
  lastHookAt?: string;
  /** The agent's own report that its session ended, with its reason (Claude Code SessionEnd). */
  agentEnded?: { reason: string; at: string };
  /** Hook-channel health flags (`sessionHealth`), filled live by the API like `runtime.alive`; absent in a stored snapshot. */
  health?: HealthFlag[];
  /** Present only when non-empty, in log order. */
  divergences?: Divergence[];
  /** Results that arrived for interrupted attempts (never merged); present only when non-empty, by call in order of each call's first, each call's in log order. */
  lateResults?: ToolCallLateResult[];
  /** Present only when non-empty, in log order. */
  warnings?: SessionWarning[];
  interruption?: SessionInterruption;
  termination?: SessionTermination;
  /** Present while retiring: why, since when, and why the last replacement stopped half-way (invariant 11). */
  retirement?: SessionRetirement;
  /** The runtime the session asked for (absent in sessions recorded before tmux existed: process). */
  runtimeType?: RuntimeType;
  /** The session whose agent spawned this one. */
  parentSessionId?: string;
  /** The session and call state this one was forked from, and how (docs/ARCHITECTURE.md §4e). */
  forkedFrom?: SessionFork;
  /** How the runtime ended (`exited`). */
  exit?: SessionExit;
  /** How the last relaunch continued the agent: `native` (its own conversation resumed) or `fresh`. */
  resumeMode?: ResumeMode;
  restoring: boolean;
  /** Revision (0-based) of the last event of the session stream folded into this snapshot. */
  revision: number;
  /** ISO-8601, from the events (never a clock). */
  createdAt: string;
  updatedAt: string;
}

/** A sub-agent's run in a session snapshot; `transcriptPath` once the sub-agent reported it. */
export interface SubagentView {
  runId: string;
  agentId?: string;
  agentType?: string;
  status: AgentRun['status'];
  transcriptPath?: string;
  /** Why the run failed or was interrupted. */
  reason?: string;
}

/** A tool call as the API returns it (docs/ARCHITECTURE.md §5): times are ISO-8601 from the events; `result`/`source`/`completedAt` once completed or failed. */
export interface ToolCallView {
  callId: string;
  tool: string;
  status: ToolCallStatus;
  attempt: number;
  input: unknown;
  mode: ToolCallMode;
  result?: { output?: unknown; exitCode?: number; error?: string };
  source?: ToolCallResultSource;
  runId?: string;
  idempotent: boolean;
  /** `transcript` when reconcile appended the call from the agent's transcript (the log never saw it live). */
  dispatchSource?: 'transcript';
  /** The agent's own id of a call recorded under another (a Gemini CLI hook id paired with its chat file's id). */
  agentCallId?: string;
  /** When attempt 1 was dispatched. */
  firstDispatchedAt: string;
  /** When the current attempt was dispatched. */
  dispatchedAt: string;
  /** When the current attempt completed or failed. */
  completedAt?: string;
  interruption?: { reason: string; at: string };
  /** Present only when non-empty. */
  lateResults?: ToolCallLateResult[];
}

/** Code-unit order, independent of the locale (localeCompare is not), so views are identical on every machine. */
const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const nonEmpty = <T>(items: readonly T[]): T[] | undefined => (items.length > 0 ? items.map((item) => ({ ...item })) : undefined);

const toWorktreeView = (worktree: Worktree): WorktreeView =>
  omitUndefined<WorktreeView>({
    repo: worktree.repo,
    path: worktree.path,
    branch: worktree.branch,
    state: worktree.status,
    preservedRef: worktree.status === 'unavailable' ? worktree.preservedRef : worktree.preserved?.ref,
    stranded: worktree.stranded ? true : undefined,
    strandedReason: worktree.stranded ? worktree.strandedReason : undefined,
    removalError: worktree.status === 'retry_remove' ? worktree.removalError : undefined,
    restoreConflict: worktree.lastRestore?.conflict,
  });

const toSubagentView = (run: AgentRun): SubagentView =>
  omitUndefined<SubagentView>({
    runId: run.runId,
    agentId: run.agentId,
    agentType: run.agentType,
    status: run.status,
    transcriptPath: run.transcriptPath,
    reason: run.status === 'failed' ? run.error : run.status === 'interrupted' ? run.reason : undefined,
  });

const toRuntimeView = (runtime: SessionRuntime | undefined, exit?: SessionExit): RuntimeView | null => {
  if (runtime === undefined) return null;
  return omitUndefined<RuntimeView>({
    exitCode: exit?.exitCode,
    signal: exit?.signal,
    type: runtime.type,
    pid: runtime.pid ?? null,
    startTime: runtime.startTime ?? null,
    sessionName: runtime.type === 'tmux' ? runtime.sessionName : undefined,
    socket: runtime.type === 'tmux' ? runtime.socket : undefined,
    alive: null,
  });
};

/** The docs/ARCHITECTURE.md §5 snapshot of a started session at stream revision `revision`; pure (no clock), so rebuild == incremental (invariant 8). */
export const toSessionView = (state: Session, revision: number): SessionView => {
  const last = lastCompletedToolCall(state);
  const runs = Object.values(state.runs);
  return omitUndefined<SessionView>({
    id: state.sessionId,
    projectId: state.projectId,
    kind: state.kind,
    status: state.status,
    agent: state.agent,
    observedAgent: state.observedAgent,
    remote: state.remote ? { ...state.remote } : undefined,
    agentSessionId: state.agentSessionId,
    transcriptPath: state.transcriptPath,
    branch: state.branch,
    baseRef: state.baseRef,
    prompt: state.prompt,
    command: state.command ? [...state.command] : undefined,
    worktrees: Object.values(state.worktrees)
      .map(toWorktreeView)
      .sort((a, b) => byString(a.repo, b.repo)),
    runtime: toRuntimeView(state.runtime, state.status === 'exited' ? state.exit : undefined),
    toolCalls: toolCallCounts(state),
    lastCompletedToolCall: last
      ? omitUndefined<LastCompletedToolCallView>({
          callId: last.callId,
          tool: last.tool,
          status: last.status,
          attempt: last.attempt,
          completedAt: last.status === 'completed' || last.status === 'failed' ? last.result.at : undefined,
        })
      : undefined,
    runs: { total: runs.length, open: runs.filter((run) => run.status === 'started').length },
    subagents: nonEmpty(runs.filter((run) => run.agentId !== undefined || run.runId.startsWith('subagent:')).map(toSubagentView)),
    activity: state.activity,
    lastHookAt: state.lastHookAt,
    agentEnded: state.agentEnded ? { ...state.agentEnded } : undefined,
    divergences: nonEmpty(state.divergences),
    lateResults: nonEmpty(sessionLateResults(state)),
    warnings: nonEmpty(state.warnings),
    interruption: state.status === 'interrupted' ? { ...state.interruption } : undefined,
    termination: state.status === 'terminated' ? { ...state.termination } : undefined,
    retirement: state.status === 'retiring' ? { ...state.retirement } : undefined,
    runtimeType: state.runtimeType,
    parentSessionId: state.parentSessionId,
    forkedFrom: state.forkedFrom ? { ...state.forkedFrom } : undefined,
    exit: state.status === 'exited' ? { ...state.exit } : undefined,
    resumeMode: state.resumeMode,
    restoring: state.restoring,
    revision,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  });
};

/** The docs/ARCHITECTURE.md §5 tool-call shape of one call; pure, times from its events. */
export const toToolCallView = (call: ToolCall): ToolCallView => {
  const result = call.status === 'completed' || call.status === 'failed' ? call.result : undefined;
  return omitUndefined<ToolCallView>({
    callId: call.callId,
    tool: call.tool,
    status: call.status,
    attempt: call.attempt,
    input: call.input,
    mode: call.mode,
    result: result ? omitUndefined({ output: result.output, exitCode: result.exitCode, error: result.error }) : undefined,
    source: result?.source,
    runId: call.runId,
    idempotent: call.idempotent,
    dispatchSource: call.dispatchSource,
    agentCallId: call.agentCallId,
    firstDispatchedAt: call.firstDispatchedAt,
    dispatchedAt: call.dispatchedAt,
    completedAt: result?.at,
    interruption: call.status === 'interrupted' ? { ...call.interruption } : undefined,
    lateResults: nonEmpty(call.lateResults),
  });
};
