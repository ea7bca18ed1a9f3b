import type { ToolCallDispatched, ToolCallIdentified, ToolCallInterrupted, ToolCallLateResultRecorded } from './tool-call.events';

// A command carries the data of the event it asks for (the decider assigns the attempt): fields are declared once, on the event.

/** Checkpoint a tool call before it runs (invariant 4); `[]` if `callId` exists with the same tool (invariant 3); refused TOOL_CALL.ID_CONFLICT (409) if the tool differs, TOOL_CALL.INVALID (400). */
export interface DispatchToolCall {
  type: 'DispatchToolCall';
  data: Omit<ToolCallDispatched['data'], 'attempt'>;
}

/** Record a result (`attempt` defaults to the current one); late if that attempt was interrupted; refused TOOL_CALL.NOT_FOUND (404), TOOL_CALL.NOT_IN_FLIGHT (409), TOOL_CALL.ATTEMPT_MISMATCH (409). */
export interface RecordToolCallResult {
  type: 'RecordToolCallResult';
  data: Omit<ToolCallLateResultRecorded['data'], 'attempt'> & { attempt?: number };
}

/** Mark the in-flight attempt interrupted (invariant 6); refused TOOL_CALL.NOT_FOUND (404), TOOL_CALL.NOT_IN_FLIGHT (409). */
export interface InterruptToolCall {
  type: 'InterruptToolCall';
  data: Omit<ToolCallInterrupted['data'], 'attempt'>;
}

/** Dispatch an interrupted call again as attempt + 1; refused TOOL_CALL.NOT_FOUND (404), TOOL_CALL.NOT_RETRYABLE (409). */
export interface RetryToolCall {
  type: 'RetryToolCall';
  data: { callId: string; at: string };
}

/** Record the agent's own id of a call (ToolCallIdentified); `[]` when it already has that id; refused TOOL_CALL.NOT_FOUND (404). */
export interface IdentifyToolCall {
  type: 'IdentifyToolCall';
  data: ToolCallIdentified['data'];
}

/** Every command of the tool-call decider. */
export type ToolCallCommand = DispatchToolCall | RecordToolCallResult | InterruptToolCall | RetryToolCall | IdentifyToolCall;
