import { SqlExecutor } from '../database/sql-database';
import { Checkpoint, START } from './event-store.port';

/** Loads a subscriber's stored checkpoint, or START when it has none. */
export const loadCheckpoint = async (db: SqlExecutor, subscriptionId: string): Promise<Checkpoint> => {
  const { rows } = await db.query<{ transaction_id: string; global_position: string | number }>(
    'SELECT transaction_id::text AS transaction_id, global_position FROM rl_checkpoints WHERE subscription_id = $1',
    [subscriptionId],
  );
  return rows.length === 0 ? START : { transactionId: rows[0].transaction_id, globalPosition: Number(rows[0].global_position) };
};

/** Stores a checkpoint; call it with the same transaction as the consumer's own writes (exactly-once effects). */
export const saveCheckpoint = async (tx: SqlExecutor, subscriptionId: string, checkpoint: Checkpoint): Promise<void> => {
  await tx.query(
    `INSERT INTO rl_checkpoints (subscription_id, transaction_id, global_position, updated_at) VALUES ($1, $2::xid8, $3, now())
     ON CONFLICT (subscription_id) DO UPDATE SET transaction_id = EXCLUDED.transaction_id,
       global_position = EXCLUDED.global_position, updated_at = now()`,
    [subscriptionId, checkpoint.transactionId, checkpoint.globalPosition],
  );
};

/** Removes a subscriber's checkpoint (a projection rebuild starts again from START). */
export const resetCheckpoint = async (tx: SqlExecutor, subscriptionId: string): Promise<void> => {
  await tx.query('DELETE FROM rl_checkpoints WHERE subscription_id = $1', [subscriptionId]);
};
