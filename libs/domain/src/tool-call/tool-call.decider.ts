import { assertNever } from '../shared/assert-never';
import type { Decider } from '../shared/decider';
import { omitUndefined } from '../shared/omit-undefined';
import type {
  DispatchToolCall,
  IdentifyToolCall,
  InterruptToolCall,
  RecordToolCallResult,
  RetryToolCall,
  ToolCallCommand,
} from './tool-call.commands';
import {
  toolCallAttemptMismatch,
  toolCallIdConflict,
  toolCallInvalid,
  toolCallNotFound,
  toolCallNotInFlight,
  toolCallNotRetryable,
} from './tool-call.errors';
import type { ToolCallDispatched, ToolCallEvent, ToolCallResultSource } from './tool-call.events';

/** A recorded result of one attempt; times are ISO-8601. */
export interface ToolCallResult {
  output?: unknown;
  exitCode?: number;
  error?: string;
  source: ToolCallResultSource;
  at: string;
}

/** A result that arrived for an interrupted attempt: kept apart, never merged (docs/ARCHITECTURE.md §2). */
export interface ToolCallLateResult extends ToolCallResult {
  callId: string;
  attempt: number;
  status: 'completed' | 'failed';
}

/** Fields every dispatched call keeps; `attempt` is 1-based and counts dispatches. */
export interface ToolCallBase extends Pick<ToolCallDispatched['data'], 'callId' | 'tool' | 'input' | 'mode' | 'attempt' | 'runId'> {
  idempotent: boolean;
  /** `transcript` when reconcile appended the call from the agent's transcript (the log never saw it live). */
  dispatchSource?: 'transcript';
  /** The agent's own id of a call recorded under another (ToolCallIdentified: a Gemini CLI hook id and its chat file's id). */
  agentCallId?: string;
  /** When attempt 1 was dispatched. */
  firstDispatchedAt: string;
  /** When the current attempt was dispatched. */
  dispatchedAt: string;
  updatedAt: string;
  lateResults: ToolCallLateResult[];
}

/** One tool call: `dispatched → completed | failed | interrupted`, `interrupted → dispatched` (retry, next attempt). */
export type ToolCall =
  | (ToolCallBase & { status: 'dispatched' })
  | (ToolCallBase & { status: 'completed'; result: ToolCallResult })
  | (ToolCallBase & { status: 'failed'; result: ToolCallResult })
  | (ToolCallBase & { status: 'interrupted'; interruption: { reason: string; at: string } });

/** Status of a tool call; `none` is a callId never dispatched (the state machine's (docs/ARCHITECTURE.md §2) `requested` is the command, checkpointed as `dispatched`). */
export type ToolCallStatus = ToolCall['status'];

/** State of one tool call's decider. */
export type ToolCallState = { status: 'none' } | ToolCall;

/**
 * True when the call's current attempt already has its result: completed, failed, or interrupted with a late result for
 * that attempt. A result that arrives again (a hook delivered twice, a transcript read twice) then adds nothing, so each
 * attempt keeps at most one result or late result from the paths that replay (docs/ARCHITECTURE.md §2).
 */
export const hasResult = (call: ToolCall): boolean =>
  call.status === 'completed' || call.status === 'failed' || (call.status === 'interrupted' && call.lateResults.some((late) => late.attempt === call.attempt));

/** Policy: an interrupted call whose tool is declared idempotent may be retried automatically (docs/ARCHITECTURE.md §2); others need an explicit RetryToolCall. */
export const isAutoRetryable = (call: ToolCallState): boolean => call.status === 'interrupted' && call.idempotent;

const dispatch = ({ data }: DispatchToolCall, state: ToolCallState): ToolCallEvent[] => {
  if (!data.callId.trim()) throw toolCallInvalid('callId', 'must not be empty');
  if (!data.tool.trim()) throw toolCallInvalid('tool', 'must not be empty');
  if (data.mode !== 'observed' && data.mode !== 'managed') throw toolCallInvalid('mode', 'must be observed or managed');
  if (state.status !== 'none') {
    if (state.tool === data.tool) return [];
    throw toolCallIdConflict(data.callId, state.tool, state.status);
  }
  return [{ type: 'ToolCallDispatched', data: omitUndefined({ ...data, attempt: 1 }) }];
};

const recordResult = ({ data }: RecordToolCallResult, state: ToolCallState): ToolCallEvent[] => {
  if (state.status === 'none') throw toolCallNotFound(data.callId);
  const attempt = data.attempt ?? state.attempt;
  if (attempt > state.attempt || attempt < 1) throw toolCallAttemptMismatch(data.callId, state.attempt, state.status);
  const { attempt: _ignored, ...result } = data;
  if (attempt < state.attempt || state.status === 'interrupted') {
    return [{ type: 'ToolCallLateResultRecorded', data: omitUndefined({ ...result, attempt }) }];
  }
  if (state.status !== 'dispatched') throw toolCallNotInFlight(data.callId, state.status, state.attempt);
  const { status, error, ...rest } = result;
  return status === 'completed'
    ? [{ type: 'ToolCallCompleted', data: omitUndefined({ ...rest, attempt }) }]
    : [{ type: 'ToolCallFailed', data: omitUndefined({ ...rest, error, attempt }) }];
};

const interrupt = ({ data }: InterruptToolCall, state: ToolCallState): ToolCallEvent[] => {
  if (state.status === 'none') throw toolCallNotFound(data.callId);
  if (state.status !== 'dispatched') throw toolCallNotInFlight(data.callId, state.status, state.attempt);
  return [{ type: 'ToolCallInterrupted', data: { callId: data.callId, attempt: state.attempt, reason: data.reason, at: data.at } }];
};

