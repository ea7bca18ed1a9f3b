import { createHmac, randomBytes } from 'node:crypto';
import type { UserRole } from '@runledger/domain';
import { SqlDatabase, toNumber } from '../database/sql-database';

/** Prefix of every personal token (`rlu1.` and 43 base64url characters); the admin token has no dot, a session credential starts `rls1.`. */
export const USER_TOKEN_PREFIX = 'rlu1.';

/** A person as the guard sees them: name, role and the `UserAdded` revision their live token belongs to. */
export interface TokenHolder {
  name: string;
  role: UserRole;
  revision: number;
}

/** A person as `GET /users` lists them (never a token or its hash). */
export interface UserRecord {
  name: string;
  role: UserRole;
  createdAt: string;
  revokedAt?: string;
  active: boolean;
}

interface Row {
  name: string;
  role: UserRole;
  revision: string | number;
  created_at: Date | string;
  revoked_at: Date | string | null;
  token_hash?: string | null;
}

const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();

/** Thrown when a later `UserAdded` already holds the row (a concurrent add won). */
export class StaleUserTokenError extends Error {}

/**
 * Personal tokens (docs/ARCHITECTURE.md §8) in `rl_users`, as keyed hashes: HMAC-SHA256 under a subkey of the secret
 * store's master key. A token is 256 random bits, so a slow hash (scrypt) would buy nothing against guessing while
 * costing milliseconds on every request; the key means a copy of the table alone cannot even test a guess, and a keyed
 * hash is deterministic, so a token is found by one indexed lookup. Where this process owns the store (PGlite) verified
 * tokens are kept in memory and dropped on revoke; on PostgreSQL, where another api process may revoke, every request
 * reads the row (one primary-key lookup), so a revocation anywhere holds at the next request everywhere.
 */
export class UserTokens {
  private readonly byHash = new Map<string, TokenHolder>();
  private readonly byName = new Map<string, TokenHolder>();
  private readonly cacheable: boolean;

  constructor(private readonly db: SqlDatabase, private readonly hashKey: Buffer) {
    this.cacheable = db.kind === 'pglite';
  }

  /** True when `credential` has the shape of a personal token (no lookup). */
  static isUserToken(credential: string): boolean {
    return credential.startsWith(USER_TOKEN_PREFIX);
  }

  /** The stored form of `token`: `hmac-sha256:<64 hex>` under the token-hash key. */
  hash(token: string): string {
    return `hmac-sha256:${createHmac('sha256', this.hashKey).update(token, 'utf8').digest('hex')}`;
  }

  /**
   * Mints a new token for `name` (its `UserAdded` at `revision`) and stores its hash, replacing a revoked one; returns
   * the token, which is not kept anywhere. Throws StaleUserTokenError when a later add already holds the row.
   */
  async issue(name: string, role: UserRole, revision: number, createdAt: string): Promise<string> {
    const token = `${USER_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const { rows } = await this.db.query<{ name: string }>(
      `INSERT INTO rl_users (name, role, token_hash, revision, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, NULL)
       ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, token_hash = EXCLUDED.token_hash, revision = EXCLUDED.revision,
         created_at = EXCLUDED.created_at, revoked_at = NULL
       WHERE rl_users.revision < EXCLUDED.revision
       RETURNING name`,
      [name, role, this.hash(token), revision, createdAt],
    );
    if (rows.length === 0) throw new StaleUserTokenError(`a later token of ${name} is already stored`);
    this.forget(name);
    return token;
  }

  /** Revokes `name`'s token (its hash is erased): the next request with it is 401, in every process. */
  async revoke(name: string, at: string): Promise<void> {
    await this.db.query('UPDATE rl_users SET token_hash = NULL, revoked_at = COALESCE(revoked_at, $2) WHERE name = $1', [name, at]);
    this.forget(name);
  }

  /** The holder of a live `token`, or null (unknown, revoked, or not a personal token). */
  async verify(token: string): Promise<TokenHolder | null> {
    if (!UserTokens.isUserToken(token)) return null;
    const hash = this.hash(token);
    const cached = this.cacheable ? this.byHash.get(hash) : undefined;
    if (cached !== undefined) return cached;
    const { rows } = await this.db.query<Row>('SELECT name, role, revision, created_at, revoked_at FROM rl_users WHERE token_hash = $1', [hash], { name: 'rl_user_by_token' });
    const holder = rows[0] ? { name: rows[0].name, role: rows[0].role, revision: toNumber(rows[0].revision) } : null;
    if (this.cacheable && holder) this.byHash.set(hash, holder);
    return holder;
  }

  /** The live holder named `name` (a login cookie names a person, not a token), or null once revoked. */
  async active(name: string): Promise<TokenHolder | null> {
    const cached = this.cacheable ? this.byName.get(name) : undefined;
    if (cached !== undefined) return cached;
    const { rows } = await this.db.query<Row>('SELECT name, role, revision, created_at, revoked_at FROM rl_users WHERE name = $1 AND token_hash IS NOT NULL', [name], { name: 'rl_user_by_name' });
    const holder = rows[0] ? { name: rows[0].name, role: rows[0].role, revision: toNumber(rows[0].revision) } : null;
    if (this.cacheable && holder) this.byName.set(name, holder);
    return holder;
  }

  /** Everyone ever added, by name: role, when added, when revoked. */
  async list(): Promise<UserRecord[]> {
    const { rows } = await this.db.query<Row>('SELECT name, role, revision, created_at, revoked_at, token_hash FROM rl_users ORDER BY name');
    return rows.map((row) => ({
      name: row.name,
      role: row.role,
      createdAt: iso(row.created_at),
      ...(row.revoked_at ? { revokedAt: iso(row.revoked_at) } : {}),
      active: row.token_hash !== null && row.token_hash !== undefined,
    }));
  }

  private forget(name: string): void {
    this.byName.delete(name);
    for (const [hash, holder] of this.byHash) if (holder.name === name) this.byHash.delete(hash);
  }
}
