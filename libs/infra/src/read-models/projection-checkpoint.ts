import { SqlExecutor } from '../database/sql-database';
import { loadCheckpoint, resetCheckpoint, saveCheckpoint } from '../event-store/checkpoint-store';
import { Checkpoint, RecordedEvent, START } from '../event-store/event-store.port';
import { DeadLetter, ProjectBatchOptions, projectBatch, ProjectionReport } from './read-model.projector';
import { READ_MODEL_TABLES } from './read-models.schema';

/** Subscription id of the read-model projection in `rl_checkpoints`. */
export const READ_MODELS_SUBSCRIPTION = 'read-models';

/** Arbitrary but fixed advisory-lock key: serializes read-model writers across processes (several workers, one database). */
export const PROJECTION_LOCK_KEY = 7_262_031_502;

/** Orders two points of the global log by (transaction id, position), the order readers deliver in (invariant 9): <0, 0 or >0. */
export const compareCheckpoints = (a: Checkpoint, b: Checkpoint): number => {
  const ta = BigInt(a.transactionId);
  const tb = BigInt(b.transactionId);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.globalPosition - b.globalPosition;
};

/** The checkpoint that covers `event` (its transaction id and global position). */
export const checkpointOf = (event: RecordedEvent): Checkpoint => ({ transactionId: event.transactionId, globalPosition: event.globalPosition });

/** Thrown when the stored checkpoint is behind the point this reader continued from: someone reset it (a rebuild elsewhere); re-read from it. */
export class CheckpointMovedError extends Error {
  readonly code = 'PROJECTION.CHECKPOINT_MOVED';
  constructor(readonly subscriptionId: string, readonly readFrom: Checkpoint, readonly stored: Checkpoint) {
    super(
      `checkpoint ${subscriptionId} moved back to ${stored.transactionId}/${stored.globalPosition} while this reader was at ` +
        `${readFrom.transactionId}/${readFrom.globalPosition}; resubscribing from the stored checkpoint`,
    );
  }
}

/** Outcome of projectAndCheckpoint: the checkpoint now committed and what the projector did (null when every event was already covered). */
export interface CommittedBatch {
  checkpoint: Checkpoint;
  report: ProjectionReport | null;
}

/** Takes the projection's transaction-scoped advisory lock: one read-model writer at a time, whatever the process. */
export const lockProjection = async (tx: SqlExecutor): Promise<void> => {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [PROJECTION_LOCK_KEY]);
};

/**
 * lockProjection, and the transaction commits without waiting for its WAL flush (`synchronous_commit = off`, this
 * transaction only): read-model rows and their checkpoint commit together, so a crash loses at most the last batches
 * whole and the projection re-reads them from the log (invariant 8); an append's commit never queues behind this flush.
 */
const lockProjectionAsyncCommit = async (tx: SqlExecutor): Promise<void> => {
  await tx.query(`SELECT pg_advisory_xact_lock($1), set_config('synchronous_commit', 'off', true)`, [PROJECTION_LOCK_KEY]);
};

/**
 * In the caller's transaction: lock (its commit does not wait for the WAL flush: lockProjectionAsyncCommit), re-read the stored checkpoint, fold only the events past it (another worker may
 * have done the rest) and store the new checkpoint with the rows, so rows and checkpoint commit together (exactly-once
 * effect). `readFrom` is where the caller read this batch from; throws CheckpointMovedError if the stored checkpoint is
 * behind it (reset by a rebuild), ProjectionGapError from the projector.
 */
export const projectAndCheckpoint = async (
  tx: SqlExecutor,
  events: readonly RecordedEvent[],
  readFrom: Checkpoint,
  subscriptionId = READ_MODELS_SUBSCRIPTION,
  options: ProjectBatchOptions = {},
): Promise<CommittedBatch> => {
  await lockProjectionAsyncCommit(tx);
  const stored = await loadCheckpoint(tx, subscriptionId);
  if (compareCheckpoints(readFrom, stored) > 0) throw new CheckpointMovedError(subscriptionId, readFrom, stored);
  const fresh = events.filter((event) => compareCheckpoints(checkpointOf(event), stored) > 0);
  if (fresh.length === 0) return { checkpoint: stored, report: null };
  const report = await projectBatch(tx, fresh, options);
  const checkpoint = checkpointOf(fresh[fresh.length - 1]);
  await saveCheckpoint(tx, subscriptionId, checkpoint);
  return { checkpoint, report };
};

