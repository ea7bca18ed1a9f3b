import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { SqlExecutor } from '../database/sql-database';

/** A lease held: the resource, its owner and its expiry (ISO-8601). */
export interface Lease {
  resource: string;
  owner: string;
  expiresAt: string;
}

/**
 * Leases in PostgreSQL with the database's clock (no skew between workers): `acquire` wins only if the resource is
 * free, expired, or already ours; `renew` extends our own; `release` frees our own. Pass a transaction as `db` to take
 * a lease atomically with other writes (a subscriber's checkpoint).
 */
export class LeaseStore {
  /** Takes (or re-takes) `resource` for `ttlMs`; null when another owner holds an unexpired lease. */
  async acquire(db: SqlExecutor, resource: string, owner: string, ttlMs: number): Promise<Lease | null> {
    const { rows } = await db.query<{ resource: string; owner: string; expires_at: string }>(
      `INSERT INTO rl_leases (resource, owner, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3::double precision / 1000))
       ON CONFLICT (resource) DO UPDATE SET owner = EXCLUDED.owner, acquired_at = now(), expires_at = EXCLUDED.expires_at
         WHERE rl_leases.expires_at < now() OR rl_leases.owner = EXCLUDED.owner
       RETURNING resource, owner, expires_at::text`,
      [resource, owner, ttlMs],
    );
    return rows.length ? { resource: rows[0].resource, owner: rows[0].owner, expiresAt: rows[0].expires_at } : null;
  }

  /** Takes `resource` from `deadOwner` (a holder known to be gone), only if that owner still holds it; null otherwise. */
  async takeOver(db: SqlExecutor, resource: string, deadOwner: string, owner: string, ttlMs: number): Promise<Lease | null> {
    const { rows } = await db.query<{ resource: string; owner: string; expires_at: string }>(
      `UPDATE rl_leases SET owner = $3, acquired_at = now(), expires_at = now() + make_interval(secs => $4::double precision / 1000)
       WHERE resource = $1 AND owner = $2 RETURNING resource, owner, expires_at::text`,
      [resource, deadOwner, owner, ttlMs],
    );
    return rows.length ? { resource: rows[0].resource, owner: rows[0].owner, expiresAt: rows[0].expires_at } : null;
  }

  /** Extends our lease; false if it is no longer ours (expired and taken over). */
  async renew(db: SqlExecutor, resource: string, owner: string, ttlMs: number): Promise<boolean> {
    const { rows } = await db.query(
      `UPDATE rl_leases SET expires_at = now() + make_interval(secs => $3::double precision / 1000)
       WHERE resource = $1 AND owner = $2 RETURNING resource`,
      [resource, owner, ttlMs],
    );
    return rows.length === 1;
  }

  /** Frees our lease (no-op if not ours). */
  async release(db: SqlExecutor, resource: string, owner: string): Promise<void> {
    await db.query('DELETE FROM rl_leases WHERE resource = $1 AND owner = $2', [resource, owner]);
  }

  /** Frees every lease of `owner` (graceful shutdown). */
  async releaseAll(db: SqlExecutor, owner: string): Promise<number> {
    const { rows } = await db.query('DELETE FROM rl_leases WHERE owner = $1 RETURNING resource', [owner]);
    return rows.length;
  }

  /** The current holder of `resource` if its lease has not expired. */
  async holder(db: SqlExecutor, resource: string): Promise<Lease | null> {
    const { rows } = await db.query<{ resource: string; owner: string; expires_at: string }>(
      'SELECT resource, owner, expires_at::text FROM rl_leases WHERE resource = $1 AND expires_at >= now()',
      [resource],
    );
    return rows.length ? { resource: rows[0].resource, owner: rows[0].owner, expiresAt: rows[0].expires_at } : null;
  }
}

/** The lease resource of one managed tool-call attempt. */
export const toolCallLease = (sessionId: string, callId: string, attempt: number): string => `tool-call:${sessionId}:${callId}:${attempt}`;

/** The lease resource of one worktree's removal (the janitor's retries and an orchestrator's retirement share it). */
export const worktreeLease = (sessionId: string, repo: string): string => `worktree:${sessionId}:${repo}`;


/** Identity of this process as a lease owner: `host:pid:suffix`, so a reconciler can tell a dead owner at once. */
export const processOwnerId = (): string => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/** True when a lease owner id (`host:pid:suffix`) names a live process on this host, or another host (trusted until expiry). */
export const ownerAlive = (owner: string): boolean => {
  const [host, pid] = owner.split(':');
  if (host !== hostname()) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Lease time-to-live of one session's reconcile (ms). */
export const RECONCILE_LEASE_TTL_MS = 60_000;

/** The lease resource of one session's reconcile: whoever holds it is the only one reconciling that session. */
export const reconcileLease = (sessionId: string): string => `reconcile:${sessionId}`;

/** Takes `resource` for `owner`, or takes it over at once from a holder that is a dead process on this host; false when a live owner holds it. */
export const acquireOrTakeOver = async (leases: LeaseStore, db: SqlExecutor, resource: string, owner: string, ttlMs: number): Promise<boolean> => {
  if (await leases.acquire(db, resource, owner, ttlMs)) return true;
  const holder = await leases.holder(db, resource);
  if (!holder) return (await leases.acquire(db, resource, owner, ttlMs)) !== null;
  if (ownerAlive(holder.owner)) return false;
  return (await leases.takeOver(db, resource, holder.owner, owner, ttlMs)) !== null;
};
