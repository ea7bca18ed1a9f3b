import { PGlite, Transaction } from '@electric-sql/pglite';
import * as path from 'node:path';
import { tighten } from '../files/private-files';
import { DataDirectoryLock } from './data-directory-lock';
import { SqlDatabase, SqlExecutor, SqlResult } from './sql-database';

const wrap = (db: PGlite | Transaction): SqlExecutor => ({
  query: async <Row>(sql: string, params?: unknown[]): Promise<SqlResult<Row>> => {
    const result = await db.query<Row>(sql, params);
    return { rows: result.rows };
  },
});

/**
 * The embedded store: PGlite (PostgreSQL in wasm) persisted in `<dataDir>/pgdata`, owned by exactly one
 * process through DataDirectoryLock. One backend: transactions are serialized; no cross-connection NOTIFY.
 */
export class PgliteDatabase implements SqlDatabase {
  readonly kind = 'pglite' as const;

  private constructor(private readonly db: PGlite, private readonly lock: DataDirectoryLock, readonly dataDir: string) {}

  /** Locks the data directory (throws DataDirectoryLockedError if owned), opens PGlite in it and makes its files owner-only. */
  static async open(dataDir: string): Promise<PgliteDatabase> {
    const absolute = path.resolve(dataDir);
    const lock = new DataDirectoryLock(absolute);
    lock.acquire();
    try {
      const db = await PGlite.create(path.join(absolute, 'pgdata'));
      tighten(path.join(absolute, 'pgdata')); // PGlite writes 0666 files whatever the umask (docs/ARCHITECTURE.md §4c)
      return new PgliteDatabase(db, lock, absolute);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** An in-memory PGlite (tests and benchmarks that need no persistence); no lock. */
  static async inMemory(): Promise<PgliteDatabase> {
    const db = await PGlite.create();
    return new PgliteDatabase(db, { acquire: () => undefined, release: () => undefined } as unknown as DataDirectoryLock, ':memory:');
  }

  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<Row>> {
    return wrap(this.db).query<Row>(sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(wrap(tx)));
  }

  async close(): Promise<void> {
    try {
      await this.db.close();
      if (this.dataDir !== ':memory:') tighten(path.join(this.dataDir, 'pgdata'));
    } finally {
      this.lock.release();
    }
  }
}
