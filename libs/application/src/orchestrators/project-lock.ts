import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@runledger/domain';
import { SqlDatabase } from '@runledger/infra/database';
import { ownerAlive, LeaseStore, processOwnerId } from '@runledger/infra/leases';
import { SQL_DATABASE } from '@runledger/infra/tokens';

/** Lease time-to-live of a project's orchestrator lock (ms); renewed every third of it while held. */
export const PROJECT_LOCK_TTL_MS = 30_000;
/** How long a caller waits for a project's orchestrator lock before a 409 ORCHESTRATOR.BUSY (ms). */
export const PROJECT_LOCK_WAIT_MS = 120_000;
/** Poll interval while waiting for the lock (ms). */
const POLL_MS = 50;

/**
 * The per-project orchestrator lock (invariant 11): a lease row in the database, so it holds across calls, api
 * processes and restarts on PostgreSQL and on the embedded store alike (advisory locks never contend on PGlite's one
 * backend). Every holder is its own owner (`host:pid:suffix`); a holder that is a dead process on this host is taken
 * over at once, one on another host when its lease expires. Held leases are renewed until released.
 */
@Injectable()
export class ProjectLock {
  private readonly leases = new LeaseStore();

  constructor(@Inject(SQL_DATABASE) private readonly db: SqlDatabase) {}

  /** Runs `work` holding the project's orchestrator lock; throws DomainError ORCHESTRATOR.BUSY (409) after PROJECT_LOCK_WAIT_MS. */
  withLock<T>(projectId: string, work: () => Promise<T>, waitMs = PROJECT_LOCK_WAIT_MS): Promise<T> {
    return this.withLease(`orchestrator:${projectId}`, work, waitMs);
  }

  /** Runs `work` holding the lease on `resource` (e.g. a session's reconcile lease), waiting for it as withLock does. */
  async withLease<T>(resource: string, work: () => Promise<T>, waitMs = PROJECT_LOCK_WAIT_MS): Promise<T> {
    const owner = processOwnerId();
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (await this.leases.acquire(this.db, resource, owner, PROJECT_LOCK_TTL_MS)) break;
      const holder = await this.leases.holder(this.db, resource);
      if (holder && !ownerAlive(holder.owner) && (await this.leases.takeOver(this.db, resource, holder.owner, owner, PROJECT_LOCK_TTL_MS))) break;
      if (Date.now() > deadline) {
        throw new DomainError('ORCHESTRATOR.BUSY', 'conflict', `another call holds ${resource}; try again`, { resource, holder: holder?.owner });
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const renewal = setInterval(() => void this.leases.renew(this.db, resource, owner, PROJECT_LOCK_TTL_MS).catch(() => undefined), PROJECT_LOCK_TTL_MS / 3);
    renewal.unref();
    try {
      return await work();
    } finally {
      clearInterval(renewal);
      await this.leases.release(this.db, resource, owner).catch(() => undefined);
    }
  }
}
