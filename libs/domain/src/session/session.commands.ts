import type { SessionKind } from '../project/project.events';
import type { ToolCallCommand } from '../tool-call/tool-call.commands';
import type { WorktreeCommand } from '../worktree/worktree.commands';
import type { AgentKind, RuntimeType, SessionRuntime } from './session.events';

/** Create the session under an allocated id; refused SESSION.ALREADY_STARTED (409), SESSION.INVALID (400). */
export interface StartSession {
  type: 'StartSession';
  data: {
    sessionId: string;
    projectId: string;
    kind: SessionKind;
    agent: AgentKind;
    command?: string[];
    prompt?: string;
    branch: string;
    baseRef: string;
    runtimeType?: RuntimeType;
    parentSessionId?: string;
    at: string;
  };
}

/** Record the launched runtime (from starting, or completing a restore); refused SESSION.INVALID_TRANSITION (409). */
export interface RecordRuntimeLaunched {
  type: 'RecordRuntimeLaunched';
  data: { runtime: SessionRuntime; at: string };
}

/** Record a failed launch (from starting or a restore) → terminated; refused SESSION.INVALID_TRANSITION (409). */
export interface RecordLaunchFailed {
  type: 'RecordLaunchFailed';
  data: { reason: string; at: string };
}

/** Adopt a runtime found alive after a restart (from running or interrupted); refused SESSION.INVALID_TRANSITION / SESSION.ALREADY_TERMINATED (409). */
export interface AdoptSession {
  type: 'AdoptSession';
  data: { runtime: SessionRuntime; at: string };
}

/** Mark the session interrupted (runtime gone or unknown); `[]` if already interrupted; refused SESSION.ALREADY_TERMINATED (409). */
export interface InterruptSession {
  type: 'InterruptSession';
  data: { reason: string; resumable: boolean; at: string };
}

/** Begin restoring an interrupted or terminated session under the same id; `[]` if a restore is under way; refused SESSION.NOT_RESTORABLE (409). */
export interface StartRestore {
  type: 'StartRestore';
  data: { at: string };
}

/** Kill the session → terminated; refused SESSION.ALREADY_TERMINATED (409). */
export interface KillSession {
  type: 'KillSession';
  data: { reason: string; freed: boolean; at: string };
}

/** Start replacing an orchestrator → retiring; `[]` if already retiring; refused SESSION.NOT_ORCHESTRATOR, SESSION.ALREADY_TERMINATED (409). */
export interface RetireSession {
  type: 'RetireSession';
  data: { reason?: string; at: string };
}

/** Record why a replacement stopped half-way (the session stays retiring); refused SESSION.INVALID_TRANSITION (409) unless retiring. */
export interface RecordRetirementFailure {
  type: 'RecordRetirementFailure';
  data: { reason: string; at: string };
}

/** End the session → terminated; refused SESSION.WORKTREE_NOT_RELEASED (retiring with a worktree still held), SESSION.ALREADY_TERMINATED (409). */
export interface TerminateSession {
  type: 'TerminateSession';
  data: { reason: string; at: string };
}

/** Link the agent's own session id and transcript; `[]` if already linked to the same. */
export interface LinkAgentSession {
  type: 'LinkAgentSession';
  data: { agentSessionId: string; transcriptPath?: string; at: string };
}

/** Start an agent run; `[]` if `runId` exists; refused SESSION.NOT_ACTIVE (409), AGENT_RUN.NOT_FOUND (404, unknown parent). */
export interface StartAgentRun {
  type: 'StartAgentRun';
  data: { runId: string; prompt?: string; parentRunId?: string; at: string };
}

/** Complete a started run; refused AGENT_RUN.NOT_FOUND (404), AGENT_RUN.NOT_OPEN (409). */
export interface CompleteAgentRun {
  type: 'CompleteAgentRun';
  data: { runId: string; at: string };
}

/** Fail a started run; refused AGENT_RUN.NOT_FOUND (404), AGENT_RUN.NOT_OPEN (409). */
export interface FailAgentRun {
  type: 'FailAgentRun';
  data: { runId: string; error: string; at: string };
}

/** Interrupt a started run; refused AGENT_RUN.NOT_FOUND (404), AGENT_RUN.NOT_OPEN (409). */
export interface InterruptAgentRun {
  type: 'InterruptAgentRun';
  data: { runId: string; reason: string; at: string };
}

/** Record a divergence between the log and an outside source; `[]` if the same one is already recorded. */
export interface RecordDivergence {
  type: 'RecordDivergence';
  data: { callId?: string; kind: string; detail: string; at: string };
}

/** Commands that act on the session itself. */
export type SessionLifecycleCommand =
  | StartSession
  | RecordRuntimeLaunched
  | RecordLaunchFailed
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
export type AgentRunCommand = StartAgentRun | CompleteAgentRun | FailAgentRun | InterruptAgentRun;

/** Every command of the session decider (tool-call and worktree commands are routed to their deciders). */
export type SessionCommand = SessionLifecycleCommand | AgentRunCommand | ToolCallCommand | WorktreeCommand;
