import { projectAndCheckpoint, READ_MODELS_SUBSCRIPTION } from '@runledger/infra/read-models';
import { loadCheckpoint } from '@runledger/infra/event-store';
import { describeEachEngine } from '../support/stores';

// invariant 8: read-model rows and their checkpoint commit in one transaction, so that transaction may commit without
// waiting for its WAL flush (a crash loses whole batches, re-read from the log); an append's commit never waits on it.

describeEachEngine('projectAndCheckpoint: the projection commits asynchronously', (engine) => {
  it('runs its transaction with synchronous_commit off, and only that transaction', async () => {
    const { db } = engine();
    const inside = await db.transaction(async (tx) => {
      const stored = await loadCheckpoint(tx, READ_MODELS_SUBSCRIPTION);
      await projectAndCheckpoint(tx, [], stored);
      return (await tx.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0].synchronous_commit;
    });
    expect(inside).toBe('off');
    expect((await db.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0].synchronous_commit).toBe('on');
  });
});
