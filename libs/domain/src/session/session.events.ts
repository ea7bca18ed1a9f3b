import type { CodingAgent } from '../agent/agent-kinds';
import type { SessionKind } from '../project/project.events';
import type { ToolCallEvent } from '../tool-call/tool-call.events';
import type { UsageRecorded } from '../usage/usage.events';
import type { ToolCallTelemetryRecorded } from '../telemetry/telemetry.events';
import type { WorktreeEvent } from '../worktree/worktree.events';
import type { FileEffectEvent } from '../file-effects/file-effects.events';

/** What runs the session: a plain command, a coding agent (Claude Code, Codex), or an agent runledger only observes/imports. */
export type AgentKind = 'command' | 'claude-code' | 'codex' | 'opencode' | 'gemini-cli' | 'external';

/** An OS process running the agent; `pid` plus `startTime` (opaque, as read from the OS) identify it across restarts (invariant 7). */
export interface ProcessRuntime {
  type: 'process';
  pid: number;
  startTime: string;
  command: string[];
  logPath: string;
}

/** A tmux session running the agent; `sessionName` identifies it across restarts (docs/ARCHITECTURE.md §4). */
export interface TmuxRuntime {
  type: 'tmux';
  /** The installation's tmux server socket. */
  socket?: string;
  sessionName: string;
  pid?: number;
  startTime?: string;
  command: string[];
  logPath?: string;
}

/** Where a session's agent runs. */
export type SessionRuntime = ProcessRuntime | TmuxRuntime;

/** Which runtime a session asked for (docs/ARCHITECTURE.md §4a): a detached process group, or a tmux session a person can attach to. */
export type RuntimeType = SessionRuntime['type'];

/**
 * Where a forked session started: the source session, the call and the side of it whose file state (`tree`) its worktree
 * got, and whether the agent's conversation was forked too (`conversation`) or only the files (`files-only`).
 */
export interface SessionFork {
  sessionId: string;
  callId: string;
  phase: 'before' | 'after';
  tree: string;
  forkMode: 'conversation' | 'files-only';
  /** A conversation fork: the calls of the copied conversation (the source's, never this session's, and never appended to its log from the transcript). */
  inheritedCalls?: string[];
  /** A conversation fork: the model messages of the copied conversation, whose usage is the source's (never recorded again here). */
  inheritedMessages?: string[];
}

/** A session was created (stream `session-<sessionId>`) → starting. */
export interface SessionStarted {
  type: 'SessionStarted';
  data: {
    sessionId: string;
    projectId: string;
    kind: SessionKind;
    agent: AgentKind;
    command?: string[];
    prompt?: string;
    branch: string;
    baseRef: string;
    /** The runtime it runs in; absent in streams written before tmux existed (process). */
    runtimeType?: RuntimeType;
    /** The session whose agent spawned this one (with its session credential). */
    parentSessionId?: string;
    /** An external session's coding agent, whose hooks and transcript record it; absent in streams written before Codex (Claude Code). */
    observedAgent?: CodingAgent;
    /** The session and call state this one was forked from (docs/ARCHITECTURE.md §4e). */
    forkedFrom?: SessionFork;
    /** The session's own spending limit in USD (docs/ARCHITECTURE.md §4g): past it, its next tool call is blocked. */
    budgetUsd?: number;
    /** A remote flight-recorder session (docs/ARCHITECTURE.md §4f): its agent runs on another machine, its transcript arrives shipped. */
    remote?: RemoteOrigin;
    at: string;
  };
}

/**
 * Where a remote flight-recorder session runs (docs/ARCHITECTURE.md §4f): `host` the machine's host name as its hook
 * sent it, `person` the name of the person whose token the hook used (`admin` for the bootstrap token). The server never
 * reads that machine's disk: the transcript arrives through `PUT /hooks/:agent/transcript`, and liveness is judged from
 * the session's signals only.
 */
export interface RemoteOrigin {
  host: string;
  person: string;
}

/** How a relaunch continued the agent: `native` resumed its own conversation (`claude --resume`), `fresh` started it anew (docs/ARCHITECTURE.md §4). */
export type ResumeMode = 'native' | 'fresh';

/** The agent runtime was launched → running (from starting, or from interrupted/exited/terminated to complete a restore or resume, same id). */
export interface SessionRuntimeLaunched {
  type: 'SessionRuntimeLaunched';
  data: { runtime: SessionRuntime; resumeMode?: ResumeMode; at: string };
}

/**
 * The agent's runtime ended on its own → exited (docs/ARCHITECTURE.md §2): exit code or signal when observed (absent when runledger
 * was not its parent); `finished` says its last run had ended (Stop recorded or the transcript's last turn ended).
 */
export interface SessionExited {
  type: 'SessionExited';
  data: { exitCode?: number; signal?: string; finished: boolean; reason: string; at: string };
}

/** The runtime could not be launched → terminated. */
export interface SessionLaunchFailed {
  type: 'SessionLaunchFailed';
  data: { reason: string; at: string };
}

