import type { SessionStreams } from '@runledger/application';
import { DatabaseUnavailableError, SqlDatabase } from '@runledger/infra/database';
import type { GitWorktrees } from '@runledger/infra/git';
import type { BootReconciler } from '../recovery/boot-reconciler';
import { WorktreeJanitor } from './worktree-janitor';

describe('the worktree janitor while the database is away', () => {
  it('logs a failed round and keeps its timer: no unhandled rejection (which would end the process)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    let queries = 0;
    const db = {
      kind: 'postgres',
      query: async () => {
        queries += 1;
        throw new DatabaseUnavailableError(new Error('Connection terminated unexpectedly'));
      },
    } as unknown as SqlDatabase;
    const janitor = new WorktreeJanitor(db, {} as SessionStreams, {} as GitWorktrees, { done: Promise.resolve() } as unknown as BootReconciler);
    try {
      janitor.onApplicationBootstrap();
      while (queries === 0) await new Promise((resolve) => setImmediate(resolve));
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      await expect(janitor.sweep()).rejects.toBeInstanceOf(DatabaseUnavailableError); // a direct call still says why
    } finally {
      await janitor.onApplicationShutdown();
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
