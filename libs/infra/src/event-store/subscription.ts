import { Checkpoint, LogEntry, RecordedEvent, SubscribeOptions, Subscription } from './event-store.port';

/** What the subscription loop needs from a store: a gap-safe page reader (of whole events or of entries) and the wake-up sources. */
export interface SubscriptionSource<Event extends LogEntry = RecordedEvent> extends SubscribeOptions<Event> {
  read(from: Checkpoint, limit: number): Promise<Event[]>;
  /** In-process wake-up after a local append; returns an unsubscribe function. */
  onAppendedLocally(wake: () => void): () => void;
  /** Cross-process wake-up (LISTEN/NOTIFY); absent on PGlite, where the loop polls. */
  listen?: (wake: () => void) => Promise<() => Promise<void>>;
}

/**
 * Catch-up then live delivery: reads pages after the checkpoint, hands each to `onEvents`, and when caught up
 * sleeps until a notification, a local append (or, with `wakeOn`, that source alone) or the polling interval. A page shorter than the batch size is caught
 * up too: the loop reads again at once only if a wake-up came since that read began (else it would read an empty page
 * after every batch), so appends made while a batch is handled arrive together in the next one; `coalesceMs` lets
 * the next few ms of appends join them; with `readAhead` the next page is read while a full one is handled. A failing handler is
 * retried with the same batch (at-least-once; consumers are idempotent and store their checkpoint with their writes).
 */
export const subscribe = <Event extends LogEntry>(source: SubscriptionSource<Event>): Subscription => {
  const batchSize = source.batchSize ?? 500;
  let stopped = false;
  let wakeUp: (() => void) | null = null;
  /** A wake-up arrived since the current read began. */
  let woken = false;
  const wake = () => {
    woken = true;
    wakeUp?.();
  };
  let markCaughtUp!: () => void;
  const firstCatchUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
  const offLocal = source.wakeOn ? source.wakeOn(wake) : source.onAppendedLocally(wake);
  const unlisten = source.listen && !source.wakeOn ? source.listen(wake).catch((error) => (source.onError?.(error), async () => undefined)) : null;
  // Caught up means listening too: another process's append after it wakes this subscriber (a busy server may take a
  // while to open the LISTEN connection; a NOTIFY sent before it is in place reaches nobody, and only polling finds it).
  const caughtUp = Promise.all([firstCatchUp, unlisten]).then(() => undefined);

  const sleep = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, source.pollIntervalMs ?? 200);
      function done() {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });

  const coalesce = source.coalesceMs ?? 0;
  const loop = (async () => {
    let from = source.from;
    let caughtUpBefore = false;
    /** The page after `from` read ahead (readAhead), while the batch before it was handled. */
    let ahead: { from: Checkpoint; page: Promise<Event[]> } | null = null;
    while (!stopped) {
      try {
        if (caughtUpBefore && coalesce > 0) await new Promise((resolve) => setTimeout(resolve, coalesce));
        const readAhead: Promise<Event[]> | null = ahead && ahead.from.transactionId === from.transactionId && ahead.from.globalPosition === from.globalPosition ? ahead.page : null;
        ahead = null;
        // A page read ahead began before this point: a wake since the last reset may postdate it, so `woken` is kept.
        if (!readAhead) woken = false;
        const events: Event[] = await (readAhead ?? source.read(from, batchSize));
        if (events.length > 0) {
          const last = events[events.length - 1];
          const next: Checkpoint = { transactionId: last.transactionId, globalPosition: last.globalPosition };
          if (source.readAhead && events.length === batchSize) {
            const page = source.read(next, batchSize);
            page.catch(() => undefined); // awaited, and its error handled, by the next turn (or dropped with a failed batch)
            ahead = { from: next, page };
          }
          await source.onEvents(events);
          from = next;
        }
        caughtUpBefore = events.length < batchSize;
        if (caughtUpBefore) {
          markCaughtUp();
          if (!woken && !stopped) await sleep();
        }
      } catch (error) {
        source.onError?.(error);
        if (!stopped) await sleep();
      }
    }
  })();

  return {
    caughtUp,
    stop: async () => {
      stopped = true;
      wake();
      await loop;
      offLocal();
      if (unlisten) await (await unlisten)();
    },
  };
};
