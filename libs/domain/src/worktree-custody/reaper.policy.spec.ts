import { given } from '../shared/given-when-then';
import { custodyDecider, type CustodyState } from './custody.decider';
import type { CustodyEvent } from './custody.events';
import { reaperPolicy, vanishedRecord, type ReaperFacts, type ReaperSettings, type ReaperVerdict } from './reaper.policy';

const T = (min: number): string => new Date(Date.UTC(2025, 0, 1, 0, min)).toISOString();
const PATH = '/data/worktrees/p/p-1';
const GRACE = 30 * 60_000;
const settings = (over: Partial<ReaperSettings> = {}): ReaperSettings => ({ now: T(100), graceMs: GRACE, mode: 'remove', ...over });
const facts = (over: Partial<ReaperFacts> = {}): ReaperFacts => ({
  path: PATH,
  onDisk: true,
  inNamespace: true,
  land: { kind: 'clean', ahead: 0, defaultBranch: 'main' },
  liveClaims: [],
  owner: { state: 'terminated', sessionId: 'p-1', since: T(10) },
  custody: { status: 'none' },
  ...over,
});
const found: CustodyEvent = { type: 'OrphanWorktreeFound', data: { path: PATH, branch: 'runledger/p-1', ownerSessionId: 'p-1', rule: 'unclaimed', at: T(60) } };
const heldSince = (events: CustodyEvent[]): CustodyState => events.reduce(custodyDecider.evolve, custodyDecider.initialState());

/** given facts, when the reaper sweeps, then this verdict. */
const givenFacts = (over: Partial<ReaperFacts>, s: ReaperSettings = settings()) => ({
  thenVerdict: (expected: Partial<Record<keyof ReaperVerdict, unknown>> & { ownerDeadSince?: string }) => expect(reaperPolicy(facts(over), s)).toMatchObject(expected),
});

describe('reaper policy (docs/ARCHITECTURE.md §4b, invariant 10)', () => {
  describe('nothing would be lost AND nobody uses it → remove', () => {
    it('removes a clean orphan with nothing ahead whose owner terminated past the grace window', () =>
      givenFacts({}).thenVerdict({ action: 'remove', rule: 'nothing-lost-and-unused' }));
    it('removes an empty directory with no known owner seen for the grace window', () =>
      givenFacts({ land: { kind: 'empty-directory' }, owner: { state: 'unknown' }, custody: heldSince([found]) }).thenVerdict({ action: 'remove' }));
    it('reports instead of removing in detect mode', () =>
      givenFacts({}, settings({ mode: 'detect' })).thenVerdict({ action: 'keep', rule: 'detect-only' }));
  });

  describe('something would be lost → stranded, never removed', () => {
    it.each<[string, ReaperFacts['land'], string]>([
      ['dirty', { kind: 'dirty', entries: 2 }, 'dirty'],
      ['un-landed commits', { kind: 'clean', ahead: 3, defaultBranch: 'main' }, 'unlanded-commits'],
      ['unreadable by git', { kind: 'unknown', reason: 'fatal: not a git repository' }, 'land-state-unknown'],
      ['a non-empty directory that is not a worktree', { kind: 'not-a-worktree', entries: 4 }, 'not-a-worktree'],
    ])('strands a %s orphan', (_name, land, rule) => givenFacts({ land }).thenVerdict({ action: 'strand', rule }));
    it('strands even in detect mode', () => givenFacts({ land: { kind: 'dirty', entries: 1 } }, settings({ mode: 'detect' })).thenVerdict({ action: 'strand' }));
  });

  describe('somebody uses it → kept', () => {
    it('releases a path that a live record of any project claims', () =>
      givenFacts({ liveClaims: [{ sessionId: 'q-4', projectId: 'other' }] }).thenVerdict({ action: 'release', rule: 'claimed-by-live-record' }));
    it('keeps a clean, landed worktree whose owner is alive (the false kill of a live session)', () =>
      givenFacts({ owner: { state: 'alive', sessionId: 'p-1' } }).thenVerdict({ action: 'keep', rule: 'owner-alive' }));
    it('keeps a worktree whose owner terminated within the grace window', () =>
      givenFacts({ owner: { state: 'terminated', sessionId: 'p-1', since: T(90) } }).thenVerdict({ action: 'keep', rule: 'owner-dead-within-grace', ownerDeadSince: T(90) }));
    it('starts the grace window when a dead runtime is first seen', () =>
      givenFacts({ owner: { state: 'dead', sessionId: 'p-1' } }).thenVerdict({ action: 'keep', rule: 'owner-dead-within-grace', ownerDeadSince: T(100) }));
    it('counts the window from the first dead sighting it recorded', () => {
      const kept: CustodyEvent = { type: 'CustodyWorktreeKept', data: { path: PATH, rule: 'owner-dead-within-grace', detail: '', ownerDeadSince: T(65), at: T(65) } };
      givenFacts({ owner: { state: 'dead', sessionId: 'p-1' }, custody: heldSince([found, kept]) }).thenVerdict({ action: 'remove' });
      givenFacts({ owner: { state: 'dead', sessionId: 'p-1' }, custody: heldSince([found, kept]) }, settings({ now: T(80) })).thenVerdict({ action: 'keep', ownerDeadSince: T(65) });
    });
    it('restarts the window once the owner was seen alive again', () => {
      const kept: CustodyEvent = { type: 'CustodyWorktreeKept', data: { path: PATH, rule: 'owner-dead-within-grace', detail: '', ownerDeadSince: T(0), at: T(0) } };
      const alive: CustodyEvent = { type: 'CustodyWorktreeKept', data: { path: PATH, rule: 'owner-alive', detail: '', at: T(95) } };
      givenFacts({ owner: { state: 'dead', sessionId: 'p-1' }, custody: heldSince([found, kept, alive]) }).thenVerdict({ action: 'keep', ownerDeadSince: T(100) });
    });
    it('checks who uses it before what it holds: a dirty worktree of a live owner is kept, not stranded', () =>
      givenFacts({ owner: { state: 'alive', sessionId: 'p-1' }, land: { kind: 'dirty', entries: 1 } }).thenVerdict({ action: 'keep', rule: 'owner-alive' }));
  });

  describe('namespace and disk', () => {
    it('never touches what is outside runledger\'s namespace', () => givenFacts({ inNamespace: false }).thenVerdict({ action: 'keep', rule: 'outside-namespace' }));
    it('releases a path gone from disk', () => givenFacts({ onDisk: false }).thenVerdict({ action: 'release', rule: 'gone-from-disk' }));
    it('marks a record whose directory vanished, only while it holds one', () => {
      expect(vanishedRecord({ status: 'active' }, false)).toBe(true);
      expect(vanishedRecord({ status: 'restored' }, false)).toBe(true);
      expect(vanishedRecord({ status: 'active' }, true)).toBe(false);
      expect(vanishedRecord({ status: 'removed' }, false)).toBe(false);
      expect(vanishedRecord({ status: 'retry_remove' }, false)).toBe(false);
    });
  });
});

