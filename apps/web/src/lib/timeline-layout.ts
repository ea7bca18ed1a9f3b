import type { Divergence, ToolCallView } from '@runledger/domain';

/** One agent run as the timeline draws it, from the session's AgentRun* events. */
export interface RunSpan {
  runId: string;
  parentRunId?: string;
  prompt?: string;
  status: 'started' | 'completed' | 'failed' | 'interrupted';
  startedAt: string;
  endedAt?: string;
  /** The failure or interruption reason. */
  reason?: string;
}

/** The minimal event shape runsFromEvents reads. */
export interface RunEventLike {
  type: string;
  data: Record<string, unknown>;
}

/** Folds the AgentRunStarted/Completed/Failed/Interrupted events into runs, in start order (unknown types are skipped). */
export const runsFromEvents = (events: readonly RunEventLike[]): RunSpan[] => {
  const runs = new Map<string, RunSpan>();
  for (const { type, data } of events) {
    const runId = typeof data.runId === 'string' ? data.runId : undefined;
    const at = typeof data.at === 'string' ? data.at : undefined;
    if (!runId || !at) continue;
    if (type === 'AgentRunStarted') {
      runs.set(runId, {
        runId, startedAt: at, status: 'started',
        ...(typeof data.parentRunId === 'string' ? { parentRunId: data.parentRunId } : {}),
        ...(typeof data.prompt === 'string' ? { prompt: data.prompt } : {}),
      });
      continue;
    }
    const run = runs.get(runId);
    if (!run) continue;
    if (type === 'AgentRunCompleted') Object.assign(run, { status: 'completed', endedAt: at });
    else if (type === 'AgentRunFailed') Object.assign(run, { status: 'failed', endedAt: at, reason: String(data.error ?? '') });
    else if (type === 'AgentRunInterrupted') Object.assign(run, { status: 'interrupted', endedAt: at, reason: String(data.reason ?? '') });
  }
  return [...runs.values()].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
};

/**
 * What a call's bar is marked with, besides its status colour: `failed`, `interrupted`, `late` (a result arrived after
 * the attempt was interrupted), `healed` (its result was recovered from the agent's transcript, `source: transcript`),
 * `in_flight` (dispatched, no result yet), `retried` (attempt > 1), `diverged` (a divergence names it).
 */
export type CallMark = 'failed' | 'interrupted' | 'late' | 'healed' | 'in_flight' | 'retried' | 'diverged';

/** Words shown for each mark (the page never tells a state by colour alone). */
export const MARK_LABELS: Record<CallMark, string> = {
  failed: 'failed', interrupted: 'interrupted', late: 'late result', healed: 'healed from transcript',
  in_flight: 'in flight', retried: 'retried', diverged: 'divergence',
};

/** One row of the timeline: a run or a tool call, its span in ms since the epoch and as percentages of the axis. */
export interface TimelineRow {
  kind: 'run' | 'call';
  /** runId or callId. */
  id: string;
  status: string;
  marks: CallMark[];
  start: number;
  end: number;
  /** True when the span has no end yet and is drawn up to `now`. */
  open: boolean;
  left: number;
  width: number;
  /** Nesting under runs (0 top level). */
  depth: number;
  /** Set when the span lies wholly outside a zoomed axis: before or after the part shown (no bar is drawn). */
  outside?: 'before' | 'after';
  call?: ToolCallView;
  run?: RunSpan;
}

/** A tick of the time axis: position (%) and its offset from the axis start (ms). */
export interface TimelineTick {
  left: number;
  offset: number;
}

/** A divergence pinned to the axis. */
export interface TimelineDivergence extends Divergence {
  left: number;
}

/** A part of the time axis (ms since the epoch), `from` < `to`. */
export interface TimeWindow {
  from: number;
  to: number;
}

/**
 * The laid-out timeline: the extent of everything (`t0`..`t1`, ms since epoch), the part of it shown (`axis`: the
 * extent, or the zoom window), rows in display order, ticks (offsets from `t0`) and the divergence pins shown.
 */
export interface TimelineLayout {
  t0: number;
  t1: number;
  axis: TimeWindow;
  rows: TimelineRow[];
  ticks: TimelineTick[];
  divergences: TimelineDivergence[];
}

/** Narrowest bar drawn (% of the axis), so an instant call stays visible and clickable. */
export const MIN_BAR_PERCENT = 0.6;
/** Tick steps tried, smallest first (ms): the first giving at most MAX_TICKS ticks is used. */
const TICK_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 216e5, 432e5, 864e5];
/** Most ticks on the axis. */
export const MAX_TICKS = 6;

