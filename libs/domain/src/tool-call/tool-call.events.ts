/** `observed`: the agent runs the tool and runledger records it; `managed`: runledger's executor runs it. */
export type ToolCallMode = 'observed' | 'managed';

/** Where a result came from: the agent, runledger's executor, an agent hook, the agent's transcript (recovery), or an import. */
export type ToolCallResultSource = 'agent' | 'executor' | 'hook' | 'transcript' | 'import';

/** Checkpoint before dispatch (invariant 4): attempt `attempt` (1-based) of call `callId` may now run. */
export interface ToolCallDispatched {
  type: 'ToolCallDispatched';
  data: {
    callId: string;
    tool: string;
    input: unknown;
    mode: ToolCallMode;
    attempt: number;
    runId?: string;
    idempotent?: boolean;
    /** `transcript`: the log never saw the call live; reconcile appended it from the agent's transcript (invariant 15). */
    source?: 'transcript';
    at: string;
  };
}

/** The in-flight attempt completed (invariant 5: appended as soon as observed). */
export interface ToolCallCompleted {
  type: 'ToolCallCompleted';
  data: { callId: string; attempt: number; output?: unknown; exitCode?: number; source: ToolCallResultSource; at: string };
}

/** The in-flight attempt failed (invariant 5). */
export interface ToolCallFailed {
  type: 'ToolCallFailed';
  data: {
    callId: string;
    attempt: number;
    error?: string;
    output?: unknown;
    exitCode?: number;
    source: ToolCallResultSource;
    at: string;
  };
}

/** The in-flight attempt lost its owner (invariant 6); only an explicit retry dispatches it again. */
export interface ToolCallInterrupted {
  type: 'ToolCallInterrupted';
  data: { callId: string; attempt: number; reason: string; at: string };
}

/** A result for an attempt already interrupted: recorded and surfaced, never merged; the call's status does not change (docs/ARCHITECTURE.md §2). */
export interface ToolCallLateResultRecorded {
  type: 'ToolCallLateResultRecorded';
  data: {
    callId: string;
    attempt: number;
    status: 'completed' | 'failed';
    output?: unknown;
    exitCode?: number;
    error?: string;
    source: ToolCallResultSource;
    at: string;
  };
}

/**
 * The agent's own id of a call the log knows under another (docs/ARCHITECTURE.md §4d): Gemini CLI's hooks carry no call
 * id, so a call a hook recorded under a hook id is identified with its chat file's id once a reconcile paired them.
 */
export interface ToolCallIdentified {
  type: 'ToolCallIdentified';
  data: { callId: string; agentCallId: string; at: string };
}

/** Every event of one tool call. */
export type ToolCallEvent =
  | ToolCallIdentified
  | ToolCallDispatched
  | ToolCallCompleted
  | ToolCallFailed
  | ToolCallInterrupted
  | ToolCallLateResultRecorded;
