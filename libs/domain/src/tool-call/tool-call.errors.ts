import { DomainError } from '../shared/domain-error';

/** 404: no tool call with this callId in the session. */
export const ToolCallNotFound = 'TOOL_CALL.NOT_FOUND';
/** 409: the call is not dispatched (details.status), so it takes no result or interruption. */
export const ToolCallNotInFlight = 'TOOL_CALL.NOT_IN_FLIGHT';
/** 409: the callId is already used by a different tool (details.tool). */
export const ToolCallIdConflict = 'TOOL_CALL.ID_CONFLICT';
/** 409: only an interrupted call can be retried (details.status). */
export const ToolCallNotRetryable = 'TOOL_CALL.NOT_RETRYABLE';
/** 409: the result names an attempt that was never dispatched (details.attempt is the current one). */
export const ToolCallAttemptMismatch = 'TOOL_CALL.ATTEMPT_MISMATCH';
/** 400: a field of the command is invalid (details.field). */
export const ToolCallInvalid = 'TOOL_CALL.INVALID';

/** Every error code the tool-call decider throws. */
export const TOOL_CALL_ERROR_CODES = [ToolCallNotFound, ToolCallNotInFlight, ToolCallIdConflict, ToolCallNotRetryable, ToolCallAttemptMismatch, ToolCallInvalid] as const;

/** One of TOOL_CALL_ERROR_CODES. */
export type ToolCallErrorCode = (typeof TOOL_CALL_ERROR_CODES)[number];

/** TOOL_CALL.NOT_FOUND (404). */
export const toolCallNotFound = (callId: string): DomainError =>
  new DomainError(ToolCallNotFound, 'not_found', `tool call ${callId} not found`, { callId });

/** TOOL_CALL.NOT_IN_FLIGHT (409) with details {callId, status, attempt}. */
export const toolCallNotInFlight = (callId: string, status: string, attempt: number): DomainError =>
  new DomainError(ToolCallNotInFlight, 'conflict', `tool call ${callId} is ${status}, not in flight`, {
    callId,
    status,
    attempt,
  });

/** TOOL_CALL.ID_CONFLICT (409) with details {callId, tool, status} of the existing call. */
export const toolCallIdConflict = (callId: string, tool: string, status: string): DomainError =>
  new DomainError(ToolCallIdConflict, 'conflict', `tool call ${callId} already exists for tool ${tool}`, {
    callId,
    tool,
    status,
  });

/** TOOL_CALL.NOT_RETRYABLE (409) with details {callId, status}. */
export const toolCallNotRetryable = (callId: string, status: string): DomainError =>
  new DomainError(ToolCallNotRetryable, 'conflict', `tool call ${callId} is ${status}; only an interrupted call can be retried`, {
    callId,
    status,
  });

/** TOOL_CALL.ATTEMPT_MISMATCH (409) with details {callId, attempt (current), status}. */
export const toolCallAttemptMismatch = (callId: string, attempt: number, status: string): DomainError =>
  new DomainError(ToolCallAttemptMismatch, 'conflict', `tool call ${callId} has no attempt beyond ${attempt}`, {
    callId,
    attempt,
    status,
  });

/** TOOL_CALL.INVALID (400) with details {field}. */
export const toolCallInvalid = (field: string, message: string): DomainError =>
  new DomainError(ToolCallInvalid, 'invalid', `${field}: ${message}`, { field });