describe('custody decider', () => {
  const cooldown = 60 * 60_000;
  const strand = (at: string) => ({ type: 'RecordReaperVerdict' as const, data: { path: PATH, verdict: { action: 'strand' as const, rule: 'dirty' as const, detail: '1 change' }, strandCooldownMs: cooldown, at } });
  const stranded = (at: string): CustodyEvent => ({ type: 'CustodyWorktreeStranded', data: { path: PATH, rule: 'dirty', detail: '1 change', at } });
  it('takes an orphan once', () => {
    given(custodyDecider, []).when({ type: 'TakeOrphanWorktree', data: { path: PATH, branch: 'runledger/p-1', ownerSessionId: 'p-1', at: T(60) } }).then([found]);
    given(custodyDecider, [found]).when({ type: 'TakeOrphanWorktree', data: { path: PATH, at: T(61) } }).then([]);
  });
  it('flags stranded once per cooldown', () => {
    given(custodyDecider, [found]).when(strand(T(61))).then([stranded(T(61))]);
    given(custodyDecider, [found, stranded(T(61))]).when(strand(T(90))).then([]);
    given(custodyDecider, [found, stranded(T(61))]).when(strand(T(122))).then([stranded(T(122))]);
  });
  it('records a keep only when its rule or window changes', () => {
    const keep = (at: string, ownerDeadSince?: string) => ({
      type: 'RecordReaperVerdict' as const,
      data: { path: PATH, verdict: { action: 'keep' as const, rule: 'owner-dead-within-grace' as const, detail: 'x', ...(ownerDeadSince ? { ownerDeadSince } : {}) }, strandCooldownMs: cooldown, at },
    });
    const kept: CustodyEvent = { type: 'CustodyWorktreeKept', data: { path: PATH, rule: 'owner-dead-within-grace', detail: 'x', ownerDeadSince: T(61), at: T(61) } };
    given(custodyDecider, [found]).when(keep(T(61), T(61))).then([kept]);
    given(custodyDecider, [found, kept]).when(keep(T(70), T(61))).then([]);
  });
  it('releases only what it holds', () => {
    const release = { type: 'RecordReaperVerdict' as const, data: { path: PATH, verdict: { action: 'release' as const, rule: 'gone-from-disk' as const, detail: '' }, strandCooldownMs: cooldown, at: T(70) } };
    given(custodyDecider, [found]).when(release).then([{ type: 'CustodyWorktreeReleased', data: { path: PATH, rule: 'gone-from-disk', at: T(70) } }]);
    given(custodyDecider, []).when(release).then([]);
  });
  it('refuses to hold a Claude Code worktree at a path held for another session', () => {
    const created = (sessionId: string) => ({ type: 'RecordAgentWorktreeCreated' as const, data: { path: PATH, repoPath: '/r', branch: 'runledger/p-1/claude/x', baseRef: 'main', sessionId, agentSessionId: 'a', name: 'x', at: T(1) } });
    given(custodyDecider, []).when(created('p-1')).then([{ type: 'AgentWorktreeCreated', data: { ...created('p-1').data } }]);
    given(custodyDecider, [{ type: 'AgentWorktreeCreated', data: { ...created('p-1').data } }]).when(created('p-1')).then([]);
    given(custodyDecider, [{ type: 'AgentWorktreeCreated', data: { ...created('p-1').data } }]).when(created('p-2')).thenThrows('CUSTODY.PATH_HELD', { sessionId: 'p-1' });
  });
  it('refuses decisions on a path it does not hold', () =>
    given(custodyDecider, []).when({ type: 'RecordCustodyRemoved', data: { path: PATH, rule: 'nothing-lost-and-unused', at: T(1) } }).thenThrows('CUSTODY.NOT_HELD'));
  it('keeps the preserved ref when removed', () => {
    const state = heldSince([found, { type: 'CustodyWorkPreserved', data: { path: PATH, ref: 'refs/runledger/reaped/x', commit: 'c', at: T(70) } }, { type: 'CustodyWorktreeRemoved', data: { path: PATH, rule: 'nothing-lost-and-unused', at: T(71) } }]);
    expect(state).toMatchObject({ status: 'removed', preservedRef: 'refs/runledger/reaped/x', stranded: false });
  });
});
