import { Client, Pool, PoolClient } from 'pg';
import { QueryOptions, SqlDatabase, SqlExecutor, SqlResult } from './sql-database';

/** Options for a PostgreSQL server connection; `max` is the pool size (default 10). */
export interface PostgresDatabaseOptions {
  connectionString: string;
  max?: number;
  applicationName?: string;
}

const wrap = (client: Pool | PoolClient): SqlExecutor => ({
  query: async <Row>(sql: string, params?: unknown[], options?: QueryOptions): Promise<SqlResult<Row>> => {
    const result = options?.name
      ? await client.query({ name: options.name, text: sql, values: params as unknown[] })
      : await client.query(sql, params as unknown[]);
    return { rows: result.rows as Row[] };
  },
});

/** A real PostgreSQL server through a `pg` Pool; LISTEN/NOTIFY crosses connections here. */
export class PostgresDatabase implements SqlDatabase {
  readonly kind = 'postgres' as const;
  private readonly pool: Pool;
  private readonly executor: SqlExecutor;
  private readonly listeners = new Set<Client>();

  constructor(private readonly options: PostgresDatabaseOptions) {
    this.pool = new Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'runledger',
    });
    // An idle client that errors (server restart) must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
    this.executor = wrap(this.pool);
  }

  query<Row = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<SqlResult<Row>> {
    return this.executor.query<Row>(sql, params, options);
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(wrap(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    const client = new Client({ connectionString: this.options.connectionString, application_name: 'runledger-listen' });
    client.on('error', () => undefined);
    await client.connect();
    client.on('notification', (message) => {
      if (message.channel === channel) onNotify();
    });
    await client.query(`LISTEN ${channel}`);
    this.listeners.add(client);
    return async () => {
      this.listeners.delete(client);
      await client.end().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners].map((client) => client.end().catch(() => undefined)));
    this.listeners.clear();
    await this.pool.end();
  }
}