/** Empties every rl_rm_* table and resets the projection's checkpoint to START, in the caller's transaction (tests, and a start from scratch). */
export const truncateReadModels = async (tx: SqlExecutor, subscriptionId = READ_MODELS_SUBSCRIPTION): Promise<void> => {
  await lockProjection(tx);
  await tx.query(`TRUNCATE ${READ_MODEL_TABLES.join(', ')}`);
  await resetCheckpoint(tx, subscriptionId);
};

/** Subscription id of a rebuild's checkpoint in `rl_checkpoints` while it builds into the shadow tables. */
export const REBUILD_SUBSCRIPTION = 'read-models-rebuild';
/** Schema holding the shadow copies of the rl_rm_* tables while a rebuild runs (dropped after the swap or a failure). */
export const REBUILD_SCHEMA = 'rl_rebuild';

/**
 * First step of a rebuild, in the caller's transaction: empty shadow copies of every rl_rm_* table (same columns,
 * keys and indexes) in schema rl_rebuild, replacing any a failed rebuild left, and no rebuild checkpoint.
 */
export const prepareShadowReadModels = async (tx: SqlExecutor): Promise<void> => {
  await tx.query(`DROP SCHEMA IF EXISTS ${REBUILD_SCHEMA} CASCADE`);
  await tx.query(`CREATE SCHEMA ${REBUILD_SCHEMA}`);
  for (const table of READ_MODEL_TABLES) await tx.query(`CREATE TABLE ${REBUILD_SCHEMA}.${table} (LIKE ${table} INCLUDING ALL)`);
  await resetCheckpoint(tx, REBUILD_SUBSCRIPTION);
};

/**
 * Until the caller's transaction ends, the unqualified rl_rm_* names the projector writes resolve to the shadow
 * tables (search_path puts rl_rebuild first; the event store's tables and rl_checkpoints are found behind it).
 */
export const useShadowReadModels = async (tx: SqlExecutor): Promise<void> => {
  await tx.query(`SELECT set_config('search_path', '${REBUILD_SCHEMA}, ' || current_setting('search_path'), true)`);
};

/**
 * Last step of a rebuild, ONE transaction under the projection lock: the live rl_rm_* tables take the shadow tables'
 * rows, the live checkpoint takes the rebuild's, the shadow schema is dropped. Readers see the old read models until
 * it commits, then the new ones; nothing in between. Returns the checkpoint the read models now hold.
 */
export const swapInShadowReadModels = async (tx: SqlExecutor): Promise<Checkpoint> => {
  await lockProjection(tx);
  const rebuilt = await loadCheckpoint(tx, REBUILD_SUBSCRIPTION);
  await tx.query(`TRUNCATE ${READ_MODEL_TABLES.join(', ')}`);
  for (const table of READ_MODEL_TABLES) await tx.query(`INSERT INTO ${table} SELECT * FROM ${REBUILD_SCHEMA}.${table}`);
  if (rebuilt.globalPosition === START.globalPosition && rebuilt.transactionId === START.transactionId) await resetCheckpoint(tx, READ_MODELS_SUBSCRIPTION);
  else await saveCheckpoint(tx, READ_MODELS_SUBSCRIPTION, rebuilt);
  await resetCheckpoint(tx, REBUILD_SUBSCRIPTION);
  await tx.query(`DROP SCHEMA ${REBUILD_SCHEMA} CASCADE`);
  return rebuilt;
};

/** Drops what a failed or abandoned rebuild left (shadow schema, rebuild checkpoint); the live read models are untouched. */
export const dropShadowReadModels = async (tx: SqlExecutor): Promise<void> => {
  await tx.query(`DROP SCHEMA IF EXISTS ${REBUILD_SCHEMA} CASCADE`);
  await resetCheckpoint(tx, REBUILD_SUBSCRIPTION);
};

/** Every dead letter of the read-model projection, in log order (`limit` first ones), and how many there are. */
export const listDeadLetters = async (db: SqlExecutor, limit = 100): Promise<{ count: number; deadLetters: DeadLetter[] }> => {
  const { rows } = await db.query<{ stream_id: string; revision: string | number; global_position: string | number; event_type: string; error: string }>(
    'SELECT stream_id, revision, global_position, event_type, error FROM rl_rm_dead_letters ORDER BY global_position LIMIT $1',
    [limit],
  );
  const { rows: counted } = await db.query<{ n: string | number }>('SELECT count(*) AS n FROM rl_rm_dead_letters');
  return {
    count: Number(counted[0].n),
    deadLetters: rows.map((r) => ({
      streamId: r.stream_id, revision: Number(r.revision), globalPosition: Number(r.global_position), type: r.event_type, error: r.error,
    })),
  };
};
