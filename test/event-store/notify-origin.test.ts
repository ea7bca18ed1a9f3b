import { randomUUID } from 'node:crypto';
import { NewEvent, PostgresEventStore, RecordedEvent } from '@runledger/infra/event-store';
import { describeEachEngine } from '../support/stores';

// invariant 9's live delivery on PostgreSQL: a subscriber is woken by its own store's appends in process and by other
// processes' NOTIFY; the NOTIFY its own store sent (same appends) wakes it no second time.

const event = (): NewEvent => ({ eventId: randomUUID(), type: 'ThingHappened', data: { n: 1 } });

describeEachEngine('NOTIFY rl_events: a store ignores its own', (engine, name) => {
  const it_ = name === 'postgres' ? it : it.skip; // PGlite has no cross-connection NOTIFY: its subscribers poll

  it_('wakes on another store instance\'s NOTIFY, not on its own', async () => {
    const ours = new PostgresEventStore(engine().db);
    const theirs = new PostgresEventStore(engine().db);
    const reads = jest.spyOn(ours, 'readAllBatch');
    const stream = `notify-${randomUUID()}`;
    const seen: RecordedEvent[] = [];
    const waiters: (() => void)[] = [];
    const until = (check: () => boolean) =>
      new Promise<void>((resolve) => {
        const waiter = () => (check() ? resolve() : waiters.push(waiter));
        waiter();
      });
    const subscription = ours.subscribeToAll({
      from: await ours.headCheckpoint(),
      pollIntervalMs: 600_000, // no polling: every read below is a wake-up's
      onEvents: async (events) => {
        seen.push(...events.filter((e) => e.streamId === stream));
        waiters.splice(0).forEach((w) => w());
      },
    });
    try {
      await subscription.caughtUp;
      await ours.appendToStream(stream, [event()], 'no_stream');
      await until(() => seen.length === 1); // the local wake-up delivered it
      const afterOwn = reads.mock.calls.length;
      // Notifications reach a listening connection in commit order: once theirs is delivered, ours was handled before it.
      await theirs.appendToStream(stream, [event()], 0);
      await until(() => seen.length === 2);
      expect(reads.mock.calls.length - afterOwn).toBe(1);
    } finally {
      await subscription.stop();
    }
  });
});
