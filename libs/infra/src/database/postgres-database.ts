import { Client, Pool, PoolClient } from 'pg';
import { asDatabaseError } from './database-unavailable';
import { QueryOptions, SqlDatabase, SqlExecutor, SqlResult } from './sql-database';

/** Options for a PostgreSQL server connection; `max` is the pool size (default 10). */
export interface PostgresDatabaseOptions {
  connectionString: string;
  max?: number;
  applicationName?: string;
}

const wrap = (client: Pool | PoolClient): SqlExecutor => ({
  query: async <Row>(sql: string, params?: unknown[], options?: QueryOptions): Promise<SqlResult<Row>> => {
    const result = await (options?.name
      ? client.query({ name: options.name, text: sql, values: params as unknown[] })
      : client.query(sql, params as unknown[])
    ).catch(asDatabaseError);
    return { rows: result.rows as Row[] };
  },
});

const noop = () => undefined;

/** Delay before the next attempt to re-establish a LISTEN connection: 100 ms doubling up to 5 s. */
const listenBackoffMs = (attempt: number): number => Math.min(5000, 100 * 2 ** attempt);

/**
 * A real PostgreSQL server through a `pg` Pool; LISTEN/NOTIFY crosses connections here. A server that goes away never
 * crashes the process: errors of dropped connections are absorbed (the pool discards the connection; the next query
 * opens a new one), queries that fail because the server is unreachable reject with DatabaseUnavailableError, and a
 * LISTEN connection re-establishes itself with backoff (notifying once when it is back, so nothing waits on a missed
 * notification).
 */
export class PostgresDatabase implements SqlDatabase {
  readonly kind = 'postgres' as const;
  private readonly pool: Pool;
  private readonly executor: SqlExecutor;
  private readonly listeners = new Set<() => Promise<void>>();

  constructor(private readonly options: PostgresDatabaseOptions) {
    this.pool = new Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'runledger',
    });
    // An idle client that errors (server restart) must not crash the process; the next query reconnects.
    this.pool.on('error', noop);
    this.executor = wrap(this.pool);
  }

  query<Row = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<SqlResult<Row>> {
    return this.executor.query<Row>(sql, params, options);
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql).catch(asDatabaseError);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch(asDatabaseError);
    // A checked-out client has no pool listener: a connection dropped between two statements would otherwise be an
    // unhandled 'error' event. The failing statement rejects; release() then discards the dead connection.
    client.on('error', noop);
    try {
      await wrap(client).query('BEGIN');
      const result = await fn(wrap(client));
      await wrap(client).query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(noop);
      throw error;
    } finally {
      client.off('error', noop);
      client.release();
    }
  }

  async listen(channel: string, onNotify: (payload?: string) => void): Promise<() => Promise<void>> {
    let closed = false;
    let client: Client | null = null;
    let retry: NodeJS.Timeout | null = null;
    const connect = async (): Promise<void> => {
      const next = new Client({ connectionString: this.options.connectionString, application_name: 'runledger-listen' });
      next.on('error', noop);
      next.on('notification', (message) => {
        if (message.channel === channel) onNotify(message.payload);
      });
      next.once('end', () => {
        if (closed || client !== next) return;
        client = null;
        reconnect(0);
      });
      try {
        await next.connect();
        await next.query(`LISTEN ${channel}`);
      } catch (error) {
        await next.end().catch(noop);
        throw asDatabaseError(error);
      }
      if (closed) await next.end().catch(noop);
      else client = next;
    };
    const reconnect = (attempt: number) => {
      retry = setTimeout(() => {
        retry = null;
        if (closed) return;
        connect().then(() => onNotify(), () => reconnect(attempt + 1)); // back: wake the listener for what it missed
      }, listenBackoffMs(attempt));
    };
    await connect();
    const unlisten = async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      this.listeners.delete(unlisten);
      await client?.end().catch(noop);
    };
    this.listeners.add(unlisten);
    return unlisten;
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners].map((unlisten) => unlisten()));
    await this.pool.end();
  }
}
