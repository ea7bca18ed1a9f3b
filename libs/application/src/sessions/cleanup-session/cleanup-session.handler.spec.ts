import { replay, sessionDecider, type SessionEvent } from '@runledger/domain';
import { releasedMeanwhile } from './cleanup-session.handler';

const T = (s: number): string => `2025-01-01T00:00:${String(s).padStart(2, '0')}.000Z`;
const REF = 'refs/runledger/preserved/rl-1';
const started: SessionEvent = {
  type: 'SessionStarted',
  data: { sessionId: 'rl-1', projectId: 'p1', kind: 'worker', agent: 'command', command: ['sleep', '1'], branch: 'runledger/rl-1', baseRef: 'main', at: T(0) },
};
const created: SessionEvent = { type: 'WorktreeCreated', data: { repo: 'main', path: '/wt/rl-1', branch: 'runledger/rl-1', baseRef: 'main', at: T(1) } };
const removedBy = (preservedRef?: string): SessionEvent => ({ type: 'WorktreeRemoved', data: preservedRef ? { repo: 'main', preservedRef, at: T(2) } : { repo: 'main', at: T(2) } });
const vanished: SessionEvent = { type: 'WorktreeVanished', data: { repo: 'main', rule: 'directory-vanished', at: T(2) } };
const failed: SessionEvent = { type: 'WorktreeRemovalFailed', data: { repo: 'main', error: 'busy', at: T(2) } };
const state = (...events: SessionEvent[]) => replay(sessionDecider, [started, created, ...events]);

describe('cleanup: a worktree released by another process since the cleanup read it', () => {
  it('is not released while active or waiting for a removal retry', () => {
    expect(releasedMeanwhile(state(), 'main', 'RecordWorkPreserved')).toBe(false);
    expect(releasedMeanwhile(state(failed), 'main', 'RecordWorktreeRemoved')).toBe(false);
  });

  it('is released once the janitor or the reaper recorded its removal: nothing more is recorded for it', () => {
    for (const command of ['RecordWorkPreserved', 'RecordWorktreeRemoved', 'RecordWorktreeRemovalFailed'] as const) {
      expect(releasedMeanwhile(state(removedBy(REF)), 'main', command)).toBe(true);
      expect(releasedMeanwhile(state(removedBy()), 'main', command)).toBe(true);
    }
  });

  it('still records a removal that raced the reaper\'s "directory vanished", and only that', () => {
    expect(releasedMeanwhile(state(vanished), 'main', 'RecordWorktreeRemoved')).toBe(false);
    expect(releasedMeanwhile(state(vanished), 'main', 'RecordWorkPreserved')).toBe(true);
    expect(releasedMeanwhile(state(vanished), 'main', 'RecordWorktreeRemovalFailed')).toBe(true);
  });

  it('knows nothing of a repo the session has no worktree in', () => {
    expect(releasedMeanwhile(state(), 'other', 'RecordWorktreeRemoved')).toBe(false);
  });
});
