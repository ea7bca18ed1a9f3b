import { createPgliteTemplate } from './pglite-template';
import { isReachable, LOCAL_POSTGRES_URL } from './postgres-server';

/**
 * Chooses the real PostgreSQL server for this run, once: TEST_DATABASE_URL if set; else a testcontainers
 * container where a Docker engine answers; else the local server at 127.0.0.1:5432. Says which.
 * No server at all: the real-server suites skip with a message, except under CI=true, where this fails the run.
 * Also makes the run's empty PGlite cluster that the embedded-store servers and stores start from (pglite-template.ts).
 */
export default async function globalSetup(): Promise<void> {
  const say = (line: string) => process.stdout.write(`\n[runledger tests] ${line}\n`);
  await createPgliteTemplate();
  const explicit = process.env.TEST_DATABASE_URL;
  if (explicit) {
    if (!(await isReachable(explicit))) throw new Error(`TEST_DATABASE_URL=${explicit} is not reachable`);
    return choose(explicit, 'env', say);
  }
  try {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:16-alpine').start();
    (globalThis as { __rlContainer?: { stop(): Promise<unknown> } }).__rlContainer = container;
    return choose(container.getConnectionUri(), 'testcontainers', say);
  } catch (error) {
    say(`testcontainers unavailable (${String((error as Error).message).split('\n')[0]}); falling back to the local server`);
  }
  if (await isReachable(LOCAL_POSTGRES_URL)) return choose(LOCAL_POSTGRES_URL, 'local', say);
  const reason = `no PostgreSQL server reachable at ${LOCAL_POSTGRES_URL} and no Docker engine for testcontainers`;
  if (process.env.CI === 'true') throw new Error(`${reason}: under CI the real-server suites must run`);
  process.env.RL_TEST_PG_SKIP = reason;
  say(`${reason}: the real-PostgreSQL suites are SKIPPED (the embedded PGlite suites still run)`);
}

function choose(url: string, source: string, say: (line: string) => void): void {
  process.env.RL_TEST_PG_URL = url;
  process.env.RL_TEST_PG_SOURCE = source;
  say(`real PostgreSQL suites run against ${source === 'local' ? 'the local server' : source}: ${url.replace(/:[^:@/]*@/, ':***@')}`);
}
