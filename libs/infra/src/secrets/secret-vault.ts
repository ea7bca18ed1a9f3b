import type { SqlDatabase } from '../database/sql-database';
import { SecretCipher, SecretDecryptError } from './secret-cipher';

/** Name → fingerprint of a project's env, as its events carry it (never the values). */
export type EnvFingerprints = Record<string, string>;

/** Thrown when the store holds values sealed under another master key than this process's. */
export class SecretKeyMismatchError extends Error {}

interface Row {
  project_id: string;
  name: string;
  fingerprint: string;
  key_id: string;
  sealed: string;
}

const context = (projectId: string, name: string): string => `project-env\u0000${projectId}\u0000${name}`;
const entry = (projectId: string, name: string, fingerprint: string): string => `${projectId}\u0000${name}\u0000${fingerprint}`;

/**
 * Project env values sealed at rest in `rl_project_secrets` (docs/ARCHITECTURE.md §4c): `seal` stores values and returns
 * their fingerprints for the log, `open` reads the values of the fingerprints a project's log names, `forget` deletes
 * rows for good (crypto-shredding: what is deleted cannot be opened again, and the log is untouched). The values this
 * process knows are kept in memory for redaction (`knownValues`, `generation` bumps on every change).
 */
export class SecretVault {
  private readonly known = new Map<string, string>();
  private version = 0;

  constructor(private readonly db: SqlDatabase, readonly cipher: SecretCipher) {}

  /** Bumped whenever `knownValues` changes (a cache of a redactor compares it). */
  get generation(): number {
    return this.version;
  }

  /** The env values this process knows (sealed or opened here, or loaded), for redaction. */
  knownValues(): string[] {
    return [...new Set(this.known.values())];
  }

  /** The fingerprint of `value` under this store's key. */
  fingerprint(value: string): string {
    return this.cipher.fingerprint(value);
  }

  /** Seals each value of `env` for `projectId` (a row already holding the same value is kept) and returns name → fingerprint. */
  async seal(projectId: string, env: Readonly<Record<string, string>>): Promise<EnvFingerprints> {
    const fingerprints: EnvFingerprints = {};
    for (const [name, value] of Object.entries(env)) {
      const fingerprint = this.cipher.fingerprint(value);
      await this.db.query(
        `INSERT INTO rl_project_secrets (project_id, name, fingerprint, key_id, sealed) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (project_id, name, fingerprint) DO NOTHING`,
        [projectId, name, fingerprint, this.cipher.keyId, this.cipher.seal(value, context(projectId, name))],
      );
      fingerprints[name] = fingerprint;
      this.remember(projectId, name, fingerprint, value);
    }
    return fingerprints;
  }

  /**
   * The values of `fingerprints` (name → fingerprint from the log) for `projectId`; a name whose row is gone (forgotten)
   * is absent from the result. Throws SecretKeyMismatchError when a row was sealed under another key.
   */
  async open(projectId: string, fingerprints: Readonly<EnvFingerprints>): Promise<Record<string, string>> {
    const names = Object.keys(fingerprints);
    if (names.length === 0) return {};
    const { rows } = await this.db.query<Row>(
      'SELECT project_id, name, fingerprint, key_id, sealed FROM rl_project_secrets WHERE project_id = $1 AND name = ANY($2::text[])',
      [projectId, names],
    );
    const values: Record<string, string> = {};
    for (const row of rows) {
      if (fingerprints[row.name] !== row.fingerprint) continue;
      values[row.name] = this.openRow(row);
    }
    return values;
  }

  /** Deletes the sealed values of `names` (every name when undefined) of `projectId`; returns how many rows went. */
  async forget(projectId: string, names?: readonly string[]): Promise<number> {
    const { rows } = names === undefined
      ? await this.db.query<{ name: string; fingerprint: string }>('DELETE FROM rl_project_secrets WHERE project_id = $1 RETURNING name, fingerprint', [projectId])
      : await this.db.query<{ name: string; fingerprint: string }>(
        'DELETE FROM rl_project_secrets WHERE project_id = $1 AND name = ANY($2::text[]) RETURNING name, fingerprint',
        [projectId, [...names]],
      );
    for (const row of rows) this.known.delete(entry(projectId, row.name, row.fingerprint));
    if (rows.length > 0) {
      this.version += 1;
      // Dead row versions still hold the ciphertext until vacuumed; reclaim them now rather than at autovacuum's leisure.
      await this.db.query('VACUUM rl_project_secrets').catch(() => undefined);
    }
    return rows.length;
  }

  /**
   * Reads every stored value into memory (for redaction): at start, and again to see what other processes sealed or
   * forgot. Throws SecretKeyMismatchError when a row was sealed under another key (the process must not start).
   */
  async load(): Promise<void> {
    const { rows } = await this.db.query<Row>('SELECT project_id, name, fingerprint, key_id, sealed FROM rl_project_secrets');
    const present = new Set<string>();
    for (const row of rows) {
      const id = entry(row.project_id, row.name, row.fingerprint);
      present.add(id);
      if (!this.known.has(id)) this.remember(row.project_id, row.name, row.fingerprint, this.openRow(row));
    }
    for (const id of [...this.known.keys()]) {
      if (present.has(id)) continue;
      this.known.delete(id);
      this.version += 1;
    }
  }

  private openRow(row: Row): string {
    if (row.key_id !== this.cipher.keyId) {
      throw new SecretKeyMismatchError(
        `the secret store holds ${row.project_id}/${row.name} sealed under key ${row.key_id}, but this process has key ${this.cipher.keyId}: ` +
          'set RUNLEDGER_SECRET_KEY (or <data dir>/secrets/secret.key) to the key the values were stored with',
      );
    }
    try {
      const value = this.cipher.open(row.sealed, context(row.project_id, row.name));
      this.remember(row.project_id, row.name, row.fingerprint, value);
      return value;
    } catch (error) {
      if (error instanceof SecretDecryptError) throw new SecretDecryptError(`${row.project_id}/${row.name}: ${error.message}`);
      throw error;
    }
  }

  private remember(projectId: string, name: string, fingerprint: string, value: string): void {
    const id = entry(projectId, name, fingerprint);
    if (this.known.get(id) === value) return;
    this.known.set(id, value);
    this.version += 1;
  }
}
