import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DomainError } from '@runledger/domain';
import { SqlDatabase, storeUnavailable } from '@runledger/infra/database';
import { IdempotencyStore, requestHash } from '@runledger/infra/idempotency';
import { RedactionDoor } from '@runledger/infra/redaction/redaction-door';
import { SQL_DATABASE } from '@runledger/infra/tokens';

/** Keys longer than this are refused (400). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** How often an unsettled key (its completion or release failed: the database was away) is written again (ms). */
const SETTLE_RETRY_MS = 500;

/** What this process still owes the key table for a key: the first result to store, or the claim to release. */
type Unsettled = { kind: 'complete'; result: unknown } | { kind: 'release' };

/**
 * Runs a command at most once per `Idempotency-Key` (invariant 3): a repeat returns the first result and appends
 * nothing; the same key with a different body is IDEMPOTENCY.KEY_REUSED (409); a repeat while the first is still
 * running is IDEMPOTENCY.IN_PROGRESS (409). A command that fails releases its key.
 * When the database goes away between the command and the bookkeeping of its key, the process remembers what it owes
 * (the result, or the release) and writes it once the database is back; meanwhile a repeat in this process gets the
 * remembered result, or runs again once the stale claim is released, instead of a 409 for a request no longer running.
 * A key holding a configured secret or a token is refused (400) before it is stored anywhere (invariant 12).
 */
@Injectable()
export class Idempotent implements OnApplicationShutdown {
  private readonly logger = new Logger('Idempotency');
  private readonly store: IdempotencyStore;
  private readonly unsettled = new Map<string, { scope: string; key: string; owed: Unsettled }>();
  /** Keys whose command is running in this process. */
  private readonly running = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(@Inject(SQL_DATABASE) db: SqlDatabase, private readonly door: RedactionDoor) {
    this.store = new IdempotencyStore(db);
  }

  /** Nest hook: stops retrying what is unsettled (a stale claim is taken over after STALE_CLAIM_MS anyway). */
  onApplicationShutdown(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Keys this process still has to complete or release in the key table (0 when the database has been reachable). */
  unsettledCount(): number {
    return this.unsettled.size;
  }

  /** `run()` once for (scope, key); without a key it just runs. Throws DatabaseUnavailableError while the database is away. */
  async run<T>(scope: string, key: string | undefined, body: unknown, run: () => Promise<T>): Promise<{ result: T; replayed: boolean }> {
    if (key === undefined) return { result: await run(), replayed: false };
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      throw new DomainError('IDEMPOTENCY.INVALID_KEY', 'invalid', `Idempotency-Key must have 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`, {
        field: 'Idempotency-Key',
      });
    }
    this.door.assertNoSecret(key, 'Idempotency-Key');
    const id = JSON.stringify([scope, key]);
    const owed = this.unsettled.get(id);
    if (owed?.owed.kind === 'complete') return { result: owed.owed.result as T, replayed: true };
    if (owed && !this.running.has(id)) await this.settle(id); // a release still owed: write it first (throws while the database is away)
    let claim: Awaited<ReturnType<IdempotencyStore['claim']>>;
    try {
      claim = await this.store.claim(scope, key, requestHash(body));
    } catch (error) {
      // The claim may have committed before its connection dropped: release it once the database is back.
      if (!this.running.has(id)) this.owe(id, scope, key, { kind: 'release' }, error);
      throw error;
    }
    switch (claim.state) {
      case 'done':
        return { result: claim.response as T, replayed: true };
      case 'mismatch':
        throw new DomainError('IDEMPOTENCY.KEY_REUSED', 'conflict', 'this Idempotency-Key was used for a different request', {
          field: 'Idempotency-Key',
        });
      case 'in_progress':
        throw new DomainError('IDEMPOTENCY.IN_PROGRESS', 'conflict', 'a request with this Idempotency-Key is still running; retry later', {
          field: 'Idempotency-Key',
        });
    }
    this.running.add(id);
    let result: T;
    try {
      result = await run();
    } catch (error) {
      this.running.delete(id);
      await this.store.release(scope, key).catch((e: unknown) => this.owe(id, scope, key, { kind: 'release' }, e));
      throw error;
    }
    this.running.delete(id);
    await this.store.complete(scope, key, result).catch((e: unknown) => this.owe(id, scope, key, { kind: 'complete', result }, e));
    return { result, replayed: false };
  }

  /** Remembers what a key still needs when its write failed because the database is away; rethrows any other failure. */
  private owe(id: string, scope: string, key: string, owed: Unsettled, error: unknown): void {
    if (!storeUnavailable(error)) throw error;
    this.unsettled.set(id, { scope, key, owed });
    this.timer ??= setTimeout(() => void this.settleAll(), SETTLE_RETRY_MS);
  }

  /** Writes what `id` still owes; forgets it once written. Throws while the database is away. */
  private async settle(id: string): Promise<void> {
    const entry = this.unsettled.get(id);
    if (!entry) return;
    if (entry.owed.kind === 'complete') await this.store.complete(entry.scope, entry.key, entry.owed.result);
    else await this.store.release(entry.scope, entry.key);
    if (this.unsettled.get(id) === entry) this.unsettled.delete(id);
  }

  private async settleAll(): Promise<void> {
    for (const id of [...this.unsettled.keys()]) {
      if (this.running.has(id)) continue;
      await this.settle(id).catch((error: unknown) => {
        if (storeUnavailable(error)) return;
        this.unsettled.delete(id); // not the database being away: say so once, and leave the key to the stale-claim takeover
        this.logger.error(`could not settle Idempotency-Key ${id}: ${(error as Error).message}`);
      });
    }
    this.timer = this.unsettled.size > 0 ? setTimeout(() => void this.settleAll(), SETTLE_RETRY_MS) : null;
  }
}