/** After a restart the recorded runtime was found alive and kept → running, same id (invariant 7). */
export interface SessionAdopted {
  type: 'SessionAdopted';
  data: { runtime: SessionRuntime; at: string };
}

/** The runtime is gone or unknown → interrupted; `resumable` says whether a restore can continue its work (docs/ARCHITECTURE.md §4). */
export interface SessionInterrupted {
  type: 'SessionInterrupted';
  data: { reason: string; resumable: boolean; at: string };
}

/** A restore began (from interrupted or terminated); status unchanged, `restoring` set until the runtime is launched. */
export interface SessionRestoreStarted {
  type: 'SessionRestoreStarted';
  data: { at: string };
}

/** The session was killed → terminated; `freed` tells whether its worktrees were released (Kill never removes a dirty worktree, invariant 10). */
export interface SessionKilled {
  type: 'SessionKilled';
  data: { reason: string; freed: boolean; at: string };
}

/** An orchestrator is being replaced → retiring (invariant 11); `reason` says why. */
export interface SessionRetiring {
  type: 'SessionRetiring';
  data: { reason?: string; at: string };
}

/** A replacement stopped half-way: the session stays retiring with `reason`, and a retry completes it (invariant 11). */
export interface SessionRetirementFailed {
  type: 'SessionRetirementFailed';
  data: { reason: string; at: string };
}

/** The session ended → terminated; from retiring only once every worktree is released (invariant 11). */
export interface SessionTerminated {
  type: 'SessionTerminated';
  data: { reason: string; at: string };
}

/** The agent's own session was linked (Claude Code `session_id` and `transcript_path`). */
export interface AgentSessionLinked {
  type: 'AgentSessionLinked';
  data: { agentSessionId: string; transcriptPath?: string; at: string };
}

/** An agent run (one prompt/turn of work, or a sub-agent's run: `agentId`, `agentType`) started → started. */
export interface AgentRunStarted {
  type: 'AgentRunStarted';
  data: { runId: string; prompt?: string; parentRunId?: string; agentId?: string; agentType?: string; at: string };
}

/** An agent run completed → completed; a sub-agent's run names its own transcript. */
export interface AgentRunCompleted {
  type: 'AgentRunCompleted';
  data: { runId: string; transcriptPath?: string; at: string };
}

/** An agent run failed → failed. */
export interface AgentRunFailed {
  type: 'AgentRunFailed';
  data: { runId: string; error: string; at: string };
}

/** An agent run lost its runtime → interrupted (docs/ARCHITECTURE.md §4.3). */
export interface AgentRunInterrupted {
  type: 'AgentRunInterrupted';
  data: { runId: string; reason: string; at: string };
}

/** The log and an outside source (e.g. the agent's transcript) disagree: surfaced, never silently merged (docs/ARCHITECTURE.md §4). */
export interface DivergenceDetected {
  type: 'DivergenceDetected';
  data: { callId?: string; kind: string; detail: string; at: string };
}

/** What the agent is doing, derived from its hooks (docs/ARCHITECTURE.md §2). */
export type AgentActivity = 'working' | 'waiting_input' | 'idle';

/** An agent hook event kept as sent (redacted), for every event no other session event represents (docs/ARCHITECTURE.md §4a). */
export interface AgentHookReceived {
  type: 'AgentHookReceived';
  data: { hook: string; agentId?: string; detail: Record<string, unknown>; at: string };
}

/** The agent's activity changed; `hook` names the hook event that revealed it. */
export interface AgentActivityChanged {
  type: 'AgentActivityChanged';
  data: { activity: AgentActivity; hook: string; at: string };
}

/** The agent reported the end of its own session (Claude Code SessionEnd), with its reason. */
export interface AgentSessionEnded {
  type: 'AgentSessionEnded';
  data: { reason: string; at: string };
}

/** Events reported by the agent's hooks that move neither a run nor a tool call. */
export type AgentSignalEvent = AgentHookReceived | AgentActivityChanged | AgentSessionEnded;

/** Events that move the session's own status. */
export type SessionLifecycleEvent =
  | SessionStarted
  | SessionRuntimeLaunched
  | SessionLaunchFailed
  | SessionAdopted
  | SessionExited
  | SessionInterrupted
  | SessionRestoreStarted
  | SessionKilled
  | SessionRetiring
  | SessionRetirementFailed
  | SessionTerminated
  | AgentSessionLinked;

/** Events of the session's agent runs. */
export type AgentRunEvent = AgentRunStarted | AgentRunCompleted | AgentRunFailed | AgentRunInterrupted;

/** Every event of a session stream: lifecycle, agent runs, tool calls, worktrees, file effects and divergences (one stream replays one session). */
export type SessionEvent = SessionLifecycleEvent | AgentRunEvent | AgentSignalEvent | ToolCallEvent | WorktreeEvent | FileEffectEvent | DivergenceDetected
  | UsageRecorded | ToolCallTelemetryRecorded;
