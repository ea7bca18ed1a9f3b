import { createHash } from 'node:crypto';
import { SqlDatabase } from '../database/sql-database';

/** What a key's first use left: nothing yet (this caller proceeds), a finished response, or a request still running. */
export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'done'; response: unknown }
  | { state: 'in_progress' }
  | { state: 'mismatch' };

/** An in-progress claim older than this (ms) is taken over: its owner crashed before finishing. */
export const STALE_CLAIM_MS = 120_000;

/** Hash of a request body, so a key reused for a different request is detected. */
export const requestHash = (body: unknown): string => createHash('sha256').update(JSON.stringify(body ?? null)).digest('hex');

/**
 * Idempotency keys in PostgreSQL (invariant 3). `claim` inserts the key (or finds it); `complete` stores the
 * response; `release` forgets a claim whose command failed, so the client may retry with the same key.
 */
export class IdempotencyStore {
  constructor(private readonly db: SqlDatabase) {}

  /** Claims `key` in `scope` for a request with hash `hash`. */
  async claim(scope: string, key: string, hash: string): Promise<IdempotencyClaim> {
    const inserted = await this.db.query<{ key: string }>(
      `INSERT INTO rl_idempotency_keys (scope, key, request_hash, status) VALUES ($1, $2, $3, 'in_progress')
       ON CONFLICT (scope, key) DO NOTHING RETURNING key`,
      [scope, key, hash],
    );
    if (inserted.rows.length === 1) return { state: 'claimed' };
    const { rows } = await this.db.query<{ request_hash: string; status: string; response: unknown; age_ms: string | number }>(
      `SELECT request_hash, status, response, (extract(epoch FROM now() - updated_at) * 1000)::bigint AS age_ms
       FROM rl_idempotency_keys WHERE scope = $1 AND key = $2`,
      [scope, key],
    );
    const row = rows[0];
    if (!row) return this.claim(scope, key, hash); // released in between
    if (row.request_hash !== hash) return { state: 'mismatch' };
    if (row.status === 'done') return { state: 'done', response: row.response };
    if (Number(row.age_ms) > STALE_CLAIM_MS) {
      const taken = await this.db.query(
        `UPDATE rl_idempotency_keys SET updated_at = now() WHERE scope = $1 AND key = $2 AND status = 'in_progress'
         AND updated_at < now() - make_interval(secs => $3::double precision / 1000) RETURNING key`,
        [scope, key, STALE_CLAIM_MS],
      );
      if (taken.rows.length === 1) return { state: 'claimed' };
    }
    return { state: 'in_progress' };
  }

  /** Stores the response of a claimed key. */
  async complete(scope: string, key: string, response: unknown): Promise<void> {
    await this.db.query(`UPDATE rl_idempotency_keys SET status = 'done', response = $3::jsonb, updated_at = now() WHERE scope = $1 AND key = $2`, [
      scope,
      key,
      JSON.stringify(response),
    ]);
  }

  /** Forgets a claim (its command failed): the same key can be used again. */
  async release(scope: string, key: string): Promise<void> {
    await this.db.query(`DELETE FROM rl_idempotency_keys WHERE scope = $1 AND key = $2 AND status = 'in_progress'`, [scope, key]);
  }
}
