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
