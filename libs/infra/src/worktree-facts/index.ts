export * from './worktree-facts';
