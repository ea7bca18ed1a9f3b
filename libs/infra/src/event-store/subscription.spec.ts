import { RecordedEvent } from './event-store.port';
import { subscribe } from './subscription';

const START = { transactionId: '0', globalPosition: 0 };

/** A page reader that answers nothing, each read held until released, counting the reads. */
const heldReader = () => {
  const pending: (() => void)[] = [];
  const reader = {
    reads: 0,
    read: async (): Promise<RecordedEvent[]> => {
      reader.reads += 1;
      await new Promise<void>((resolve) => pending.push(resolve));
      return [];
    },
    /** Answers the read in flight; resolves once the loop has had the chance to read again. */
    release: async () => {
      pending.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
    inFlight: () => pending.length,
  };
  return reader;
};

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
};

describe('a subscription woken by a shared source (wakeOn)', () => {
  it('reads only when woken: no poll of its own, no local-append or LISTEN source, and a wake during a read is not lost', async () => {
    const reader = heldReader();
    let wake: () => void = () => undefined;
    const subscription = subscribe({
      from: START,
      onEvents: async () => undefined,
      pollIntervalMs: 3_600_000,
      read: reader.read,
      onAppendedLocally: () => {
        throw new Error('a woken subscription must not watch local appends itself');
      },
      listen: async () => {
        throw new Error('a woken subscription must not LISTEN itself');
      },
      wakeOn: (w) => ((wake = w), () => undefined),
    });
    await until(() => reader.inFlight() === 1);
    await reader.release(); // caught up: it sleeps
    await subscription.caughtUp;
    expect(reader.reads).toBe(1);
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(reader.reads).toBe(1); // idle: nothing read

    wake();
    await until(() => reader.inFlight() === 1);
    expect(reader.reads).toBe(2);
    wake(); // while that read is in flight: events may have committed after its snapshot
    await reader.release();
    await until(() => reader.inFlight() === 1);
    expect(reader.reads).toBe(3);
    await reader.release();

    const stopping = subscription.stop();
    await stopping;
    expect(reader.reads).toBe(3);
  });
});

describe('a subscription that reads ahead (readAhead)', () => {
  const event = (position: number): RecordedEvent =>
    ({ eventId: `e${position}`, type: 'T', streamId: 's', revision: position, globalPosition: position, transactionId: '1', data: {}, metadata: {} }) as unknown as RecordedEvent;
  /** A log of `head` events read in pages, recording where each read started. */
  const log = (head: number) => {
    const reads: number[] = [];
    const read = async (from: { globalPosition: number }, limit: number): Promise<RecordedEvent[]> => {
      reads.push(from.globalPosition);
      const events: RecordedEvent[] = [];
      for (let p = from.globalPosition + 1; p <= Math.min(head, from.globalPosition + limit); p++) events.push(event(p));
      return events;
    };
    return { reads, read };
  };

  it('reads the next page while a full one is handled, and after a failed batch reads that batch again', async () => {
    const source = log(5);
    const handled: number[][] = [];
    let release: () => void = () => undefined;
    let failOnce = true;
    const subscription = subscribe({
      from: START,
      batchSize: 2,
      readAhead: true,
      pollIntervalMs: 1, // the retry after the failed batch comes at once (and, caught up, it polls)
      read: source.read,
      onAppendedLocally: () => () => undefined,
      onEvents: async (events) => {
        const positions = events.map((e) => e.globalPosition);
        if (positions[0] === 1) await new Promise<void>((resolve) => (release = resolve));
        if (positions[0] === 3 && failOnce) {
          failOnce = false;
          throw new Error('receiver down');
        }
        handled.push(positions);
      },
    });
    await until(() => source.reads.length === 2);
    expect(source.reads).toEqual([0, 2]); // the page after position 2 is read while the first is still being handled
    expect(handled).toEqual([]);
    release();
    await subscription.caughtUp;
    // The batch 3–4 failed: the page read ahead after it (5) was dropped, 3–4 read again, then 5.
    expect(handled).toEqual([[1, 2], [3, 4], [5]]);
    await subscription.stop();
    expect(source.reads.slice(0, 5)).toEqual([0, 2, 4, 2, 4]);
    expect(source.reads.slice(5).every((from) => from === 5)).toBe(true); // caught up: polls after the head
  });
});
