import { HttpException, Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { RunledgerConfig } from '@runledger/infra/config';
import { EventStore, Subscription } from '@runledger/infra/event-store';
import { EVENT_STORE, RUNLEDGER_CONFIG } from '@runledger/infra/tokens';

/** A live tail's own poll when no wake-up came (ms): a backstop only; the hub wakes the tails. */
export const LIVE_TAIL_BACKSTOP_POLL_MS = 30_000;

/** Thrown when `RUNLEDGER_MAX_LIVE_TAILS` tails are already being served: 503 with Retry-After, code EVENTS.TOO_MANY_TAILS. */
export class TooManyTailsError extends HttpException {
  constructor(limit: number) {
    super(
      { message: `${limit} live tails are already being served (RUNLEDGER_MAX_LIVE_TAILS); retry later, or page with GET /events?from=`, code: 'EVENTS.TOO_MANY_TAILS' },
      503,
    );
  }
}

/**
 * The one watcher of the log behind every live tail of `GET /events`: a single subscription (the store's own
 * notification and polling) that wakes the tails when events commit, so that idle tails cost nothing each (no poll,
 * no LISTEN connection per tail). Each tail still reads its own pages from its own position, in the gap-safe order of
 * invariant 9. Also counts the tails and refuses one over the limit.
 */
@Injectable()
export class LiveTailHub implements OnModuleDestroy {
  private readonly logger = new Logger('LiveTails');
  private readonly wakers = new Set<() => void>();
  private watcher: Promise<Subscription> | null = null;
  private tails = 0;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(RUNLEDGER_CONFIG) private readonly config: Pick<RunledgerConfig, 'maxLiveTails'>,
  ) {}

  /** Takes a tail's place; returns its release (idempotent). Throws TooManyTailsError at the limit. */
  admit(): () => void {
    if (this.tails >= this.config.maxLiveTails) throw new TooManyTailsError(this.config.maxLiveTails);
    this.tails += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.tails -= 1;
    };
  }

  /** Live tails being served. */
  count(): number {
    return this.tails;
  }

  /** A subscription's `wakeOn`: `wake` is called whenever the watcher sees new events; returns the unsubscribe. */
  readonly wakeOn = (wake: () => void): (() => void) => {
    this.wakers.add(wake);
    this.watch();
    return () => this.wakers.delete(wake);
  };

  /** Nest hook: stops the watcher. */
  async onModuleDestroy(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    this.wakers.clear();
    const watcher = this.watcher;
    this.watcher = null;
    await (await watcher?.catch(() => null))?.stop();
  }

  private wakeAll(): void {
    for (const wake of this.wakers) wake();
  }

  private watch(): void {
    this.watcher ??= (async () => {
      const subscription = this.store.subscribeToAll({
        from: await this.store.headCheckpoint(),
        batchSize: 100,
        onEvents: async () => this.wakeAll(),
        onError: (error) => this.logger.warn(`live-tail watcher: ${(error as Error).message} (retrying)`),
      });
      this.wakeAll(); // whatever committed before the watcher's starting point
      return subscription;
    })();
    this.watcher.catch((error: Error) => {
      this.logger.warn(`live-tail watcher could not start: ${error.message} (retrying in 1 s)`);
      this.watcher = null;
      this.retry ??= setTimeout(() => {
        this.retry = null;
        if (this.wakers.size > 0) this.watch();
      }, 1000);
    });
  }
}
