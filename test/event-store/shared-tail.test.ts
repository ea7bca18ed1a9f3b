import { randomUUID } from 'node:crypto';
import { RecordedEvent, Subscription } from '@runledger/infra/event-store';
import { describeEachEngine } from '../support/stores';

// The in-process subscribers of one store (projection, managed executor, live tails) read the log's tail once per
// append between them, not once each (SharedTailReader, docs/ARCHITECTURE.md §3).

describeEachEngine('subscribers of one store share their reads of the tail', (engine) => {
  it('three subscribers woken by one append: one read of the store, every subscriber gets the event', async () => {
    const store = engine().store;
    const stream = `tail-${randomUUID()}`;
    const seen: RecordedEvent[][] = [[], [], []];
    const from = await store.headCheckpoint();
    const subscriptions: Subscription[] = [0, 1, 2].map((i) =>
      store.subscribeToAll({
        from,
        batchSize: i === 1 ? 100 : 500, // the live tail's batch size beside the projection's and the executor's
        coalesceMs: i === 2 ? 5 : 0, // the projection waits 5 ms for more appends
        pollIntervalMs: 600_000, // no polling: every read below is a wake-up's
        onEvents: async (events) => void seen[i].push(...events.filter((e) => e.streamId === stream)),
      }),
    );
    try {
      await Promise.all(subscriptions.map((s) => s.caughtUp));
      for (let round = 1; round <= 3; round++) {
        const before = store.tailReads();
        await store.appendToStream(stream, [{ eventId: randomUUID(), type: 'ThingHappened', data: { round } }], round === 1 ? 'no_stream' : round - 2);
        for (let i = 0; i < 200 && seen.some((s) => s.length < round); i++) await new Promise((r) => setTimeout(r, 10));
        expect(seen.map((s) => s.map((e) => (e.data as { round: number }).round))).toEqual([0, 1, 2].map(() => Array.from({ length: round }, (_, k) => k + 1)));
        const after = store.tailReads();
        expect(after.store - before.store).toBe(1);
        expect(after.shared - before.shared).toBe(2);
      }
    } finally {
      await Promise.all(subscriptions.map((s) => s.stop()));
    }
  });
});
