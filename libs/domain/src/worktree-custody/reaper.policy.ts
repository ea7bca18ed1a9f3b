import type { CustodyState } from './custody.decider';

/**
 * The orphan-worktree reaper's rule (docs/ARCHITECTURE.md §4b, invariant 10), pure: facts in, one verdict out.
 * A worktree is removed only when nothing would be lost (clean; no commits ahead of the project's default branch) AND
 * nobody uses it (no live record claims its resolved path, matched across all projects; its owner is terminated or its
 * runtime dead continuously for the grace window). Dirty, un-landed or unreadable worktrees are stranded, never removed.
 */

/** Names of the reaper's rules, as recorded in its events. */
export const REAPER_RULES = {
  outsideNamespace: 'outside-namespace',
  goneFromDisk: 'gone-from-disk',
  claimedByLiveRecord: 'claimed-by-live-record',
  ownerAlive: 'owner-alive',
  dirty: 'dirty',
  unlandedCommits: 'unlanded-commits',
  landStateUnknown: 'land-state-unknown',
  notAWorktree: 'not-a-worktree',
  ownerDeadWithinGrace: 'owner-dead-within-grace',
  detectOnly: 'detect-only',
  nothingLostAndUnused: 'nothing-lost-and-unused',
  directoryVanished: 'directory-vanished',
  unclaimed: 'unclaimed',
} as const;

/** One rule name of REAPER_RULES. */
export type ReaperRule = (typeof REAPER_RULES)[keyof typeof REAPER_RULES];

/** Who the worktree belongs to, as far as the log tells: `since` is when it was last seen alive (ISO-8601), when known. */
export type OwnerFacts =
  | { state: 'unknown' }
  | { state: 'alive'; sessionId: string }
  | { state: 'dead'; sessionId: string; since?: string }
  | { state: 'terminated'; sessionId: string; since: string };

/** What would be lost: `ahead` counts commits not on the default branch; `unknown` when git could not tell. */
export type LandState =
  | { kind: 'clean'; ahead: number; defaultBranch: string }
  | { kind: 'dirty'; entries: number }
  | { kind: 'unknown'; reason: string }
  | { kind: 'empty-directory' }
  | { kind: 'not-a-worktree'; entries: number };

/** A record (of any project) claiming the path while its session is not terminated. */
export interface LiveClaim {
  sessionId: string;
  projectId: string;
}

/** Everything the policy knows about one path in runledger's namespace. */
export interface ReaperFacts {
  /** Resolved (symlink-free) absolute path. */
  path: string;
  onDisk: boolean;
  /** In runledger's worktree root, or a git worktree on a `runledger/` branch. */
  inNamespace: boolean;
  land: LandState;
  liveClaims: readonly LiveClaim[];
  owner: OwnerFacts;
  /** What runledger already decided about this path (its custody stream). */
  custody: CustodyState;
}

/** Settings of one sweep: `now` ISO-8601, `graceMs` the dead-owner window (ms), `mode` detect reports without removing. */
export interface ReaperSettings {
  now: string;
  graceMs: number;
  mode: 'remove' | 'detect';
}

/** The verdict on one path, naming the rule that decided it. */
export type ReaperVerdict =
  | { action: 'remove'; rule: typeof REAPER_RULES.nothingLostAndUnused; detail: string }
  | { action: 'strand'; rule: 'dirty' | 'unlanded-commits' | 'land-state-unknown' | 'not-a-worktree'; detail: string }
  | { action: 'keep'; rule: 'outside-namespace' | 'owner-alive' | 'owner-dead-within-grace' | 'detect-only'; detail: string; ownerDeadSince?: string }
  | { action: 'release'; rule: 'claimed-by-live-record' | 'gone-from-disk'; detail: string };

const ms = (iso: string): number => Date.parse(iso);

/** When the owner was first known dead: the termination time, else the first time this reaper saw it dead (kept in custody), else now. */
const deadSince = (facts: ReaperFacts, now: string): string => {
  const { owner, custody } = facts;
  if (owner.state === 'terminated' || (owner.state === 'dead' && owner.since !== undefined)) return owner.since as string;
  if (custody.status === 'held' && custody.ownerDeadSince !== undefined) return custody.ownerDeadSince;
  if (owner.state === 'unknown' && custody.status === 'held') return custody.firstSeenAt;
  return now;
};

const strandFor = (land: LandState): Extract<ReaperVerdict, { action: 'strand' }> | null => {
  switch (land.kind) {
    case 'dirty':
      return { action: 'strand', rule: 'dirty', detail: `${land.entries} uncommitted change(s)` };
    case 'clean':
      return land.ahead > 0
        ? { action: 'strand', rule: 'unlanded-commits', detail: `${land.ahead} commit(s) not on ${land.defaultBranch}` }
        : null;
    case 'unknown':
      return { action: 'strand', rule: 'land-state-unknown', detail: land.reason };
    case 'not-a-worktree':
      return { action: 'strand', rule: 'not-a-worktree', detail: `a directory of ${land.entries} entr(ies) that is not a git worktree` };
    case 'empty-directory':
      return null;
  }
};

const ownerName = (owner: OwnerFacts): string => (owner.state === 'unknown' ? 'no known owner' : `owner ${owner.sessionId} ${owner.state}`);

/** Decides one path: remove, strand, keep or release (see the module comment for the rule order). */
export const reaperPolicy = (facts: ReaperFacts, settings: ReaperSettings): ReaperVerdict => {
  if (!facts.inNamespace) return { action: 'keep', rule: 'outside-namespace', detail: 'not in runledger\'s worktree root nor on a runledger/ branch' };
  if (!facts.onDisk) return { action: 'release', rule: 'gone-from-disk', detail: 'the directory is gone' };
  if (facts.liveClaims.length > 0) {
    const claims = facts.liveClaims.map((c) => `${c.sessionId} (project ${c.projectId})`).join(', ');
    return { action: 'release', rule: 'claimed-by-live-record', detail: `claimed by ${claims}` };
  }
  if (facts.owner.state === 'alive') return { action: 'keep', rule: 'owner-alive', detail: `${ownerName(facts.owner)}` };
  const strand = strandFor(facts.land);
  if (strand) return strand;
  const since = deadSince(facts, settings.now);
  const deadFor = ms(settings.now) - ms(since);
  if (!(deadFor >= settings.graceMs)) {
    return {
      action: 'keep',
      rule: 'owner-dead-within-grace',
      detail: `${ownerName(facts.owner)} since ${since}: ${Math.max(0, deadFor)} of ${settings.graceMs} ms`,
      ownerDeadSince: since,
    };
  }
  const landed = facts.land.kind === 'clean' ? `clean, nothing ahead of ${facts.land.defaultBranch}` : 'an empty directory';
  if (settings.mode === 'detect') return { action: 'keep', rule: 'detect-only', detail: `would remove (${landed}); RUNLEDGER_REAPER=detect` };
  return { action: 'remove', rule: 'nothing-lost-and-unused', detail: `${landed}; ${ownerName(facts.owner)} since ${since}` };
};

/** The log → disk rule for a session's worktree record: a record holding a directory that is gone becomes `unavailable`. */
export const vanishedRecord = (record: { status: string }, onDisk: boolean): boolean =>
  !onDisk && (record.status === 'active' || record.status === 'restored');
