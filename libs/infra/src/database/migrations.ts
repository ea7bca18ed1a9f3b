import { SqlDatabase } from './sql-database';

/** One versioned schema change; `sql` runs once, inside the migration transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Arbitrary but fixed key of the advisory lock that serializes migrators across processes. */
const MIGRATION_LOCK_KEY = 7_262_031_501;

/** Result of a migration run: which versions this call applied (empty when already up to date). */
export interface MigrationReport {
  applied: number[];
  current: number;
}

/**
 * Applies the migrations not yet recorded in `rl_schema_migrations`, in version order, in one transaction
 * that holds an advisory lock: safe to run twice and from two processes at once.
 * Throws if `migrations` has duplicate or non-increasing versions.
 */
export const migrate = async (db: SqlDatabase, migrations: readonly Migration[]): Promise<MigrationReport> => {
  migrations.forEach((m, i) => {
    if (i > 0 && m.version <= migrations[i - 1].version) throw new Error(`migration versions must increase: ${m.version}`);
  });
  return db.transaction(async (tx) => {
    // Taken before CREATE TABLE IF NOT EXISTS: two first-time migrators would otherwise race on the catalog.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS rl_schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM rl_schema_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query('INSERT INTO rl_schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    const current = Math.max(0, ...done, ...applied);
    return { applied, current };
  });
};

/** Splits a migration on lines holding only `--;` (plpgsql bodies contain semicolons, so `;` alone cannot split). */
const splitStatements = (sql: string): string[] =>
  sql
    .split(/^--;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
