import type { ToolCallMode, ToolCallResultSource } from './tool-call.events';

/** Checkpoint a tool call before it runs (invariant 4); `[]` if `callId` exists with the same tool (invariant 3); refused TOOL_CALL.ID_CONFLICT (409) if the tool differs, TOOL_CALL.INVALID (400). */
export interface DispatchToolCall {
  type: 'DispatchToolCall';
  data: {
    callId: string;
    tool: string;
    input: unknown;
    mode: ToolCallMode;
    runId?: string;
    idempotent?: boolean;
    /** `transcript`: recovered from the agent's transcript by reconcile, never seen live. */
    source?: 'transcript';
    at: string;
  };
}

/** Record a result (`attempt` defaults to the current one); late if that attempt was interrupted; refused TOOL_CALL.NOT_FOUND (404), TOOL_CALL.NOT_IN_FLIGHT (409), TOOL_CALL.ATTEMPT_MISMATCH (409). */
export interface RecordToolCallResult {
  type: 'RecordToolCallResult';
  data: {
    callId: string;
    attempt?: number;
    status: 'completed' | 'failed';
    output?: unknown;
    exitCode?: number;
    error?: string;
    source: ToolCallResultSource;
    at: string;
  };
}

/** Mark the in-flight attempt interrupted (invariant 6); refused TOOL_CALL.NOT_FOUND (404), TOOL_CALL.NOT_IN_FLIGHT (409). */
export interface InterruptToolCall {
  type: 'InterruptToolCall';
  data: { callId: string; reason: string; at: string };
}

/** Dispatch an interrupted call again as attempt + 1; refused TOOL_CALL.NOT_FOUND (404), TOOL_CALL.NOT_RETRYABLE (409). */
export interface RetryToolCall {
  type: 'RetryToolCall';
  data: { callId: string; at: string };
}

/** Every command of the tool-call decider. */
export type ToolCallCommand = DispatchToolCall | RecordToolCallResult | InterruptToolCall | RetryToolCall;
