import { sessionIdOfStream, sessionStreamName } from '@runledger/domain';
import { SqlDatabase, SqlExecutor } from '../database/sql-database';
import { EventStore, RecordedEvent } from '../event-store/event-store.port';
import { lockProjection } from './projection-checkpoint';
import { projectBatch } from './read-model.projector';
import { ReadModels } from './read-models';

/** A session snapshot whose revision differs from its stream's head (invariant 8). */
export interface LaggingSnapshot {
  sessionId: string;
  snapshotRevision: number | null;
  streamRevision: number;
}

/** Every session stream's head revision (0-based), by session id: one pass over the store's session category. */
export const sessionHeads = async (store: EventStore): Promise<Map<string, number>> => {
  const heads = new Map<string, number>();
  for await (const head of store.readStreamsByCategory('session')) heads.set(sessionIdOfStream(head.streamId)!, head.revision);
  return heads;
};

/**
 * Session streams whose snapshot is missing or at another revision than the stream's head: the heads come from the
 * store (its port; `heads` when the caller has just read them, sessionHeads), the snapshot revisions from the read
 * model (ReadModels.sessionRevisions), compared here.
 */
export const findLaggingSnapshots = async (db: SqlExecutor, store: EventStore, heads?: ReadonlyMap<string, number>): Promise<LaggingSnapshot[]> => {
  const snapshots = new Map((await new ReadModels(db).sessionRevisions()).map((r) => [r.sessionId, r.revision]));
  const lagging: LaggingSnapshot[] = [];
  for (const [sessionId, streamRevision] of heads ?? (await sessionHeads(store))) {
    const snapshotRevision = snapshots.get(sessionId) ?? null;
    if (snapshotRevision !== streamRevision) lagging.push({ sessionId, snapshotRevision, streamRevision });
  }
  return lagging;
};

/**
 * Rebuilds one session's rows (snapshot, worktrees, tool calls, dead letters) from its whole stream, under the projection
 * lock so the live runner cannot interleave; returns the revision the snapshot now has.
 */
export const rebuildSessionSnapshot = async (db: SqlDatabase, store: EventStore, sessionId: string): Promise<number> => {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(sessionStreamName(sessionId))) events.push(event);
  await db.transaction(async (tx) => {
    await lockProjection(tx);
    for (const table of ['rl_rm_tool_calls', 'rl_rm_worktrees', 'rl_rm_sessions']) {
      await tx.query(`DELETE FROM ${table} WHERE session_id = $1`, [sessionId]);
    }
    await tx.query('DELETE FROM rl_rm_dead_letters WHERE stream_id = $1', [sessionStreamName(sessionId)]);
    // Isolated: an event it cannot project is dead-lettered again instead of failing the boot reconcile.
    if (events.length > 0) await projectBatch(tx, events, { isolate: true });
  });
  return events.length - 1;
};
