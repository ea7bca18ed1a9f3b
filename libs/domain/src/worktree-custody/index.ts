/** Worktree custody: orphan reaping and Claude Code's own worktrees (docs/ARCHITECTURE.md §4b). */
export * from './custody.events';
export * from './custody.commands';
export * from './custody.errors';
export * from './custody.decider';
export * from './reaper.policy';