const ms = (iso: string | undefined): number | undefined => {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

/** The end of a call's current attempt: its result, its interruption, or undefined while in flight. */
const callEnd = (call: ToolCallView): number | undefined => ms(call.completedAt) ?? ms(call.interruption?.at);

/** The marks of one call (see CallMark). */
export const callMarks = (call: ToolCallView, divergences: readonly Divergence[] = []): CallMark[] => {
  const marks: CallMark[] = [];
  if (call.status === 'failed') marks.push('failed');
  if (call.status === 'interrupted') marks.push('interrupted');
  if (call.status === 'dispatched') marks.push('in_flight');
  if (call.lateResults?.length) marks.push('late');
  if (call.source === 'transcript') marks.push('healed');
  if (call.attempt > 1) marks.push('retried');
  if (divergences.some((d) => d.callId === call.callId)) marks.push('diverged');
  return marks;
};

/**
 * Lays out a session's runs and tool calls on one linear time axis (pure; `now` is the caller's clock, used only to
 * draw what has not ended: in-flight calls and open runs). Rows, by start time: each run followed by its calls and child
 * runs, interleaved with the calls of no known run. A call spans its current attempt (dispatch to result or
 * interruption). The axis runs from the earliest start to the latest end (or `now` when something is open), or over
 * `window` when zoomed.
 */
export const layoutTimeline = (input: {
  calls: readonly ToolCallView[];
  runs: readonly RunSpan[];
  divergences?: readonly Divergence[];
  now: number;
  /** Show only this part of the axis (zoomed); spans crossing its edges are cut there. */
  window?: TimeWindow;
}): TimelineLayout => {
  const divergences = input.divergences ?? [];
  const callRow = (call: ToolCallView, depth: number): TimelineRow => {
    const start = ms(call.dispatchedAt) ?? ms(call.firstDispatchedAt) ?? input.now;
    const end = callEnd(call);
    return { kind: 'call', id: call.callId, status: call.status, marks: callMarks(call, divergences), start, end: end ?? Math.max(start, input.now), open: end === undefined, left: 0, width: 0, depth, call };
  };
  const byStart = (a: TimelineRow, b: TimelineRow) => a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const runIds = new Set(input.runs.map((r) => r.runId));
  const callsByRun = new Map<string, ToolCallView[]>();
  for (const call of input.calls) {
    const owner = call.runId && runIds.has(call.runId) ? call.runId : '';
    callsByRun.set(owner, [...(callsByRun.get(owner) ?? []), call]);
  }
  const childRuns = new Map<string, RunSpan[]>();
  for (const run of input.runs) {
    const parent = run.parentRunId && runIds.has(run.parentRunId) ? run.parentRunId : '';
    childRuns.set(parent, [...(childRuns.get(parent) ?? []), run]);
  }
  const rows: TimelineRow[] = [];
  const visit = (run: RunSpan, depth: number, seen: Set<string>): void => {
    if (seen.has(run.runId)) return; // a parent cycle in bad data: draw each run once
    seen.add(run.runId);
    const start = ms(run.startedAt) ?? input.now;
    const end = ms(run.endedAt);
    rows.push({ kind: 'run', id: run.runId, status: run.status, marks: [], start, end: end ?? Math.max(start, input.now), open: end === undefined, left: 0, width: 0, depth, run });
    const children: TimelineRow[] = (callsByRun.get(run.runId) ?? []).map((c) => callRow(c, depth + 1));
    const nested = (childRuns.get(run.runId) ?? []).map((r) => ({ row: { start: ms(r.startedAt) ?? input.now, id: r.runId } as TimelineRow, run: r }));
    const merged: { row: TimelineRow; run?: RunSpan }[] = [...children.map((row) => ({ row })), ...nested].sort((a, b) => byStart(a.row, b.row));
    for (const item of merged) {
      if (item.run) visit(item.run, depth + 1, seen);
      else rows.push(item.row);
    }
  };
  const seen = new Set<string>();
  const topLevel: { row: TimelineRow; run?: RunSpan }[] = [
    ...(childRuns.get('') ?? []).map((run) => ({ row: { start: ms(run.startedAt) ?? input.now, id: run.runId } as TimelineRow, run })),
    ...(callsByRun.get('') ?? []).map((c) => ({ row: callRow(c, 0) })),
  ].sort((a, b) => byStart(a.row, b.row));
  for (const item of topLevel) {
    if (item.run) visit(item.run, 0, seen);
    else rows.push(item.row);
  }
  for (const run of input.runs) if (!seen.has(run.runId)) visit(run, 0, seen); // runs whose parents form a cycle

  const starts = rows.map((r) => r.start);
  const ends = rows.map((r) => r.end);
  const pins = divergences.map((d) => ms(d.at)).filter((t): t is number => t !== undefined);
  const t0 = Math.min(...starts, ...pins, rows.length || pins.length ? Infinity : input.now);
  const t1 = Math.max(...ends, ...pins, t0);
  const axis = input.window ?? { from: t0, to: t1 };
  const span = Math.max(axis.to - axis.from, 1);
  const pos = (t: number) => ((t - axis.from) / span) * 100;
  const clamp = (p: number) => Math.min(Math.max(p, 0), 100);
  for (const row of rows) {
    if (row.end < axis.from) row.outside = 'before';
    else if (row.start > axis.to) row.outside = 'after';
    row.left = Math.min(clamp(pos(row.start)), 100 - MIN_BAR_PERCENT);
    row.width = Math.max(clamp(pos(row.end)) - row.left, MIN_BAR_PERCENT);
  }
  const step = TICK_STEPS.find((s) => span / s <= MAX_TICKS) ?? Math.ceil(span / MAX_TICKS);
  const ticks: TimelineTick[] = [];
  for (let offset = Math.max(0, Math.ceil((axis.from - t0) / step) * step); t0 + offset <= axis.to; offset += step) ticks.push({ left: pos(t0 + offset), offset });
  return {
    t0, t1, axis, rows, ticks,
    divergences: divergences
      .map((d) => ({ ...d, left: pos(ms(d.at) ?? t0) }))
      .filter((d) => d.left >= 0 && d.left <= 100),
  };
};

/** Narrowest zoom window (ms). */
export const MIN_WINDOW_MS = 50;

/**
 * Zooms `current` (the whole `extent` when null) by `factor` (< 1 in, > 1 out) around `center` (ms since epoch), kept
 * inside the extent; null when the result covers the whole extent (zoomed all the way out).
 */
export const zoomWindow = (current: TimeWindow | null, extent: TimeWindow, factor: number, center: number): TimeWindow | null => {
  const base = current ?? extent;
  const width = Math.max((base.to - base.from) * factor, MIN_WINDOW_MS);
  if (width >= extent.to - extent.from) return null;
  const from = Math.min(Math.max(center - width / 2, extent.from), extent.to - width);
  return { from, to: from + width };
};