const retry = ({ data }: RetryToolCall, state: ToolCallState): ToolCallEvent[] => {
  if (state.status === 'none') throw toolCallNotFound(data.callId);
  if (state.status !== 'interrupted') throw toolCallNotRetryable(data.callId, state.status);
  return [
    {
      type: 'ToolCallDispatched',
      data: omitUndefined({
        callId: state.callId,
        tool: state.tool,
        input: state.input,
        mode: state.mode,
        attempt: state.attempt + 1,
        runId: state.runId,
        idempotent: state.idempotent || undefined,
        at: data.at,
      }),
    },
  ];
};

const identify = ({ data }: IdentifyToolCall, state: ToolCallState): ToolCallEvent[] => {
  if (state.status === 'none') throw toolCallNotFound(data.callId);
  return state.agentCallId === data.agentCallId ? [] : [{ type: 'ToolCallIdentified', data: { ...data } }];
};

/** Decides a command for ONE tool call (invariants 3–6); throws TOOL_CALL.* DomainErrors. */
export const decideToolCall = (command: ToolCallCommand, state: ToolCallState): ToolCallEvent[] => {
  switch (command.type) {
    case 'DispatchToolCall':
      return dispatch(command, state);
    case 'RecordToolCallResult':
      return recordResult(command, state);
    case 'InterruptToolCall':
      return interrupt(command, state);
    case 'RetryToolCall':
      return retry(command, state);
    case 'IdentifyToolCall':
      return identify(command, state);
    default:
      return assertNever(command);
  }
};

/**
 * The fields every status keeps, at `attempt` and `updatedAt`. Built field by field, as are the results below: a rest
 * pattern (`{ status, ...base }`) copies through V8's slow path, a few KB of garbage per event, and every replay pays it.
 */
const baseOf = (call: ToolCall, attempt: number, updatedAt: string): ToolCallBase => {
  const base: ToolCallBase = {
    callId: call.callId,
    tool: call.tool,
    input: call.input,
    mode: call.mode,
    attempt,
    idempotent: call.idempotent,
    firstDispatchedAt: call.firstDispatchedAt,
    dispatchedAt: call.dispatchedAt,
    updatedAt,
    lateResults: call.lateResults,
  };
  if (call.runId !== undefined) base.runId = call.runId;
  if (call.dispatchSource !== undefined) base.dispatchSource = call.dispatchSource;
  if (call.agentCallId !== undefined) base.agentCallId = call.agentCallId;
  return base;
};

/** The result an event carries (its fields but the call id and attempt). */
const resultOf = ({ output, exitCode, error, source, at }: ToolCallResult): ToolCallResult => {
  const result: ToolCallResult = { source, at };
  if (output !== undefined) result.output = output;
  if (exitCode !== undefined) result.exitCode = exitCode;
  if (error !== undefined) result.error = error;
  return result;
};

/** Folds one event into ONE tool call's state; never mutates its input; an event for another state is applied as recorded (the log is the truth). */
export const evolveToolCall = (state: ToolCallState, event: ToolCallEvent): ToolCallState => {
  switch (event.type) {
    case 'ToolCallDispatched': {
      const { callId, tool, input, mode, attempt, runId, idempotent, source, at } = event.data;
      const previous = state.status === 'none' ? undefined : state;
      // Built field by field: a rest pattern (`...data`) copies through V8's slow path, ~2.5 KB of garbage per event.
      const call: ToolCall = {
        callId,
        tool,
        input,
        mode,
        attempt,
        idempotent: idempotent === true,
        status: 'dispatched',
        firstDispatchedAt: previous?.firstDispatchedAt ?? at,
        dispatchedAt: at,
        updatedAt: at,
        lateResults: previous?.lateResults ?? [],
      };
      if (runId !== undefined) call.runId = runId;
      if (source) call.dispatchSource = source;
      if (previous?.agentCallId !== undefined) call.agentCallId = previous.agentCallId;
      return call;
    }
    case 'ToolCallCompleted':
    case 'ToolCallFailed': {
      if (state.status === 'none') return state;
      const call = baseOf(state, event.data.attempt, event.data.at) as ToolCall & { result: ToolCallResult };
      call.status = event.type === 'ToolCallCompleted' ? 'completed' : 'failed';
      call.result = resultOf(event.data);
      return call;
    }
    case 'ToolCallInterrupted': {
      if (state.status === 'none') return state;
      const { reason, at, attempt } = event.data;
      const call = baseOf(state, attempt, at) as ToolCall & { interruption: { reason: string; at: string } };
      call.status = 'interrupted';
      call.interruption = { reason, at };
      return call;
    }
    case 'ToolCallLateResultRecorded': {
      if (state.status === 'none') return state;
      return { ...state, lateResults: [...state.lateResults, { ...event.data }], updatedAt: event.data.at };
    }
    case 'ToolCallIdentified':
      return state.status === 'none' ? state : { ...state, agentCallId: event.data.agentCallId, updatedAt: event.data.at };
    default:
      return assertNever(event);
  }
};

/** The decider of ONE tool call; the session decider routes each tool-call command to it with that call's state. */
export const toolCallDecider: Decider<ToolCallState, ToolCallCommand, ToolCallEvent> = {
  decide: decideToolCall,
  evolve: evolveToolCall,
  initialState: () => ({ status: 'none' }),
};
