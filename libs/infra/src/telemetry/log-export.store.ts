import type { Migration } from '../database/migrations';
import type { SqlExecutor } from '../database/sql-database';
import { loadCheckpoint, saveCheckpoint } from '../event-store/checkpoint-store';
import type { Checkpoint } from '../event-store/event-store.port';

/** Subscription id of the OTLP span export in `rl_checkpoints` (its own checkpoint, apart from the read models'). */
export const LOG_EXPORT_SUBSCRIPTION = 'otel-spans';

/** Arbitrary but fixed advisory-lock key: one export commit at a time, whatever the process. */
const LOG_EXPORT_LOCK_KEY = 7_262_031_560;

/**
 * Schema 60: `rl_otel_traces`, the span export's state per session (the runs and calls it saw start and not yet end, the
 * agent and conversation id), committed with the export's checkpoint so a restart resumes with the starts it needs.
 */
export const logExportMigration: Migration = {
  version: 60,
  name: 'otel span export state',
  sql: `CREATE TABLE IF NOT EXISTS rl_otel_traces (
    session_id text PRIMARY KEY,
    state jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
};

/** Thrown when the export checkpoint is not where this exporter read its batch from (another exporter committed it): re-read from the stored one. */
export class LogExportCheckpointMovedError extends Error {
  readonly code = 'TELEMETRY.CHECKPOINT_MOVED';
  constructor(readonly readFrom: Checkpoint, readonly stored: Checkpoint) {
    super(`the span export checkpoint is at ${stored.transactionId}/${stored.globalPosition}, not at ${readFrom.transactionId}/${readFrom.globalPosition} where this exporter read its batch`);
  }
}

/** The stored export state of each of `sessionIds` that has one (JSON as stored). */
export const loadTraceStates = async (db: SqlExecutor, sessionIds: readonly string[]): Promise<Map<string, unknown>> => {
  if (sessionIds.length === 0) return new Map();
  const { rows } = await db.query<{ session_id: string; state: unknown }>('SELECT session_id, state FROM rl_otel_traces WHERE session_id = ANY($1::text[])', [sessionIds]);
  return new Map(rows.map((r) => [r.session_id, typeof r.state === 'string' ? JSON.parse(r.state) : r.state]));
};

/** The export checkpoint (START when it never exported). */
export const loadLogExportCheckpoint = (db: SqlExecutor): Promise<Checkpoint> => loadCheckpoint(db, LOG_EXPORT_SUBSCRIPTION);

/**
 * In the caller's transaction, after the batch's spans were taken by the receiver: lock, check the stored checkpoint is
 * still `readFrom` (else LogExportCheckpointMovedError, nothing written), store the changed sessions' states and the
 * new checkpoint together.
 */
export const commitLogExport = async (tx: SqlExecutor, readFrom: Checkpoint, checkpoint: Checkpoint, states: ReadonlyMap<string, unknown>): Promise<void> => {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [LOG_EXPORT_LOCK_KEY]);
  const stored = await loadCheckpoint(tx, LOG_EXPORT_SUBSCRIPTION);
  if (stored.transactionId !== readFrom.transactionId || stored.globalPosition !== readFrom.globalPosition) throw new LogExportCheckpointMovedError(readFrom, stored);
  if (states.size > 0) {
    const ids = [...states.keys()];
    await tx.query(
      `INSERT INTO rl_otel_traces (session_id, state, updated_at) SELECT id, st::jsonb, now() FROM unnest($1::text[], $2::text[]) AS t(id, st)
       ON CONFLICT (session_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
      [ids, ids.map((id) => JSON.stringify(states.get(id)))],
    );
  }
  await saveCheckpoint(tx, LOG_EXPORT_SUBSCRIPTION, checkpoint);
};
