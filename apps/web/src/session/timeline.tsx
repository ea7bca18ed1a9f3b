import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Divergence, ToolCallView } from '../api/types';
import { formatDuration, formatTime, inputPreview } from '../lib/format';
import { layoutTimeline, MARK_LABELS, RunSpan, TimelineRow, TimeWindow, zoomWindow } from '../lib/timeline-layout';

/** How often open spans (in-flight calls, running runs) are redrawn up to now (ms). */
const OPEN_SPAN_REDRAW_MS = 1000;
/** Rows skipped by PageUp/PageDown. */
const PAGE_ROWS = 10;

/** Where a bar's duration is written: after the bar, or before it when the bar reaches the right edge, or inside it when it spans the whole axis. */
const durationPlace = (row: TimelineRow): Record<string, string> => {
  if (row.left + row.width <= 85) return { left: `${row.left + row.width}%` };
  if (row.left >= 15) return { right: `${100 - row.left}%` };
  return { right: '0', background: 'var(--bg)' };
};

/** A row's key, unique across runs and calls. */
export const rowKey = (row: Pick<TimelineRow, 'kind' | 'id'>): string => `${row.kind}:${row.id}`;

/** A run id as the timeline names it: uuids cut to their first 8 characters (the detail panel shows it whole). */
export const shortRunId = (runId: string): string => (/^[0-9a-f]{8}-[0-9a-f-]{27}$/i.test(runId) ? runId.slice(0, 8) : runId);

const rowLabel = (row: TimelineRow): string =>
  row.kind === 'run'
    ? `run ${shortRunId(row.id)}${row.run?.prompt ? `: ${inputPreview(row.run.prompt, 60)}` : ''}`
    : `${row.call!.tool} ${inputPreview(row.call!.input, 60)}`;

/**
 * Runs and tool calls as spans on one time axis (duration bars), failed / interrupted / late / healed / in-flight calls
 * marked in words as well as colour, divergences pinned to the axis. A listbox: Tab enters it, ↑/↓ (and j/k),
 * Home/End, PageUp/PageDown move the selection, which the detail panel shows; + and − zoom the axis around the
 * selected span, 0 fits everything.
 */
