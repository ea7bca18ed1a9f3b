import { Checkpoint, RecordedEvent } from './event-store.port';

/** How long a page read for one subscriber may serve another that asks for the same page (ms). */
export const SHARED_PAGE_MAX_AGE_MS = 50;

/**
 * One read of the log's tail for all of a process's subscribers (projection, managed executor, live tails;
 * docs/ARCHITECTURE.md §3). Woken by the same append, they ask for the page after the same checkpoint at about the same
 * time: the first asks the store, the others share its answer (a new array each, the same event objects: read-only).
 * An answer serves a later request for the same checkpoint only while no append was announced since its read began
 * (invalidate), for at most `maxAgeMs`, and only if it covers the request: `limit` events, or fewer because it reached
 * the head as of that read. A failed read is shared by those waiting on it, and forgotten.
 */
export class SharedTailReader {
  private generation = 0;
  private last?: { checkpoint: string; generation: number; limit: number; startedAt: number; page: Promise<RecordedEvent[]> };
  /** Reads from the store, and reads served by an earlier read (for the metrics and the tests). */
  readonly counts = { store: 0, shared: 0 };

  constructor(
    private readonly read: (from: Checkpoint, limit: number) => Promise<RecordedEvent[]>,
    private readonly now: () => number = () => Date.now(),
    private readonly maxAgeMs: number = SHARED_PAGE_MAX_AGE_MS,
  ) {}

  /** An append was announced (this process's, or another's NOTIFY): no page read before now may serve a new request. */
  invalidate(): void {
    this.generation += 1;
  }

  /** The events after `from`, at most `limit`, in log order: the store's answer, or an earlier one that is still good. */
  async readAfter(from: Checkpoint, limit: number): Promise<RecordedEvent[]> {
    const checkpoint = `${from.transactionId}/${from.globalPosition}`;
    const last = this.last;
    if (last && last.checkpoint === checkpoint && last.generation === this.generation && this.now() - last.startedAt <= this.maxAgeMs) {
      const events = await last.page;
      if (limit <= events.length || events.length < last.limit) {
        this.counts.shared += 1;
        return events.slice(0, limit);
      }
    }
    const page = this.read(from, limit);
    this.last = { checkpoint, generation: this.generation, limit, startedAt: this.now(), page };
    this.counts.store += 1;
    page.catch(() => {
      if (this.last?.page === page) this.last = undefined;
    });
    return (await page).slice();
  }
}
