import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, PgliteDatabase, PostgresDatabase, SqlDatabase } from '@runledger/infra/database';
import { EVENT_STORE_MIGRATIONS, PostgresEventStore } from '@runledger/infra/event-store';
import { seedPgliteDataDir } from './pglite-template';
import { chosenPostgres, createTestDatabase } from './postgres-server';

/** The two engines every store contract test runs on. */
export type EngineName = 'pglite' | 'postgres';

/** A migrated, empty database and event store for one test file; `location` lets a child process open the same one. */
export interface EngineUnderTest {
  engine: EngineName;
  db: SqlDatabase;
  store: PostgresEventStore;
  location: { databaseUrl: string } | { dataDir: string };
  /** Closes the handle (PGlite: releases the data directory) without deleting data. */
  close(): Promise<void>;
  /** Re-opens after close(). */
  reopen(): Promise<EngineUnderTest>;
  destroy(): Promise<void>;
}

/** `describe` for PGlite, and for PostgreSQL unless the run has no server (then skipped, with the reason printed). */
export const describeEachEngine = (title: string, body: (engine: () => EngineUnderTest, name: EngineName) => void): void => {
  for (const name of ['pglite', 'postgres'] as const) {
    const pg = chosenPostgres();
    const skip = name === 'postgres' && 'skip' in pg ? pg.skip : null;
    const d = skip ? describe.skip : describe;
    d(`${title} [${name}${name === 'postgres' && !skip ? `: ${(pg as { source: string }).source} server` : ''}]`, () => {
      let current: EngineUnderTest;
      beforeAll(async () => {
        current = await openEngine(name);
      });
      afterAll(async () => {
        await current?.destroy();
      });
      body(() => current, name);
    });
  }
};

/** Opens a fresh migrated engine: PGlite in a temp data directory, or a new database on the chosen server. */
export const openEngine = async (name: EngineName): Promise<EngineUnderTest> => {
  if (name === 'pglite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'rl-pglite-'));
    seedPgliteDataDir(dataDir); // an empty cluster copied, not initdb'd again: migrations still run below
    const open = async (): Promise<EngineUnderTest> => {
      const db = await PgliteDatabase.open(dataDir);
      await migrate(db, EVENT_STORE_MIGRATIONS);
      const self: EngineUnderTest = {
        engine: name, db, store: new PostgresEventStore(db), location: { dataDir },
        close: () => db.close(),
        reopen: open,
        destroy: async () => {
          await db.close().catch(() => undefined);
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
      return self;
    };
    return open();
  }
  const server = chosenPostgres();
  if ('skip' in server) throw new Error(server.skip);
  const { url, drop } = await createTestDatabase(server);
  const open = async (): Promise<EngineUnderTest> => {
    const db = new PostgresDatabase({ connectionString: url, max: 12 });
    await migrate(db, EVENT_STORE_MIGRATIONS);
    return {
      engine: name, db, store: new PostgresEventStore(db), location: { databaseUrl: url },
      close: () => db.close(),
      reopen: open,
      destroy: async () => {
        await db.close().catch(() => undefined);
        await drop();
      },
    };
  };
  return open();
};
