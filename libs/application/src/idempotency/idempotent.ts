import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@runledger/domain';
import { SqlDatabase } from '@runledger/infra/database';
import { IdempotencyStore, requestHash } from '@runledger/infra/idempotency';
import { SQL_DATABASE } from '@runledger/infra/tokens';

/** Keys longer than this are refused (400). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/**
 * Runs a command at most once per `Idempotency-Key` (invariant 3): a repeat returns the first result and appends
 * nothing; the same key with a different body is IDEMPOTENCY.KEY_REUSED (409); a repeat while the first is still
 * running is IDEMPOTENCY.IN_PROGRESS (409). A command that fails releases its key.
 */
@Injectable()
export class Idempotent {
  private readonly store: IdempotencyStore;

  constructor(@Inject(SQL_DATABASE) db: SqlDatabase) {
    this.store = new IdempotencyStore(db);
  }

  /** `run()` once for (scope, key); without a key it just runs. */
  async run<T>(scope: string, key: string | undefined, body: unknown, run: () => Promise<T>): Promise<{ result: T; replayed: boolean }> {
    if (key === undefined) return { result: await run(), replayed: false };
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      throw new DomainError('IDEMPOTENCY.INVALID_KEY', 'invalid', `Idempotency-Key must have 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`, {
        field: 'Idempotency-Key',
      });
    }
    const claim = await this.store.claim(scope, key, requestHash(body));
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
    try {
      const result = await run();
      await this.store.complete(scope, key, result);
      return { result, replayed: false };
    } catch (error) {
      await this.store.release(scope, key);
      throw error;
    }
  }
}
