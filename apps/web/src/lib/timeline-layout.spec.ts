import type { ToolCallView } from '@runledger/domain';
import { callMarks, layoutTimeline, MIN_BAR_PERCENT, MIN_WINDOW_MS, runsFromEvents, zoomWindow } from './timeline-layout';

const T = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s)).toISOString();
const call = (callId: string, over: Partial<ToolCallView> = {}): ToolCallView => ({
  callId, tool: 'Bash', status: 'completed', attempt: 1, input: { command: callId }, mode: 'observed', idempotent: false,
  firstDispatchedAt: T(0), dispatchedAt: T(0), completedAt: T(1), ...over,
});

describe('timeline layout', () => {
  it('folds run events into runs, skipping unknown and unmatched events', () => {
    const runs = runsFromEvents([
      { type: 'AgentRunStarted', data: { runId: 'r2', at: T(5), prompt: 'second' } },
      { type: 'AgentRunStarted', data: { runId: 'r1', at: T(0) } },
      { type: 'AgentRunCompleted', data: { runId: 'r1', at: T(4) } },
      { type: 'AgentRunInterrupted', data: { runId: 'r2', at: T(9), reason: 'runtime gone' } },
      { type: 'AgentRunCompleted', data: { runId: 'nope', at: T(9) } },
      { type: 'SomethingNew', data: { runId: 'r1', at: T(9) } },
    ]);
    expect(runs).toEqual([
      { runId: 'r1', startedAt: T(0), status: 'completed', endedAt: T(4) },
      { runId: 'r2', startedAt: T(5), status: 'interrupted', endedAt: T(9), reason: 'runtime gone', prompt: 'second' },
    ]);
  });

  it('marks failed, interrupted, late, healed, in-flight, retried and diverged calls', () => {
    expect(callMarks(call('a', { status: 'failed' }))).toEqual(['failed']);
    expect(callMarks(call('b', { status: 'interrupted', completedAt: undefined, interruption: { reason: 'x', at: T(2) }, lateResults: [{} as never] }))).toEqual(['interrupted', 'late']);
    expect(callMarks(call('c', { source: 'transcript', attempt: 2 }), [{ callId: 'c', kind: 'result_only_in_transcript', detail: '', at: T(3) }])).toEqual(['healed', 'retried', 'diverged']);
    expect(callMarks(call('d', { status: 'dispatched', completedAt: undefined }))).toEqual(['in_flight']);
    expect(callMarks(call('e', { source: 'hook' }))).toEqual([]);
  });

  it('puts calls under their runs, interleaved by start time, on one axis from the first start to the last end', () => {
    const runs = runsFromEvents([
      { type: 'AgentRunStarted', data: { runId: 'r1', at: T(10) } },
      { type: 'AgentRunCompleted', data: { runId: 'r1', at: T(20) } },
    ]);
    const layout = layoutTimeline({
      calls: [
        call('late', { dispatchedAt: T(30), firstDispatchedAt: T(30), completedAt: T(40) }),
        call('in-run', { runId: 'r1', dispatchedAt: T(12), firstDispatchedAt: T(12), completedAt: T(14) }),
        call('early', { dispatchedAt: T(0), firstDispatchedAt: T(0), completedAt: T(0) }),
      ],
      runs,
      now: Date.parse(T(99)),
    });
    expect(layout.rows.map((r) => `${r.kind}:${r.id}:${r.depth}`)).toEqual(['call:early:0', 'run:r1:0', 'call:in-run:1', 'call:late:0']);
    expect([layout.t0, layout.t1]).toEqual([Date.parse(T(0)), Date.parse(T(40))]);
    const byId = Object.fromEntries(layout.rows.map((r) => [r.id, r]));
    expect(byId['in-run']).toMatchObject({ left: 30, width: 5, open: false });
    expect(byId.early.width).toBe(MIN_BAR_PERCENT); // an instant call stays visible
    expect(layout.ticks[0]).toEqual({ left: 0, offset: 0 });
    expect(layout.ticks.length).toBeLessThanOrEqual(6 + 1);
  });

  it('draws an in-flight call and an open run up to now, and an interrupted call up to its interruption', () => {
    const layout = layoutTimeline({
      calls: [
        call('flying', { status: 'dispatched', completedAt: undefined, dispatchedAt: T(10), firstDispatchedAt: T(10) }),
        call('cut', { status: 'interrupted', completedAt: undefined, interruption: { reason: 'restart', at: T(15) }, dispatchedAt: T(5), firstDispatchedAt: T(5) }),
      ],
      runs: [{ runId: 'r', status: 'started', startedAt: T(0) }],
      now: Date.parse(T(20)),
    });
    const byId = Object.fromEntries(layout.rows.map((r) => [r.id, r]));
    expect(byId.flying).toMatchObject({ open: true, end: Date.parse(T(20)), left: 50, width: 50 });
    expect(byId.cut).toMatchObject({ open: false, end: Date.parse(T(15)), left: 25, width: 50 });
    expect(byId.r).toMatchObject({ open: true, left: 0, width: 100 });
  });

  it('survives a run whose parent chain loops, drawing each run once', () => {
    const layout = layoutTimeline({
      calls: [],
      runs: [
        { runId: 'a', parentRunId: 'b', status: 'completed', startedAt: T(0), endedAt: T(1) },
        { runId: 'b', parentRunId: 'a', status: 'completed', startedAt: T(1), endedAt: T(2) },
      ],
      now: Date.parse(T(5)),
    });
    expect(layout.rows.map((r) => r.id).sort()).toEqual(['a', 'b']);
  });

  it('zooms: spans are cut at the window, those outside it say on which side, ticks stay offsets from the first start', () => {
    const calls = [
      call('before', { dispatchedAt: T(0), firstDispatchedAt: T(0), completedAt: T(5) }),
      call('across', { dispatchedAt: T(15), firstDispatchedAt: T(15), completedAt: T(45) }),
      call('after', { dispatchedAt: T(50), firstDispatchedAt: T(50), completedAt: T(60) }),
    ];
    const layout = layoutTimeline({ calls, runs: [], now: Date.parse(T(99)), window: { from: Date.parse(T(20)), to: Date.parse(T(40)) } });
    const byId = Object.fromEntries(layout.rows.map((r) => [r.id, r]));
    expect(byId.before.outside).toBe('before');
    expect(byId.after.outside).toBe('after');
    expect(byId.across).toMatchObject({ left: 0, width: 100 });
    expect(byId.across.outside).toBeUndefined();
    expect([layout.t0, layout.t1]).toEqual([Date.parse(T(0)), Date.parse(T(60))]);
    expect(layout.ticks.map((t) => t.offset)).toEqual([20_000, 25_000, 30_000, 35_000, 40_000]);
  });

  it('zoomWindow halves or doubles around a centre, stays inside the extent, and fits everything when it would cover it', () => {
    const extent = { from: 0, to: 1000 };
    expect(zoomWindow(null, extent, 0.5, 500)).toEqual({ from: 250, to: 750 });
    expect(zoomWindow(null, extent, 0.5, 990)).toEqual({ from: 500, to: 1000 }); // pushed back inside
    expect(zoomWindow({ from: 250, to: 750 }, extent, 2, 500)).toBeNull();
    expect(zoomWindow({ from: 0, to: 60 }, extent, 0.1, 30)).toEqual({ from: 5, to: 5 + MIN_WINDOW_MS });
  });
});
