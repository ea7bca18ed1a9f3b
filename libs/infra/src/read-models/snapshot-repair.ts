import { sessionIdOfStream, sessionStreamName } from '@runledger/domain';
import { SqlDatabase, toNumber } from '../database/sql-database';
import { EventStore, RecordedEvent } from '../event-store/event-store.port';
import { lockProjection } from './projection-checkpoint';
import { projectBatch } from './read-model.projector';

/** A session snapshot whose revision differs from its stream's head (invariant 8). */
export interface LaggingSnapshot {
  sessionId: string;
  snapshotRevision: number | null;
  streamRevision: number;
}

/** Session streams whose snapshot is missing or at another revision than the stream's head, in one query. */
export const findLaggingSnapshots = async (db: SqlDatabase): Promise<LaggingSnapshot[]> => {
  const { rows } = await db.query<{ stream_id: string; snapshot: string | number | null; head: string | number }>(
    `SELECT s.stream_id, r.revision AS snapshot, s.revision AS head
     FROM rl_streams s LEFT JOIN rl_rm_sessions r ON r.session_id = substr(s.stream_id, 9)
     WHERE s.stream_id LIKE 'session-%' AND (r.revision IS NULL OR r.revision <> s.revision)`,
  );
  return rows.map((r) => ({
    sessionId: sessionIdOfStream(r.stream_id)!,
    snapshotRevision: r.snapshot === null ? null : toNumber(r.snapshot),
    streamRevision: toNumber(r.head),
  }));
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
    await tx.query('DELETE FROM rl_rm_dead_letters WHERE stream_id = $1', [`session-${sessionId}`]);
    // Isolated: an event it cannot project is dead-lettered again instead of failing the boot reconcile.
    if (events.length > 0) await projectBatch(tx, events, { isolate: true });
  });
  return events.length - 1;
};
