/** Git worktree adapter: per-session worktrees, preservation of uncommitted work, restore. */
export * from './git-errors';
export * from './git-worktrees';
