import type { SessionEvent } from '../session/session.events';
import { describeFileEffect, fileStateAt, fileTimeline, RevisionedEvent } from './file-attribution';

const at = '2026-12-07T00:00:00.000Z';
const snapshot = (tree: string, phase: 'before' | 'after' | 'run_start' | 'run_end', callId?: string, changed: Array<[string, number, number]> = []): SessionEvent => ({
  type: 'FilesSnapshotted',
  data: {
    root: '/w', tree, previousTree: 'prev', phase, ...(callId ? { callId } : {}),
    changed: changed.map(([path, additions, deletions]) => ({ path, status: 'modified', additions, deletions })), changedCount: changed.length, at,
  },
});
const dispatched = (callId: string, source?: 'transcript'): SessionEvent => ({
  type: 'ToolCallDispatched',
  data: { callId, tool: 'Bash', input: {}, mode: 'observed', attempt: 1, ...(source ? { source } : {}), at },
});
const completed = (callId: string, source: 'hook' | 'transcript' = 'hook'): SessionEvent => ({ type: 'ToolCallCompleted', data: { callId, attempt: 1, source, at } });
const revisioned = (events: SessionEvent[]): RevisionedEvent[] => events.map((event, revision) => ({ revision, event }));

describe('fileTimeline (docs/ARCHITECTURE.md §4e)', () => {
  it('gives a call the state at its live dispatch and at its live result, and sums the after snapshot\'s lines', () => {
    const timeline = fileTimeline(revisioned([
      snapshot('t0', 'run_start'),
      dispatched('c1'),
      snapshot('t1', 'after', 'c1', [['a.txt', 2, 1], ['b.txt', 1, 0]]),
      completed('c1'),
      dispatched('c2'), // changed nothing: no snapshot appended
      completed('c2'),
    ]));
    expect(timeline.calls.get('c1')).toMatchObject({ before: { root: '/w', tree: 't0' }, after: { tree: 't1' }, additions: 3, deletions: 1, files: 2 });
    expect(timeline.calls.get('c2')).toMatchObject({ before: { tree: 't1' }, after: { tree: 't1' }, files: 0 });
    expect(describeFileEffect(timeline.calls.get('c1')!)).toBe('+3 −1 in 2 files');
    expect(describeFileEffect(timeline.calls.get('c2')!)).toBeUndefined();
  });

  it('knows no state for a call from the transcript, nor after a result from the transcript', () => {
    const timeline = fileTimeline(revisioned([snapshot('t0', 'run_start'), dispatched('c1', 'transcript'), completed('c1', 'transcript'), dispatched('c2'), completed('c2', 'transcript')]));
    expect(timeline.calls.get('c1')?.before).toBeUndefined();
    expect(timeline.calls.get('c2')).toMatchObject({ before: { tree: 't0' } });
    expect(timeline.calls.get('c2')?.after).toBeUndefined();
  });

  it('answers the state current at any revision, none before the first snapshot', () => {
    const timeline = fileTimeline(revisioned([dispatched('c0'), snapshot('t0', 'run_start'), snapshot('t1', 'before', 'c1'), dispatched('c1')]));
    expect(fileStateAt(timeline, 0)).toBeUndefined();
    expect(fileStateAt(timeline, 1)?.tree).toBe('t0');
    expect(fileStateAt(timeline, 3)?.tree).toBe('t1');
  });

  it('records the pruning', () => {
    const timeline = fileTimeline(revisioned([snapshot('t0', 'run_start'), { type: 'FileSnapshotsPruned', data: { reason: 'r', at } }]));
    expect(timeline.prunedAt).toBe(at);
  });
});
