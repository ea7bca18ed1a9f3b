import { replay } from '../shared/decider';
import { deepFreeze, given } from '../shared/given-when-then';
import type { WorktreeCommand } from './worktree.commands';
import { activateRestored, isWorktreeReleased, worktreeDecider, type Worktree, type WorktreeState } from './worktree.decider';
import { WorktreeAlreadyExists, WorktreeNotActive, WorktreeNotFound, WorktreeNotRestorable } from './worktree.errors';
import type { WorktreeEvent } from './worktree.events';

const T = (s: number): string => `2025-01-01T00:00:${String(s).padStart(2, '0')}.000Z`;
const REPO = 'app';
const PATH = '/wt/rl-1/app';
const REF = 'refs/runledger/preserved/rl-1/app';

const created: WorktreeEvent = { type: 'WorktreeCreated', data: { repo: REPO, path: PATH, branch: 'runledger/rl-1', baseRef: 'main', at: T(1) } };
const preserved: WorktreeEvent = { type: 'WorktreeWorkPreserved', data: { repo: REPO, ref: REF, commit: 'abc123', at: T(2) } };
const removed = (preservedRef?: string): WorktreeEvent => ({
  type: 'WorktreeRemoved',
  data: preservedRef === undefined ? { repo: REPO, at: T(3) } : { repo: REPO, preservedRef, at: T(3) },
});
const removalFailed: WorktreeEvent = { type: 'WorktreeRemovalFailed', data: { repo: REPO, error: 'locked', at: T(3) } };
const restoredEvent = (over: Partial<Extract<WorktreeEvent, { type: 'WorktreeRestored' }>['data']> = {}): WorktreeEvent => ({
  type: 'WorktreeRestored',
  data: { repo: REPO, path: PATH, at: T(4), ...over },
});
const stranded: WorktreeEvent = { type: 'WorktreeStranded', data: { repo: REPO, reason: 'owner dead, un-landed commits', at: T(5) } };

const create = (over: Partial<Extract<WorktreeCommand, { type: 'RecordWorktreeCreated' }>['data']> = {}): WorktreeCommand => ({
  type: 'RecordWorktreeCreated',
  data: { repo: REPO, path: PATH, branch: 'runledger/rl-1', baseRef: 'main', at: T(1), ...over },
});
const preserve: WorktreeCommand = { type: 'RecordWorkPreserved', data: { repo: REPO, ref: REF, commit: 'abc123', at: T(2) } };
const remove = (preservedRef?: string): WorktreeCommand => ({
  type: 'RecordWorktreeRemoved',
  data: preservedRef === undefined ? { repo: REPO, at: T(3) } : { repo: REPO, preservedRef, at: T(3) },
});
const failRemoval: WorktreeCommand = { type: 'RecordWorktreeRemovalFailed', data: { repo: REPO, error: 'locked', at: T(3) } };
const restore = (over: Partial<Extract<WorktreeCommand, { type: 'RecordWorktreeRestored' }>['data']> = {}): WorktreeCommand => ({
  type: 'RecordWorktreeRestored',
  data: { repo: REPO, path: PATH, at: T(4), ...over },
});
const strand: WorktreeCommand = { type: 'FlagWorktreeStranded', data: { repo: REPO, reason: 'owner dead, un-landed commits', at: T(5) } };
const skip: WorktreeCommand = { type: 'RecordWorktreeSkipped', data: { repo: 'gone', reason: 'repo no longer in project', at: T(6) } };

const given_ = (events: WorktreeEvent[] = []) => given(worktreeDecider, events);

