import { randomUUID } from 'node:crypto';
import { RecordedEvent } from '@runledger/infra/event-store';
import { describeEachEngine } from '../support/stores';

/**
 * The projection's precondition (invariants 8, 9): the store hands out the log in numeric (transaction id, position)
 * order. Regression: `ORDER BY transaction_id` once bound to the `transaction_id::text` output alias and sorted text-wise,
 * so past a digit boundary (999 → 1000) readAll misordered the log and the subscription skipped events.
 */
describeEachEngine('global log order, as the read models consume it', (engine) => {
  it('readAll and subscribeToAll deliver events in numeric (transaction id, position) order across a transaction-id digit boundary', async () => {
    const { db, store } = engine();
    const txid = async () => BigInt((await db.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0].x);
    // Burn transaction ids (each autocommit call is a transaction) up to just below the next power of ten, when cheap.
    const now = await txid();
    const boundary = 10n ** BigInt(now.toString().length);
    const crossing = boundary - now <= 3000n;
    if (crossing) while ((await txid()) < boundary - 4n);
    const streamId = `order-${randomUUID()}`;
    for (let i = 0; i < 8; i++) {
      await store.appendToStream(streamId, [{ eventId: randomUUID(), type: 'Ticked', data: { i } }], i === 0 ? 'no_stream' : i - 1);
    }
    const inOrder = (events: RecordedEvent[]) =>
      events.every((e, k) => {
        if (k === 0) return true;
        const [a, b] = [BigInt(events[k - 1].transactionId), BigInt(e.transactionId)];
        return a < b || (a === b && events[k - 1].globalPosition < e.globalPosition);
      });

    // Subscribe with small pages first: a misordered page moves the checkpoint past events it never delivered. Waits
    // for the last event appended (on a shared server a transaction elsewhere may hide it for a while), never a timer.
    const delivered: RecordedEvent[] = [];
    let sawLast!: () => void;
    const last = new Promise<void>((resolve) => (sawLast = resolve));
    const subscription = store.subscribeToAll({
      from: { transactionId: '0', globalPosition: 0 },
      batchSize: 3,
      onEvents: async (events) => {
        delivered.push(...events);
        if (events.some((e) => e.streamId === streamId && e.revision === 7)) sawLast();
      },
    });
    await last;
    await subscription.stop();

    const all: RecordedEvent[] = [];
    for await (const event of store.readAll()) all.push(event);
    const mine = all.filter((e) => e.streamId === streamId);
    if (crossing) expect(mine.some((e) => BigInt(e.transactionId) >= boundary) && mine.some((e) => BigInt(e.transactionId) < boundary)).toBe(true);
    expect(mine.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(inOrder(all)).toBe(true);
    expect(delivered.filter((e) => e.streamId === streamId).map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
