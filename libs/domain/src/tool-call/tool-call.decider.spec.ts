import { replay } from '../shared/decider';
import { deepFreeze, given } from '../shared/given-when-then';
import type { RecordToolCallResult, ToolCallCommand } from './tool-call.commands';
import { isAutoRetryable, toolCallDecider, type ToolCallState } from './tool-call.decider';
import {
  ToolCallAttemptMismatch,
  ToolCallIdConflict,
  ToolCallInvalid,
  ToolCallNotFound,
  ToolCallNotInFlight,
  ToolCallNotRetryable,
} from './tool-call.errors';
import type { ToolCallEvent } from './tool-call.events';

const T = (s: number): string => `2025-01-01T00:00:${String(s).padStart(2, '0')}.000Z`;
const CALL = 'call-1';
const INPUT = { command: 'ls -la' };

const dispatch = (over: Partial<Extract<ToolCallCommand, { type: 'DispatchToolCall' }>['data']> = {}): ToolCallCommand => ({
  type: 'DispatchToolCall',
  data: { callId: CALL, tool: 'Bash', input: INPUT, mode: 'observed', at: T(1), ...over },
});
const dispatched = (attempt = 1, at = T(1), over: Partial<Extract<ToolCallEvent, { type: 'ToolCallDispatched' }>['data']> = {}): ToolCallEvent => ({
  type: 'ToolCallDispatched',
  data: { callId: CALL, tool: 'Bash', input: INPUT, mode: 'observed', attempt, at, ...over },
});
const result = (over: Partial<RecordToolCallResult['data']> = {}): ToolCallCommand => ({
  type: 'RecordToolCallResult',
  data: { callId: CALL, status: 'completed', output: 'ok', exitCode: 0, source: 'hook', at: T(2), ...over },
});
const completed = (attempt = 1): ToolCallEvent => ({
  type: 'ToolCallCompleted',
  data: { callId: CALL, attempt, output: 'ok', exitCode: 0, source: 'hook', at: T(2) },
});
const failed = (attempt = 1): ToolCallEvent => ({
  type: 'ToolCallFailed',
  data: { callId: CALL, attempt, error: 'boom', exitCode: 1, source: 'executor', at: T(2) },
});
const interrupted = (attempt = 1): ToolCallEvent => ({
  type: 'ToolCallInterrupted',
  data: { callId: CALL, attempt, reason: 'owner gone', at: T(3) },
});
const interrupt: ToolCallCommand = { type: 'InterruptToolCall', data: { callId: CALL, reason: 'owner gone', at: T(3) } };
const retry: ToolCallCommand = { type: 'RetryToolCall', data: { callId: CALL, at: T(4) } };

const given_ = (events: ToolCallEvent[] = []) => given(toolCallDecider, events);

