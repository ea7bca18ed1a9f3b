import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { SqlDatabase } from '@runledger/infra/database';
import { Checkpoint, EventStore, loadCheckpoint, RecordedEvent, START, Subscription } from '@runledger/infra/event-store';
import {
  checkpointAtPosition,
  CheckpointMovedError,
  checkpointOf,
  compareCheckpoints,
  CommittedBatch,
  countEventsAfter,
  projectAndCheckpoint,
  READ_MODELS_SUBSCRIPTION,
  truncateReadModels,
} from '@runledger/infra/read-models';
import { EVENT_STORE, SQL_DATABASE } from '@runledger/infra/tokens';
import type { ProjectionProgress, RebuildOutcome } from '@runledger/application';

/** Events per projection transaction (live and rebuild). */
const BATCH_SIZE = 500;

/** Thrown by waitForPosition when the projection has not processed the position within the timeout. */
export class ProjectionTimeoutError extends Error {
  readonly code = 'PROJECTION.TIMEOUT';
  constructor(readonly globalPosition: number, readonly timeoutMs: number, readonly processed: Checkpoint) {
    super(
      `the read-model projection did not reach global position ${globalPosition} within ${timeoutMs} ms ` +
        `(processed up to position ${processed.globalPosition}, transaction ${processed.transactionId})`,
    );
  }
}

/** Thrown by rebuild when another rebuild of this runner is under way. */
export class RebuildInProgressError extends Error {
  readonly code = 'PROJECTION.REBUILD_IN_PROGRESS';
  constructor() {
    super('a read-model rebuild is already running');
  }
}

/** Result of a rebuild: events replayed and wall time in milliseconds. */
export type RebuildResult = RebuildOutcome;

/**
 * The worker's read-model projection (DESIGN §1, §4.1): a checkpointed subscription to the whole log that folds each
 * batch into the rl_rm_* tables in ONE transaction with its checkpoint (rows and checkpoint commit together, so a crash
 * re-delivers at most the uncommitted batch, which the projector ignores by revision). Rebuild replays the log from
 * scratch into the same rows (invariant 8).
 */
