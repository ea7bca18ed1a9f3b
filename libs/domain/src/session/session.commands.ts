// A command carries the data of the event it asks for: its fields are declared once, on the event.
import type { ToolCallCommand } from '../tool-call/tool-call.commands';
import type { RecordUsage } from '../usage/usage.events';
import type { RecordToolCallTelemetry } from '../telemetry/telemetry.events';
import type { WorktreeCommand } from '../worktree/worktree.commands';
import type { FileEffectCommand } from '../file-effects/file-effects.commands';
import type {
  AgentActivityChanged,
  AgentHookReceived,
  AgentSessionEnded,
  AgentRunCompleted,
  AgentRunFailed,
  AgentRunStarted,
  AgentSessionLinked,
  DivergenceDetected,
  SessionAdopted,
  SessionExited,
  SessionInterrupted,
  SessionKilled,
  SessionLaunchFailed,
  SessionRestoreStarted,
  SessionRetirementFailed,
  SessionRetiring,
  SessionRuntimeLaunched,
  SessionStarted,
  SessionTerminated,
} from './session.events';

/** Create the session under an allocated id; refused SESSION.ALREADY_STARTED (409), SESSION.INVALID (400). */
export interface StartSession {
  type: 'StartSession';
  data: SessionStarted['data'];
}

/** Record the launched runtime (from starting, or completing a restore/resume); refused SESSION.INVALID_TRANSITION (409). */
export interface RecordRuntimeLaunched {
  type: 'RecordRuntimeLaunched';
  data: SessionRuntimeLaunched['data'];
}

/** Record that the runtime ended on its own → exited; `[]` if already exited; refused SESSION.INVALID_TRANSITION (409) unless running. */
export interface RecordRuntimeExited {
  type: 'RecordRuntimeExited';
  data: SessionExited['data'];
}

/** Record a failed launch (from starting or a restore) → terminated; refused SESSION.INVALID_TRANSITION (409). */
export interface RecordLaunchFailed {
  type: 'RecordLaunchFailed';
  data: SessionLaunchFailed['data'];
}

/** Adopt a runtime found alive after a restart (from running or interrupted); refused SESSION.INVALID_TRANSITION / SESSION.ALREADY_TERMINATED (409). */
export interface AdoptSession {
  type: 'AdoptSession';
  data: SessionAdopted['data'];
}

/** Mark the session interrupted (runtime gone or unknown); `[]` if already interrupted; refused SESSION.ALREADY_TERMINATED (409). */
export interface InterruptSession {
  type: 'InterruptSession';
  data: SessionInterrupted['data'];
}

/** Begin restoring an interrupted or terminated session under the same id; `[]` if a restore is under way; refused SESSION.NOT_RESTORABLE (409). */
export interface StartRestore {
  type: 'StartRestore';
  data: SessionRestoreStarted['data'];
}

/** Kill the session → terminated; refused SESSION.ALREADY_TERMINATED (409). */
export interface KillSession {
  type: 'KillSession';
  data: SessionKilled['data'];
}

/** Start replacing an orchestrator → retiring; `[]` if already retiring; refused SESSION.NOT_ORCHESTRATOR, SESSION.ALREADY_TERMINATED (409). */
export interface RetireSession {
  type: 'RetireSession';
  data: SessionRetiring['data'];
}

/** Record why a replacement stopped half-way (the session stays retiring); refused SESSION.INVALID_TRANSITION (409) unless retiring. */
export interface RecordRetirementFailure {
  type: 'RecordRetirementFailure';
  data: SessionRetirementFailed['data'];
}

/** End the session → terminated; refused SESSION.WORKTREE_NOT_RELEASED (retiring with a worktree still held), SESSION.ALREADY_TERMINATED (409). */
export interface TerminateSession {
  type: 'TerminateSession';
  data: SessionTerminated['data'];
}

/** Link the agent's own session id and transcript; `[]` if already linked to the same. */
export interface LinkAgentSession {
  type: 'LinkAgentSession';
  data: AgentSessionLinked['data'];
}

/** Start an agent run (a sub-agent's: `agentId`, `agentType`); `[]` if `runId` exists; refused SESSION.NOT_ACTIVE (409), AGENT_RUN.NOT_FOUND (404, unknown parent). */
export interface StartAgentRun {
  type: 'StartAgentRun';
  data: AgentRunStarted['data'];
}

/** Complete a started run (a sub-agent's with its transcript); refused AGENT_RUN.NOT_FOUND (404), AGENT_RUN.NOT_OPEN (409). */
export interface CompleteAgentRun {
  type: 'CompleteAgentRun';
  data: AgentRunCompleted['data'];
}

/** Fail a started run; refused AGENT_RUN.NOT_FOUND (404), AGENT_RUN.NOT_OPEN (409). */
export interface FailAgentRun {
  type: 'FailAgentRun';
  data: AgentRunFailed['data'];
}

/** Record a divergence between the log and an outside source; `[]` if the same one is already recorded. */
export interface RecordDivergence {
  type: 'RecordDivergence';
  data: DivergenceDetected['data'];
}

/** Keep one agent hook event as sent (redacted); always appends (every hook event is kept, docs/ARCHITECTURE.md §4a). */
export interface RecordAgentHook {
  type: 'RecordAgentHook';
  data: AgentHookReceived['data'];
}

/** Set the agent's activity; `[]` when it already is that activity. */
export interface SetAgentActivity {
  type: 'SetAgentActivity';
  data: AgentActivityChanged['data'];
}

/** Record that the agent ended its own session, with its reason; `[]` if the same end is already recorded. */
export interface RecordAgentSessionEnded {
  type: 'RecordAgentSessionEnded';
  data: AgentSessionEnded['data'];
}

/** Commands for what the agent's hooks report outside runs and tool calls. */
export type AgentSignalCommand = RecordAgentHook | SetAgentActivity | RecordAgentSessionEnded;

/** Commands that act on the session itself. */
export type SessionLifecycleCommand =
  | StartSession
  | RecordRuntimeLaunched
  | RecordLaunchFailed
  | RecordRuntimeExited
  | AdoptSession
  | InterruptSession
  | StartRestore
  | KillSession
  | RetireSession
  | RecordRetirementFailure
  | TerminateSession
  | LinkAgentSession
  | RecordDivergence;

/** Commands on the session's agent runs. */
export type AgentRunCommand = StartAgentRun | CompleteAgentRun | FailAgentRun;

/** Every command of the session decider (tool-call and worktree commands are routed to their deciders). */
export type SessionCommand = SessionLifecycleCommand | AgentRunCommand | AgentSignalCommand | ToolCallCommand | WorktreeCommand | FileEffectCommand
  | RecordUsage | RecordToolCallTelemetry;
