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
  CheckpointMovedError,
  checkpointOf,
  compareCheckpoints,
  CommittedBatch,
  dropShadowReadModels,
  prepareShadowReadModels,
  projectAndCheckpoint,
  ProjectionGapError,
  READ_MODELS_SUBSCRIPTION,
  REBUILD_SUBSCRIPTION,
  swapInShadowReadModels,
  useShadowReadModels,
} from '@runledger/infra/read-models';
import { EVENT_STORE, SQL_DATABASE } from '@runledger/infra/tokens';
import type { ProjectionProgress, RebuildOutcome } from '@runledger/application';

/** Events per live projection transaction. */
const BATCH_SIZE = 500;
/** Events per rebuild transaction: the projector writes each batch's rows in bulk, so a rebuild's rows are written in few statements. */
const REBUILD_BATCH_SIZE = 5_000;
/**
 * Once caught up, the live projection lets this many ms of appends gather before its next transaction: a batch costs
 * about the same for 1 event as for 20, and nothing answers on it but reads (hooks answer on their commit).
 */
const COALESCE_MS = 5;

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
 * The worker's read-model projection (docs/ARCHITECTURE.md §1, §4.1): a checkpointed subscription to the whole log that folds each
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
  /** Events this runner dead-lettered since it started (the table holds them all; see listDeadLetters). */
  deadLettered = 0;
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
        coalesceMs: COALESCE_MS,
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
   * Resolves once the read models hold every event committed when called (docs/ARCHITECTURE.md §4 step 1), on progress, not timers;
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
    const target = await this.store.checkpointAt(globalPosition);
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
    return this.store.countAfter(stored);
  }

  /**
   * Rebuilds the read models from the whole log (invariant 8) without taking them away: replays the log into shadow
   * tables (schema rl_rebuild) in batches, each committed with the rebuild's own checkpoint (`onProgress(done, total)`
   * after each) while the live projection keeps serving; then stops the live subscription, replays what came since and
   * swaps the shadow rows in with their checkpoint in ONE transaction, and restarts the live subscription if it was
   * running. A rebuild that fails leaves the old read models in place (the shadow tables are dropped). Throws
   * RebuildInProgressError if one is under way in this runner.
   */
  async rebuild(onProgress?: (done: number, total: number) => void): Promise<RebuildResult> {
    if (this.rebuilding) throw new RebuildInProgressError();
    this.rebuilding = true;
    const started = performance.now();
    const wasRunning = this.subscription !== null || this.resync !== null;
    let stopped = false;
    try {
      await this.resync;
      await this.db.transaction((tx) => prepareShadowReadModels(tx));
      const total = await this.store.countAfter(START);
      let done = 0;
      let readFrom: Checkpoint = START;
      const read = async (from: Checkpoint): Promise<RecordedEvent[]> => {
        const events: RecordedEvent[] = [];
        for await (const event of this.store.readAll({ from, maxCount: REBUILD_BATCH_SIZE })) events.push(event);
        return events;
      };
      const replay = async () => {
        let next = read(readFrom);
        for (;;) {
          const events = await next;
          if (events.length === 0) return;
          const more = events.length === REBUILD_BATCH_SIZE;
          // On PostgreSQL the next batch is read (another pooled connection) while this one is written; PGlite has one
          // backend (docs/ARCHITECTURE.md §7), so there it is read after.
          if (more && this.db.kind === 'postgres') {
            next = read(checkpointOf(events[events.length - 1]));
            next.catch(() => undefined); // awaited below; a failure of the write first must not leave it unhandled
          }
          await this.commitBatch(events, readFrom, REBUILD_SUBSCRIPTION);
          readFrom = checkpointOf(events[events.length - 1]);
          done += events.length;
          onProgress?.(done, Math.max(total, done));
          if (!more) return;
          if (this.db.kind !== 'postgres') next = read(readFrom);
        }
      };
      await replay(); // the bulk, while the live projection keeps the old read models current
      await this.stop();
      stopped = true;
      await replay(); // what was appended meanwhile
      const swapped = await this.db.transaction((tx) => swapInShadowReadModels(tx));
      this.readFrom = swapped;
      this.processed = swapped;
      this.maxPosition = Math.max(this.maxPosition, swapped.globalPosition);
      this.progress.emit('progress');
      const ms = Math.round(performance.now() - started);
      this.logger.log(`read models rebuilt from ${done} events in ${ms} ms and swapped in`);
      return { events: done, ms };
    } catch (error) {
      await this.db.transaction((tx) => dropShadowReadModels(tx)).catch((e: Error) => this.logger.error(`could not drop the rebuild's shadow tables: ${e.message}`));
      this.logger.error(`read-model rebuild failed, the previous read models stay in place: ${(error as Error).message}`);
      throw error;
    } finally {
      this.rebuilding = false;
      if (wasRunning || stopped) await this.start();
    }
  }

  /** One batch: projector + checkpoint in one transaction, then wake the waiters (live projection only). */
  private async commit(events: RecordedEvent[]): Promise<CommittedBatch> {
    const committed = await this.commitBatch(events, this.readFrom, READ_MODELS_SUBSCRIPTION);
    this.readFrom = checkpointOf(events[events.length - 1]);
    this.advance(committed.checkpoint, events);
    return committed;
  }

  /**
   * Projects `events` with `subscriptionId`'s checkpoint in one transaction (into the shadow tables for the rebuild's).
   * When that fails for any reason but a moved checkpoint or a gap, the batch is retried isolated (stream by stream,
   * event by event in savepoints): an event that still fails deterministically is dead-lettered and the projection
   * moves on; a transient failure (the database away) is thrown for the subscription to retry the batch.
   */
  private async commitBatch(events: RecordedEvent[], readFrom: Checkpoint, subscriptionId: string): Promise<CommittedBatch> {
    const run = (isolate: boolean) =>
      this.db.transaction(async (tx) => {
        if (subscriptionId === REBUILD_SUBSCRIPTION) await useShadowReadModels(tx);
        return projectAndCheckpoint(tx, events, readFrom, subscriptionId, { isolate });
      });
    let committed: CommittedBatch;
    try {
      committed = await run(false);
    } catch (error) {
      if (error instanceof CheckpointMovedError || error instanceof ProjectionGapError) throw error;
      committed = await run(true);
    }
    const report = committed.report;
    if (report && report.unknown.length > 0) this.logger.warn(`skipped events of unknown types: ${report.unknown.slice(0, 5).join(', ')}`);
    for (const letter of report?.deadLetters ?? []) {
      this.deadLettered += 1;
      this.logger.error(`dead letter: ${letter.streamId}@${letter.revision} ${letter.type} (position ${letter.globalPosition}) could not be projected and was skipped: ${letter.error}`);
    }
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