describe('tool-call decider', () => {
  describe('DispatchToolCall (checkpoint before dispatch, invariant 4)', () => {
    it('dispatches attempt 1', () => given_().when(dispatch()).then([dispatched()]));

    it('keeps runId and the idempotent flag', () =>
      given_()
        .when(dispatch({ mode: 'managed', runId: 'run-1', idempotent: true }))
        .then([dispatched(1, T(1), { mode: 'managed', runId: 'run-1', idempotent: true })]));

    it.each<[string, ToolCallEvent[]]>([
      ['dispatched', [dispatched()]],
      ['completed', [dispatched(), completed()]],
      ['interrupted', [dispatched(), interrupted()]],
    ])('is idempotent for an existing %s call with the same tool (invariant 3)', (_status, history) =>
      given_(history).when(dispatch({ at: T(9) })).then([]));

    it('refuses an existing callId used by another tool', () =>
      given_([dispatched()]).when(dispatch({ tool: 'Edit' })).thenThrows(ToolCallIdConflict, { tool: 'Bash', status: 'dispatched' }));

    it.each<[string, Parameters<typeof dispatch>[0]]>([
      ['tool', { tool: '' }],
      ['callId', { callId: ' ' }],
      ['mode', { mode: 'bogus' as 'observed' }],
    ])('refuses an invalid %s', (field, over) => given_().when(dispatch(over)).thenThrows(ToolCallInvalid, { field }));
  });

  describe('RecordToolCallResult (invariant 5)', () => {
    it('completes the in-flight attempt', () => given_([dispatched()]).when(result()).then([completed()]));

    it('completes when the attempt is named explicitly', () => given_([dispatched()]).when(result({ attempt: 1 })).then([completed()]));

    it('fails the in-flight attempt', () =>
      given_([dispatched()])
        .when(result({ status: 'failed', output: undefined, error: 'boom', exitCode: 1, source: 'executor' }))
        .then([failed()]));

    it('refuses an unknown callId', () => given_().when(result()).thenThrows(ToolCallNotFound, { callId: CALL }));

    it.each<[string, ToolCallEvent[]]>([
      ['completed', [dispatched(), completed()]],
      ['failed', [dispatched(), failed()]],
    ])('refuses a result for a %s call', (status, history) =>
      given_(history).when(result()).thenThrows(ToolCallNotInFlight, { status }));

    it('records a result for an interrupted attempt as late, never merged', () =>
      given_([dispatched(), interrupted()])
        .when(result())
        .then([{ type: 'ToolCallLateResultRecorded', data: { callId: CALL, attempt: 1, status: 'completed', output: 'ok', exitCode: 0, source: 'hook', at: T(2) } }]));

    it('records a result for an older, interrupted attempt as late while the retry is in flight', () =>
      given_([dispatched(), interrupted(), dispatched(2, T(4))])
        .when(result({ attempt: 1, status: 'failed', output: undefined, exitCode: undefined, error: 'late' }))
        .then([{ type: 'ToolCallLateResultRecorded', data: { callId: CALL, attempt: 1, status: 'failed', error: 'late', source: 'hook', at: T(2) } }]));

    it('records the current attempt of a retried call normally', () =>
      given_([dispatched(), interrupted(), dispatched(2, T(4))]).when(result()).then([completed(2)]));

    it('refuses an attempt that was never dispatched', () =>
      given_([dispatched()]).when(result({ attempt: 2 })).thenThrows(ToolCallAttemptMismatch, { attempt: 1 }));
  });

  describe('InterruptToolCall (invariant 6)', () => {
    it('interrupts the in-flight attempt', () => given_([dispatched()]).when(interrupt).then([interrupted()]));

    it('interrupts the current attempt of a retried call', () =>
      given_([dispatched(), interrupted(), dispatched(2, T(4))]).when(interrupt).then([interrupted(2)]));

    it('refuses an unknown callId', () => given_().when(interrupt).thenThrows(ToolCallNotFound));

    it.each<[string, ToolCallEvent[]]>([
      ['completed', [dispatched(), completed()]],
      ['failed', [dispatched(), failed()]],
      ['interrupted', [dispatched(), interrupted()]],
    ])('refuses a %s call', (status, history) => given_(history).when(interrupt).thenThrows(ToolCallNotInFlight, { status }));
  });

  describe('RetryToolCall', () => {
    it('dispatches an interrupted call again as attempt + 1 with the same tool and input', () =>
      given_([dispatched(1, T(1), { runId: 'run-1', idempotent: true }), interrupted()])
        .when(retry)
        .then([dispatched(2, T(4), { runId: 'run-1', idempotent: true })]));

    it('refuses an unknown callId', () => given_().when(retry).thenThrows(ToolCallNotFound));

    it.each<[string, ToolCallEvent[]]>([
      ['dispatched', [dispatched()]],
      ['completed', [dispatched(), completed()]],
      ['failed', [dispatched(), failed()]],
    ])('refuses a %s call', (status, history) => given_(history).when(retry).thenThrows(ToolCallNotRetryable, { status }));
  });

  describe('evolve', () => {
    it('tracks the status, attempt, result and interruption', () => {
      expect(replay(toolCallDecider, [dispatched(), completed()])).toEqual({
        callId: CALL,
        tool: 'Bash',
        input: INPUT,
        mode: 'observed',
        attempt: 1,
        idempotent: false,
        status: 'completed',
        result: { output: 'ok', exitCode: 0, source: 'hook', at: T(2) },
        firstDispatchedAt: T(1),
        dispatchedAt: T(1),
        updatedAt: T(2),
        lateResults: [],
      });
      expect(replay(toolCallDecider, [dispatched(), interrupted()])).toMatchObject({
        status: 'interrupted',
        interruption: { reason: 'owner gone', at: T(3) },
      });
    });

    it('keeps an interrupted call interrupted when a late result is recorded', () => {
      const late: ToolCallEvent = {
        type: 'ToolCallLateResultRecorded',
        data: { callId: CALL, attempt: 1, status: 'completed', output: 'ok', source: 'hook', at: T(5) },
      };
      const state = replay(toolCallDecider, [dispatched(), interrupted(), late]);
      expect(state).toMatchObject({ status: 'interrupted', attempt: 1, lateResults: [late.data] });
      expect(state).not.toHaveProperty('result');
    });

    it('clears the interruption on retry and keeps the first dispatch time', () => {
      const state = replay(toolCallDecider, [dispatched(), interrupted(), dispatched(2, T(4))]);
      expect(state).toMatchObject({ status: 'dispatched', attempt: 2, firstDispatchedAt: T(1), dispatchedAt: T(4) });
      expect(state).not.toHaveProperty('interruption');
    });

    it('marks only interrupted idempotent calls auto-retryable', () => {
      expect(isAutoRetryable(replay(toolCallDecider, [dispatched(1, T(1), { idempotent: true }), interrupted()]))).toBe(true);
      expect(isAutoRetryable(replay(toolCallDecider, [dispatched(), interrupted()]))).toBe(false);
      expect(isAutoRetryable(replay(toolCallDecider, [dispatched(1, T(1), { idempotent: true })]))).toBe(false);
    });

    it('does not mutate its input state', () => {
      const history = [
        dispatched(),
        interrupted(),
        { type: 'ToolCallLateResultRecorded', data: { callId: CALL, attempt: 1, status: 'failed', source: 'hook', at: T(5) } } as ToolCallEvent,
        dispatched(2, T(6)),
        failed(2),
      ];
      let state: ToolCallState = deepFreeze(toolCallDecider.initialState());
      for (const event of history) {
        const before = JSON.stringify(state);
        const next = toolCallDecider.evolve(state, event);
        expect(JSON.stringify(state)).toBe(before);
        state = deepFreeze(next);
      }
      expect(state).toMatchObject({ status: 'failed', attempt: 2 });
    });
  });
});