@Injectable()
export class ProjectionRunner implements ProjectionProgress, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Projections');
  private readonly progress = new EventEmitter();
  private subscription: Subscription | null = null;
  /** Where the subscription reads the next batch from. */
  private readFrom: Checkpoint = START;
  /** The committed checkpoint as this runner last saw it: everything at or before it is in the read models. */
  private processed: Checkpoint = START;
  /** Highest global position known processed (positions are not monotonic in delivery order; used when a position is not in the log). */
  private maxPosition = 0;
  private rebuilding = false;
  private resync: Promise<void> | null = null;
  private starting: Promise<void> | null = null;
  private lastError = '';

  constructor(
    @Inject(SQL_DATABASE) private readonly db: SqlDatabase,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {
    this.progress.setMaxListeners(0);
  }

  /** Nest hook: starts the live projection from its stored checkpoint (does not wait for the catch-up: see caughtUp). */
  async onApplicationBootstrap(): Promise<void> {
    await this.start();
  }

  /** Nest hook: stops the subscription before any provider closes the database. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Nest hook: stops the subscription (idempotent). */
  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Starts the live subscription from the stored checkpoint; no-op when running (or starting). */
  async start(): Promise<void> {
    if (this.subscription) return;
    this.starting ??= (async () => {
      const stored = await loadCheckpoint(this.db, READ_MODELS_SUBSCRIPTION);
      this.readFrom = stored;
      this.processed = stored;
      this.maxPosition = stored.globalPosition;
      this.advance(stored, []);
      this.subscription = this.store.subscribeToAll({
        from: stored,
        batchSize: BATCH_SIZE,
        onEvents: (events) => this.onEvents(events),
        onError: (error) => this.onError(error),
      });
      this.logger.log(`read-model projection started after position ${stored.globalPosition}`);
    })().finally(() => (this.starting = null));
    await this.starting;
  }

  /** Stops the live subscription and waits for the batch in progress to end; no-op when stopped. */
  async stop(): Promise<void> {
    await this.starting;
    const subscription = this.subscription;
    this.subscription = null;
    await subscription?.stop();
  }

  /** Resolves once the live subscription has delivered everything readable when it started (see catchUp for a stronger wait). */
  async caughtUp(): Promise<void> {
    await this.subscription?.caughtUp;
  }

  /**
   * Resolves once the read models hold every event committed when called (DESIGN §4 step 1), on progress, not timers;
   * unlike caughtUp it also waits for events that a long transaction elsewhere still hides from readers. Rejects with
   * ProjectionTimeoutError.
   */
  async catchUp(timeoutMs: number): Promise<void> {
    await this.waitForPosition(await this.store.headPosition(), timeoutMs);
  }

  /** The committed checkpoint this runner has processed up to. */
  position(): Checkpoint {
    return { ...this.processed };
  }

  /**
   * Resolves once the read models hold the event at `globalPosition` (and everything before it in the global order),
   * waiting on the runner's progress, never on a timer loop; rejects with ProjectionTimeoutError after `timeoutMs`.
   * Resolves at once for a position ≤ 0.
   */
  async waitForPosition(globalPosition: number, timeoutMs: number): Promise<void> {
    if (globalPosition <= 0) return;
    const target = await checkpointAtPosition(this.db, globalPosition);
    // With the event's transaction id the test is exact; a position not (yet) in the log falls back to the highest one seen.
    const reached = () => (target ? compareCheckpoints(this.processed, target) >= 0 : this.maxPosition >= globalPosition);
    if (reached()) return;
    await new Promise<void>((resolve, reject) => {
      const onProgress = () => {
        if (!reached()) return;
        clearTimeout(timer);
        this.progress.off('progress', onProgress);
        resolve();
      };
      const timer = setTimeout(() => {
        this.progress.off('progress', onProgress);
        reject(new ProjectionTimeoutError(globalPosition, timeoutMs, this.processed));
      }, timeoutMs);
      this.progress.on('progress', onProgress);
    });
  }

  /** Events committed to the log that the read models do not hold yet (0 when caught up), counted after the stored checkpoint. */
  async lag(): Promise<number> {
    const stored = await loadCheckpoint(this.db, READ_MODELS_SUBSCRIPTION);
    return countEventsAfter(this.db, stored);
  }

  /**
   * Drops and rebuilds the read models from the whole log (invariant 8): stops the subscription, truncates the rl_rm_*
   * tables and resets the checkpoint in one transaction, replays the log in batches (each committed with its checkpoint,
   * `onProgress(done, total)` after each), then restarts the live subscription if it was running. Throws
   * RebuildInProgressError if one is under way. Reads may see partial read models until it ends.
   */
  async rebuild(onProgress?: (done: number, total: number) => void): Promise<RebuildResult> {
    if (this.rebuilding) throw new RebuildInProgressError();
    this.rebuilding = true;
    const started = performance.now();
    const wasRunning = this.subscription !== null || this.resync !== null;
    try {
      await this.resync;
      await this.stop();
      await this.db.transaction((tx) => truncateReadModels(tx));
      this.readFrom = START;
      this.processed = START;
      this.maxPosition = 0;
      const total = await countEventsAfter(this.db, START);
      let done = 0;
      let batch: RecordedEvent[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        await this.commit(batch);
        done += batch.length;
        batch = [];
        onProgress?.(done, Math.max(total, done));
      };
      for await (const event of this.store.readAll({ from: START })) {
        batch.push(event);
        if (batch.length >= BATCH_SIZE) await flush();
      }
      await flush();
      const ms = Math.round(performance.now() - started);
      this.logger.log(`read models rebuilt from ${done} events in ${ms} ms`);
      return { events: done, ms };
    } finally {
      this.rebuilding = false;
      if (wasRunning) await this.start();
    }
  }

  /** One batch: projector + checkpoint in one transaction, then wake the waiters. */
  private async commit(events: RecordedEvent[]): Promise<CommittedBatch> {
    const committed = await this.db.transaction((tx) => projectAndCheckpoint(tx, events, this.readFrom));
    this.readFrom = checkpointOf(events[events.length - 1]);
    if (committed.report && committed.report.unknown.length > 0) {
      this.logger.warn(`skipped events of unknown types: ${committed.report.unknown.slice(0, 5).join(', ')}`);
    }
    this.advance(committed.checkpoint, events);
    return committed;
  }

  private async onEvents(events: RecordedEvent[]): Promise<void> {
    await this.commit(events);
    this.lastError = '';
  }

  private advance(checkpoint: Checkpoint, events: RecordedEvent[]): void {
    if (compareCheckpoints(checkpoint, this.processed) > 0) this.processed = checkpoint;
    for (const event of events) this.maxPosition = Math.max(this.maxPosition, event.globalPosition);
    this.maxPosition = Math.max(this.maxPosition, checkpoint.globalPosition);
    this.progress.emit('progress');
  }

  private onError(error: unknown): void {
    if (error instanceof CheckpointMovedError) {
      // Another process reset the checkpoint (a rebuild there): continue from the stored one. Not from inside the
      // subscription's handler: stop() waits for that handler.
      if (!this.resync && !this.rebuilding) {
        this.resync = (async () => {
          await this.stop();
          await this.start();
        })()
          .catch((e) => this.logger.error(`read-model projection could not resubscribe: ${(e as Error).message}`))
          .finally(() => (this.resync = null));
      }
      return;
    }
    // The subscription retries the same batch every poll interval: say it once per distinct failure.
    const message = error instanceof Error ? error.message : String(error);
    if (message !== this.lastError) this.logger.error(`read-model projection batch failed (retrying): ${message}`);
    this.lastError = message;
  }
}
