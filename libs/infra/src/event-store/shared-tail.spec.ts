import { Checkpoint, RecordedEvent } from './event-store.port';
import { SharedTailReader } from './shared-tail';

const event = (position: number): RecordedEvent =>
  ({ eventId: `e${position}`, streamId: 's', type: 'T', data: {}, metadata: {}, revision: position - 1, globalPosition: position, transactionId: '1', hash: 'h', prevHash: null }) as unknown as RecordedEvent;
const at = (globalPosition: number): Checkpoint => ({ transactionId: '1', globalPosition });

/** A log of `head` events and a reader over it that counts and can hold its reads. */
const fakeLog = () => {
  const log = { head: 3, reads: 0, release: [] as (() => void)[], hold: false };
  const read = async (from: Checkpoint, limit: number): Promise<RecordedEvent[]> => {
    log.reads += 1;
    if (log.hold) await new Promise<void>((resolve) => log.release.push(resolve));
    const events: RecordedEvent[] = [];
    for (let p = from.globalPosition + 1; p <= log.head && events.length < limit; p++) events.push(event(p));
    return events;
  };
  return { log, read };
};

describe('SharedTailReader: one read of the log tail for every subscriber', () => {
  it('subscribers asking for the same page at the same time share one read, each with its own array', async () => {
    const { log, read } = fakeLog();
    const tail = new SharedTailReader(read, () => 0);
    log.hold = true;
    const pages = [tail.readAfter(at(0), 500), tail.readAfter(at(0), 100), tail.readAfter(at(0), 500)];
    log.release.splice(0).forEach((r) => r());
    const [a, b, c] = await Promise.all(pages);
    expect(log.reads).toBe(1);
    expect(a.map((e) => e.globalPosition)).toEqual([1, 2, 3]);
    expect(b).toEqual(a);
    expect(c).not.toBe(a);
    expect(tail.counts).toEqual({ store: 1, shared: 2 });
  });

  it('never serves a page read before an append was announced', async () => {
    const { log, read } = fakeLog();
    const tail = new SharedTailReader(read, () => 0);
    await tail.readAfter(at(0), 500);
    log.head = 4;
    tail.invalidate();
    expect((await tail.readAfter(at(0), 500)).map((e) => e.globalPosition)).toEqual([1, 2, 3, 4]);
    expect(log.reads).toBe(2);
  });

  it('serves a page only while it is young, for the same checkpoint, and when it covers the request', async () => {
    const { log, read } = fakeLog();
    let now = 0;
    const tail = new SharedTailReader(read, () => now, 50);
    await tail.readAfter(at(0), 2); // a full page of 2: more may follow
    expect(await tail.readAfter(at(0), 1)).toHaveLength(1); // covered
    expect(log.reads).toBe(1);
    expect(await tail.readAfter(at(0), 500)).toHaveLength(3); // not covered: the page of 2 did not reach the head
    expect(log.reads).toBe(2);
    expect(await tail.readAfter(at(1), 500)).toHaveLength(2); // another checkpoint
    expect(log.reads).toBe(3);
    now = 51;
    await tail.readAfter(at(1), 500); // too old
    expect(log.reads).toBe(4);
  });

  it('a failed read fails those waiting on it and is forgotten', async () => {
    let fail = true;
    const tail = new SharedTailReader(async () => {
      if (fail) throw new Error('connection lost');
      return [event(1)];
    }, () => 0);
    const both = [tail.readAfter(at(0), 10), tail.readAfter(at(0), 10)];
    await expect(both[0]).rejects.toThrow('connection lost');
    await expect(both[1]).rejects.toThrow('connection lost');
    fail = false;
    expect(await tail.readAfter(at(0), 10)).toHaveLength(1);
  });
});
