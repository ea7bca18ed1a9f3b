/** One decision of a reaper sweep: `recorded` is false when it changed nothing (already decided, within the cooldown). */
export interface SweepDecision {
  path: string;
  action: 'remove' | 'strand' | 'keep' | 'release' | 'vanished';
  rule: string;
  detail: string;
  recorded: boolean;
  sessionId?: string;
  preservedRef?: string;
}

/** Report of one sweep; `skipped` names why nothing was decided (another reaper holds the lease, read models lag). */
export interface SweepReport {
  mode: 'remove' | 'detect';
  skipped?: string;
  scanned: number;
  decisions: SweepDecision[];
  /** Decisions that appended events or changed the disk. */
  changed: number;
  unreadableRepos: { repoPath: string; error: string }[];
  ms: number;
}

/** The orphan-worktree reaper as the api sees it (docs/ARCHITECTURE.md §4b): provided by the worker role only. */
export interface WorktreeSweeper {
  /** One sweep now (joins a sweep already running in this process). */
  sweep(): Promise<SweepReport>;
}

/** Nest injection token for the WorktreeSweeper port (inject with `@Optional()`: absent without the worker role). */
export const WORKTREE_SWEEPER = Symbol('WorktreeSweeper');
