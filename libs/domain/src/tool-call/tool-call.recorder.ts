import { omitUndefined } from '../shared/omit-undefined';
import type { DispatchToolCall, RecordToolCallResult } from './tool-call.commands';

/** Replaces secret values in a value of any shape and returns the same shape (invariant 12); pure. */
export type Redact = <T>(value: T) => T;

/** Builds the commands that put a tool call, or its result, into a session's log, redacted (invariant 12). */
export interface ToolCallRecorder {
  /** DispatchToolCall with its `input` redacted; keys whose value is `undefined` are left out. */
  dispatch(call: DispatchToolCall['data']): DispatchToolCall;
  /** RecordToolCallResult with its `output` and `error` redacted; keys whose value is `undefined` are left out. */
  result(result: RecordToolCallResult['data']): RecordToolCallResult;
}

/**
 * The one place DispatchToolCall and RecordToolCallResult are built (test/architecture/tool-call-intake.test.ts checks
 * it). Every path that records tool calls (the API, Claude Code hooks, transcript import, the managed executor,
 * reconcile) gets a recorder from the application's ToolCallIntake, and a recorder cannot be made without a redaction,
 * so no path can forget it (docs/ARCHITECTURE.md §2, invariant 12). Pure: `redact` must be.
 */
export const toolCallRecorder = (redact: Redact): ToolCallRecorder => ({
  dispatch: (call) => ({ type: 'DispatchToolCall', data: omitUndefined({ ...call, input: redact(call.input) }) }),
  result: (result) => ({
    type: 'RecordToolCallResult',
    data: omitUndefined({
      ...result,
      output: result.output === undefined ? undefined : redact(result.output),
      error: result.error === undefined ? undefined : redact(result.error),
    }),
  }),
});