export const Timeline = (props: {
  calls: readonly ToolCallView[];
  runs: readonly RunSpan[];
  divergences: readonly Divergence[];
  selected?: string;
  onSelect: (key: string) => void;
}) => {
  const [now, setNow] = useState(() => Date.now());
  const [zoom, setZoom] = useState<TimeWindow | null>(null);
  const layout = useMemo(
    () => layoutTimeline({ calls: props.calls, runs: props.runs, divergences: props.divergences, now, window: zoom ?? undefined }),
    [props.calls, props.runs, props.divergences, now, zoom],
  );
  const hasOpen = layout.rows.some((r) => r.open);
  useEffect(() => {
    if (!hasOpen) return;
    const timer = setInterval(() => setNow(Date.now()), OPEN_SPAN_REDRAW_MS);
    return () => clearInterval(timer);
  }, [hasOpen]);
  const list = useRef<HTMLUListElement>(null);
  const keysInOrder = layout.rows.map(rowKey);
  const selectedIndex = keysInOrder.indexOf(props.selected ?? '');
  const tabbableIndex = Math.max(0, selectedIndex);
  /** Zooms by `factor` around the selected span's middle (else the middle of what is shown). */
  const zoomBy = (factor: number) => {
    const row = layout.rows[selectedIndex];
    const center = row && !row.outside ? (Math.max(row.start, layout.axis.from) + Math.min(row.end, layout.axis.to)) / 2 : (layout.axis.from + layout.axis.to) / 2;
    setZoom(zoomWindow(zoom, { from: layout.t0, to: layout.t1 }, factor, center));
  };
  const focusRow = (index: number) => {
    const key = keysInOrder[Math.min(Math.max(index, 0), keysInOrder.length - 1)];
    if (key === undefined) return;
    props.onSelect(key);
    requestAnimationFrame(() => list.current?.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)?.focus());
  };
  const onKeyDown = (event: KeyboardEvent) => {
    const moves: Record<string, number> = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1, PageDown: PAGE_ROWS, PageUp: -PAGE_ROWS };
    if (event.key in moves) focusRow(selectedIndex < 0 ? 0 : selectedIndex + moves[event.key]);
    else if (event.key === '+' || event.key === '=') zoomBy(0.5);
    else if (event.key === '-') zoomBy(2);
    else if (event.key === '0') setZoom(null);
    else if (event.key === 'Home') focusRow(0);
    else if (event.key === 'End') focusRow(keysInOrder.length - 1);
    else return;
    event.preventDefault();
  };

  if (layout.rows.length === 0) return <p class="muted">No runs or tool calls yet.</p>;
  return (
    <div class="timeline">
      <div class="zoom" role="group" aria-label="zoom the time axis">
        <button type="button" onClick={() => zoomBy(0.5)} aria-keyshortcuts="+">Zoom in</button>
        <button type="button" onClick={() => zoomBy(2)} disabled={!zoom} aria-keyshortcuts="-">Zoom out</button>
        <button type="button" onClick={() => setZoom(null)} disabled={!zoom} aria-keyshortcuts="0">Fit all</button>
        <span class="muted" aria-live="polite">
          {zoom ? `showing ${formatDuration(layout.axis.to - layout.axis.from)} of ${formatDuration(layout.t1 - layout.t0)}` : `all ${formatDuration(layout.t1 - layout.t0)}`}
        </span>
      </div>
      <div class="axis" aria-hidden="true">
        <div class="axis-label">started {formatTime(new Date(layout.t0).toISOString())}</div>
        <div class="axis-track">
          {layout.ticks.map((t) => <span key={t.offset} class={`tick${t.left > 90 ? ' tick-end' : ''}`} style={{ left: `${t.left}%` }}>{t.offset === 0 ? '0' : `+${formatDuration(t.offset)}`}</span>)}
          {layout.divergences.map((d, i) => (
            <span key={i} class="pin" style={{ left: `${d.left}%` }} title={`divergence ${d.kind}${d.callId ? ` (${d.callId})` : ''}: ${d.detail}`}>◆</span>
          ))}
        </div>
      </div>
      <ul class="rows" role="listbox" aria-label="Runs and tool calls on a time axis" ref={list} onKeyDown={onKeyDown} data-testid="timeline">
        {layout.rows.map((row, index) => {
          const key = rowKey(row);
          const selected = index === selectedIndex;
          const tabbable = index === tabbableIndex;
          return (
            <li
              key={key}
              data-key={key}
              data-kind={row.kind}
              data-call-id={row.kind === 'call' ? row.id : undefined}
              data-status={row.status}
              data-marks={row.marks.join(' ')}
              role="option"
              aria-selected={selected}
              tabIndex={tabbable ? 0 : -1}
              class={`row row-${row.kind} status-${row.status}${selected ? ' selected' : ''}`}
              onClick={() => focusRow(index)}
            >
              <div class="row-label" style={{ paddingLeft: `${row.depth * 0.9}rem` }}>
                <span class="row-name">{row.kind === 'run' ? `▸ run ${shortRunId(row.id)}` : row.call!.tool}</span>
                <span class="row-status">{row.status}</span>
                {row.marks.filter((m) => m !== row.status).map((m) => <span key={m} class={`mark mark-${m}`}>{MARK_LABELS[m]}</span>)}
                <span class="row-preview">{row.kind === 'call' ? inputPreview(row.call!.input, 70) : row.run?.prompt ? inputPreview(row.run.prompt, 70) : ''}</span>
              </div>
              <div class="row-track">
                {row.outside ? (
                  <span class={`outside outside-${row.outside}`}>{row.outside === 'before' ? '◂ earlier' : 'later ▸'} · {formatDuration(row.end - row.start)}</span>
                ) : (
                  <>
                    <span class={`bar${row.open ? ' open' : ''}`} style={{ left: `${row.left}%`, width: `${row.width}%` }} />
                    <span class="row-duration" style={durationPlace(row)}>{formatDuration(row.end - row.start)}</span>
                  </>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      <p class="legend muted">
        <span class="swatch status-completed" /> completed <span class="swatch status-failed" /> failed <span class="swatch status-interrupted" /> interrupted{' '}
        <span class="swatch status-dispatched" /> in flight <span class="swatch healed" /> healed from transcript · ◆ divergence · ↑/↓ Home End to move, + − 0 to zoom
      </p>
    </div>
  );
};