describe('worktree decider', () => {
  describe('RecordWorktreeCreated', () => {
    it('creates an active worktree', () => given_().when(create()).then([created]));
    it('is idempotent for the same path and branch', () => given_([created]).when(create({ at: T(9) })).then([]));
    it('refuses a different path for the same repo', () =>
      given_([created]).when(create({ path: '/elsewhere' })).thenThrows(WorktreeAlreadyExists, { status: 'active', path: PATH }));
    it('refuses re-creating a removed worktree (restore it instead)', () =>
      given_([created, removed()]).when(create()).thenThrows(WorktreeAlreadyExists, { status: 'removed' }));
  });

  describe('RecordWorkPreserved (invariant 10)', () => {
    it('records the preserving ref', () => given_([created]).when(preserve).then([preserved]));
    it('records it on a worktree waiting for removal retry', () => given_([created, removalFailed]).when(preserve).then([preserved]));
    it('refuses an unknown repo', () => given_().when(preserve).thenThrows(WorktreeNotFound, { repo: REPO }));
    it('refuses a removed worktree', () => given_([created, removed()]).when(preserve).thenThrows(WorktreeNotActive, { status: 'removed' }));
  });

  describe('RecordWorktreeRemoved', () => {
    it('removes an active worktree', () => given_([created]).when(remove()).then([removed()]));
    it('carries the ref that preserves its work', () => given_([created]).when(remove(REF)).then([removed(REF)]));
    it('defaults the ref to the last preserved one', () => given_([created, preserved]).when(remove()).then([removed(REF)]));
    it('removes a worktree after a failed removal', () => given_([created, removalFailed]).when(remove()).then([removed()]));
    it('removes a restored worktree', () => given_([created, removed(), restoredEvent()]).when(remove()).then([removed()]));
    it('refuses a worktree that is already removed', () =>
      given_([created, removed()]).when(remove()).thenThrows(WorktreeNotActive, { status: 'removed' }));
    it('refuses an unavailable worktree', () =>
      given_([created, removed(REF)]).when(remove()).thenThrows(WorktreeNotActive, { status: 'unavailable' }));
    it('refuses an unknown repo', () => given_().when(remove()).thenThrows(WorktreeNotFound));
  });

  describe('RecordWorktreeRemovalFailed', () => {
    it('marks an active worktree retry_remove', () => given_([created]).when(failRemoval).then([removalFailed]));
    it('records a repeated failure', () => given_([created, removalFailed]).when(failRemoval).then([removalFailed]));
    it('refuses a removed worktree', () => given_([created, removed()]).when(failRemoval).thenThrows(WorktreeNotActive));
    it('refuses an unknown repo', () => given_().when(failRemoval).thenThrows(WorktreeNotFound));
  });

  describe('RecordWorktreeRestored', () => {
    it.each<[string, WorktreeEvent[]]>([
      ['removed', [created, removed()]],
      ['unavailable', [created, removed(REF)]],
      ['retry_remove', [created, removalFailed]],
    ])('restores a %s worktree', (_status, history) =>
      given_(history).when(restore({ appliedRef: REF })).then([restoredEvent({ appliedRef: REF })]));
    it('restores an active worktree whose directory is missing', () =>
      given_([created]).when(restore({ dirMissing: true })).then([restoredEvent()]));
    it('records a conflicting apply', () =>
      given_([created, removed(REF)]).when(restore({ appliedRef: REF, conflict: 'CONFLICT in a.ts' })).then([
        restoredEvent({ appliedRef: REF, conflict: 'CONFLICT in a.ts' }),
      ]));
    it('refuses an active worktree whose directory is in place', () =>
      given_([created]).when(restore()).thenThrows(WorktreeNotRestorable, { status: 'active' }));
    it('refuses a worktree already restored', () =>
      given_([created, removed(), restoredEvent()]).when(restore()).thenThrows(WorktreeNotRestorable, { status: 'restored' }));
    it('restores again a restored worktree whose directory is missing (its launch failed, then the directory went)', () =>
      given_([created, removed(), restoredEvent()]).when(restore({ dirMissing: true })).then([restoredEvent()]));
    it('refuses an unknown repo', () => given_().when(restore()).thenThrows(WorktreeNotFound));
  });

  describe('FlagWorktreeStranded', () => {
    it('flags the worktree', () => given_([created]).when(strand).then([stranded]));
    it('is idempotent for the same reason', () => given_([created, stranded]).when(strand).then([]));
    it('flags again for another reason', () =>
      given_([created, stranded])
        .when({ type: 'FlagWorktreeStranded', data: { repo: REPO, reason: 'other', at: T(6) } })
        .then([{ type: 'WorktreeStranded', data: { repo: REPO, reason: 'other', at: T(6) } }]));
    it('refuses an unknown repo', () => given_().when(strand).thenThrows(WorktreeNotFound));
  });

  describe('RecordWorktreeVanished (docs/ARCHITECTURE.md §4b: log → disk)', () => {
    const vanish: WorktreeCommand = { type: 'RecordWorktreeVanished', data: { repo: REPO, rule: 'directory-vanished', at: T(7) } };
    const vanishedEvent: WorktreeEvent = { type: 'WorktreeVanished', data: { repo: REPO, rule: 'directory-vanished', at: T(7) } };
    it('marks an active worktree whose directory is gone', () => given_([created]).when(vanish).then([vanishedEvent]));
    it('marks a restored worktree too', () => given_([created, removed(), restoredEvent()]).when(vanish).then([vanishedEvent]));
    it('changes nothing once released', () => given_([created, removed()]).when(vanish).then([]));
    it('changes nothing twice', () => given_([created, vanishedEvent]).when(vanish).then([]));
    it('refuses an unknown repo', () => given_().when(vanish).thenThrows(WorktreeNotFound));
    it('still records a removal that raced it', () => given_([created, preserved, vanishedEvent]).when(remove()).then([removed(REF)]));
    it('becomes unavailable keeping the preserved ref, and restore repairs it', () => {
      expect(replay(worktreeDecider, [created, preserved, vanishedEvent])).toMatchObject({ status: 'unavailable', preservedRef: REF, vanished: true });
      expect(replay(worktreeDecider, [created, vanishedEvent])).not.toHaveProperty('preservedRef');
      given_([created, preserved, vanishedEvent]).when(restore({ appliedRef: REF })).then([restoredEvent({ appliedRef: REF })]);
      expect(replay(worktreeDecider, [created, preserved, vanishedEvent, restoredEvent({ appliedRef: REF })])).not.toHaveProperty('vanished');
    });
  });

  describe('RecordWorktreeSkipped', () => {
    it('records a warning even for a repo without a worktree', () =>
      given_().when(skip).then([{ type: 'WorktreeSkipped', data: { ...skip.data } }]));
  });

  describe('evolve', () => {
    it('creates an active, unflagged worktree', () =>
      expect(replay(worktreeDecider, [created])).toEqual({
        repo: REPO,
        path: PATH,
        branch: 'runledger/rl-1',
        baseRef: 'main',
        status: 'active',
        stranded: false,
        createdAt: T(1),
        updatedAt: T(1),
      }));

    it('keeps the status when work is preserved', () =>
      expect(replay(worktreeDecider, [created, preserved])).toMatchObject({
        status: 'active',
        preserved: { ref: REF, commit: 'abc123', at: T(2) },
      }));

    it('becomes removed without a preserving ref and unavailable with one', () => {
      expect(replay(worktreeDecider, [created, removed()])).toMatchObject({ status: 'removed' });
      expect(replay(worktreeDecider, [created, preserved, removed(REF)])).toMatchObject({
        status: 'unavailable',
        preservedRef: REF,
        preserved: { ref: REF, commit: 'abc123' },
      });
    });

    it('becomes retry_remove with the error', () =>
      expect(replay(worktreeDecider, [created, removalFailed])).toMatchObject({ status: 'retry_remove', removalError: 'locked' }));

    it('drops the preserved ref after a clean restore and keeps it after a conflict', () => {
      const clean = replay(worktreeDecider, [created, preserved, removed(REF), restoredEvent({ appliedRef: REF })]);
      expect(clean).toMatchObject({ status: 'restored', lastRestore: { appliedRef: REF, at: T(4) } });
      expect(clean).not.toHaveProperty('preserved');
      expect(clean).not.toHaveProperty('preservedRef');
      const conflicted = replay(worktreeDecider, [created, preserved, removed(REF), restoredEvent({ appliedRef: REF, conflict: 'x' })]);
      expect(conflicted).toMatchObject({ status: 'restored', preserved: { ref: REF }, lastRestore: { conflict: 'x' } });
    });

    it('sets the stranded flag and clears it on removal', () => {
      expect(replay(worktreeDecider, [created, stranded])).toMatchObject({ status: 'active', stranded: true, strandedReason: stranded.data.reason });
      const afterRemoval = replay(worktreeDecider, [created, stranded, removed()]);
      expect(afterRemoval).toMatchObject({ stranded: false });
      expect(afterRemoval).not.toHaveProperty('strandedReason');
    });

    it('changes nothing on a skipped repo', () => {
      const state = replay(worktreeDecider, [created]);
      expect(worktreeDecider.evolve(state, { type: 'WorktreeSkipped', data: { ...skip.data } })).toBe(state);
    });

    it('activates restored worktrees and leaves others alone', () => {
      const restored = replay(worktreeDecider, [created, removed(), restoredEvent()]) as Worktree;
      expect(activateRestored(restored)).toMatchObject({ status: 'active', path: PATH });
      const gone = replay(worktreeDecider, [created, removed()]) as Worktree;
      expect(activateRestored(gone)).toBe(gone);
      expect(isWorktreeReleased(gone)).toBe(true);
      expect(isWorktreeReleased(restored)).toBe(false);
    });

    it('does not mutate its input state', () => {
      const history = [created, preserved, stranded, removalFailed, removed(REF), restoredEvent({ appliedRef: REF })];
      let state: WorktreeState = deepFreeze(worktreeDecider.initialState());
      for (const event of history) {
        const before = JSON.stringify(state);
        const next = worktreeDecider.evolve(state, event);
        expect(JSON.stringify(state)).toBe(before);
        state = deepFreeze(next);
      }
      expect(state.status).toBe('restored');
    });
  });
});
