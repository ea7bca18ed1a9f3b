import { PGlite, Transaction, parse, protocol } from '@electric-sql/pglite';
import * as path from 'node:path';
import { tighten } from '../files/private-files';
import { DataDirectoryLock } from './data-directory-lock';
import { QueryOptions, SqlDatabase, SqlExecutor, SqlResult } from './sql-database';

const wrap = (db: PGlite | Transaction): SqlExecutor => ({
  query: async <Row>(sql: string, params?: unknown[]): Promise<SqlResult<Row>> => {
    const result = await db.query<Row>(sql, params);
    return { rows: result.rows };
  },
});

/** One wire-protocol buffer of several messages (each serializer call returns its own message). */
const concat = (messages: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(messages.reduce((n, m) => n + m.length, 0));
  let at = 0;
  for (const m of messages) {
    out.set(m, at);
    at += m.length;
  }
  return out;
};

/** A statement prepared under its name on PGlite's backend: its text and the type oid of each parameter. */
interface PreparedStatement {
  sql: string;
  paramTypes: number[];
}

/**
 * The embedded store: PGlite (PostgreSQL in wasm) persisted in `<dataDir>/pgdata`, owned by exactly one
 * process through DataDirectoryLock. One backend: transactions are serialized; no cross-connection NOTIFY.
 */
export class PgliteDatabase implements SqlDatabase {
  readonly kind = 'pglite' as const;

  /** Statements prepared by name on the one backend (they live as long as it does). */
  private readonly prepared = new Map<string, PreparedStatement>();

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

  /**
   * Runs one statement. With `options.name` the statement is prepared once under that name (parsed, described and, after
   * a few runs, planned once, as `pg` does on a server) and each run is one round trip into the wasm backend (Bind,
   * Describe, Execute, Sync in one buffer) instead of PGlite's six; a name reused for another text runs unprepared.
   */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<SqlResult<Row>> {
    const prepared = options?.name ? this.prepared.get(options.name) : undefined;
    if (!options?.name || (prepared && prepared.sql !== sql)) return wrap(this.db).query<Row>(sql, params);
    return this.queryPrepared<Row>(options.name, sql, params ?? []);
  }

  private queryPrepared<Row>(name: string, sql: string, params: unknown[]): Promise<SqlResult<Row>> {
    const { serialize } = protocol;
    // The transaction lock keeps the statement out of a transaction another caller has open on the one backend, as
    // PGlite's own query() does; the query lock, out of any other protocol exchange.
    return this.db._runExclusiveTransaction(() =>
      this.db.runExclusive(async () => {
        let statement = this.prepared.get(name);
        if (!statement) {
          const described = await this.db.execProtocolStream(concat([serialize.parse({ name, text: sql }), serialize.describe({ type: 'S', name }), serialize.sync()]), { syncToFs: false });
          statement = { sql, paramTypes: parse.parseDescribeStatementResults(described) };
          this.prepared.set(name, statement);
        }
        const types = statement.paramTypes;
        const values = params.map((value, i) => {
          if (value === null || value === undefined) return null;
          const serializer = this.db.serializers[types[i]];
          return serializer ? serializer(value) : String(value);
        });
        // Sync in the same buffer: after an error the backend is back to idle (and the statement rolled back) when
        // execProtocolStream throws it.
        const messages = await this.db.execProtocolStream(
          concat([serialize.bind({ statement: name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]),
          { syncToFs: true },
        );
        return { rows: parse.parseResults(messages, this.db.parsers)[0].rows as Row[] };
      }),
    );
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
