import { replay } from '../shared/decider';
import { DomainError } from '../shared/domain-error';
import type { SessionCommand } from '../session/session.commands';
import { decideSession, sessionDecider, type SessionState } from '../session/session.decider';
import type { SessionEvent } from '../session/session.events';
import { FilesCallInFlight } from './file-effects.errors';

const at = '2026-12-07T00:00:00.000Z';
const started: SessionEvent = {
  type: 'SessionStarted',
  data: { sessionId: 's-1', projectId: 'p', kind: 'worker', agent: 'claude-code', branch: 'runledger/s-1', baseRef: 'main', at },
};
const snap = (tree: string, callId?: string): SessionCommand => ({
  type: 'RecordFilesSnapshot',
  data: { root: '/w', tree, previousTree: 'p', phase: callId ? 'before' : 'run_start', ...(callId ? { callId } : {}), changed: [], changedCount: 0, at },
});
const dispatch = (callId: string): SessionEvent => ({ type: 'ToolCallDispatched', data: { callId, tool: 'Bash', input: {}, mode: 'observed', attempt: 1, at } });
const state = (events: SessionEvent[]): SessionState => replay(sessionDecider, events);

describe('file effects on the session decider (docs/ARCHITECTURE.md §4e)', () => {
  it('appends a snapshot only when its root\'s tree changed', () => {
    const first = decideSession(snap('t1'), state([started]));
    expect(first).toHaveLength(1);
    const after = state([started, ...first]);
    expect(decideSession(snap('t1'), after)).toEqual([]);
    expect(decideSession(snap('t2'), after)).toHaveLength(1);
  });

  it('names the calls running when a snapshot is taken, other than its own', () => {
    const running = state([started, dispatch('c1')]);
    const [event] = decideSession(snap('t1', 'c2'), running);
    expect(event).toMatchObject({ type: 'FilesSnapshotted', data: { callsInFlight: ['c1'] } });
    const [own] = decideSession(snap('t1', 'c1'), running);
    expect((own as { data: { callsInFlight?: string[] } }).data.callsInFlight).toBeUndefined();
  });

  it('refuses a rewind while a call runs, and takes no snapshot after a prune', () => {
    const rewind: SessionCommand = { type: 'RecordFilesRewound', data: { root: '/w', callId: 'c1', phase: 'before', tree: 't0', preservedRef: 'r', preservedTree: 't1', at } };
    expect(() => decideSession(rewind, state([started, dispatch('c1')]))).toThrow(DomainError);
    try {
      decideSession(rewind, state([started, dispatch('c1')]));
    } catch (error) {
      expect((error as DomainError).code).toBe(FilesCallInFlight);
    }
    const pruned = state([started, { type: 'FileSnapshotsPruned', data: { reason: 'r', at } }]);
    expect(decideSession(snap('t9'), pruned)).toEqual([]);
    expect(decideSession({ type: 'RecordSnapshotsPruned', data: { reason: 'again', at } }, pruned)).toEqual([]);
  });
});
