import { Client } from 'pg';

/** Where the real-PostgreSQL suites run, decided once per jest run by globalSetup (see global-setup.ts). */
export interface PostgresServer {
  /** A URL to a database on which this run may CREATE DATABASE. */
  adminUrl: string;
  /** `private`: a server of the test's own (private-postgres.ts). */
  source: 'testcontainers' | 'local' | 'env' | 'private';
}

/** The default local server of this machine (trust auth). */
export const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** True when `url` accepts a connection within 3 s. */
export const isReachable = async (url: string): Promise<boolean> => {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
};

/** The server chosen by globalSetup, or null with the reason the real-server suites skip (never under CI). */
export const chosenPostgres = (): PostgresServer | { skip: string } => {
  const url = process.env.RL_TEST_PG_URL;
  if (url) return { adminUrl: url, source: process.env.RL_TEST_PG_SOURCE as PostgresServer['source'] };
  return { skip: process.env.RL_TEST_PG_SKIP ?? 'globalSetup did not run' };
};

/** Creates a fresh, uniquely named database on the chosen server; returns its URL and a drop function. */
export const createTestDatabase = async (server: PostgresServer): Promise<{ url: string; drop: () => Promise<void> }> => {
  const name = `rl_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: server.adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
};
