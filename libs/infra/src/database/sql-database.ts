/** One SQL round trip's result: rows as plain objects (column name → value). */
export interface SqlResult<Row> {
  rows: Row[];
}

/** Per-query options: `name` of a prepared statement (on PostgreSQL through `pg`, on PGlite by PgliteDatabase). */
export interface QueryOptions {
  name?: string;
}

/** Something that runs parameterized SQL ($1, $2 …): a pool, a client inside a transaction, or PGlite. */
export interface SqlExecutor {
  /**
   * Runs one statement with positional parameters; rejects with the driver's error (SQLSTATE in `code`).
   * `options.name` makes it a named prepared statement on PostgreSQL (parsed and planned once per connection).
   */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<SqlResult<Row>>;
}

/** Which engine sits behind a SqlDatabase; reported by `GET /health` as `store`. */
export type DatabaseKind = 'postgres' | 'pglite';

/** A database handle shared by the event store and the read models (docs/ARCHITECTURE.md §1: same database by default). */
export interface SqlDatabase extends SqlExecutor {
  readonly kind: DatabaseKind;
  /** Runs several statements separated by `;` with no parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs `fn` in one transaction: COMMIT when it resolves, ROLLBACK and rethrow when it rejects. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a NOTIFY channel across connections; resolves to an unsubscribe function.
   * Undefined where notifications do not cross connections (PGlite: docs/ARCHITECTURE.md §7), so callers poll.
   * `onNotify` gets the NOTIFY's payload, or no payload when the connection came back (anything may have been missed).
   */
  listen?(channel: string, onNotify: (payload?: string) => void): Promise<() => Promise<void>>;
  /** Closes every connection (and, for PGlite, releases the data directory). */
  close(): Promise<void>;
}

/** PostgreSQL returns int8 as a string through `pg` and as a number through PGlite: this reads either as a number. */
export const toNumber = (value: unknown): number => {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new TypeError(`expected a safe integer from the database, got ${String(value)}`);
  return n;
};
