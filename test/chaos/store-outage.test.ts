import { Idempotent } from '@runledger/application';
import { RedactionDoor } from '@runledger/infra/redaction/redaction-door';
import { DatabaseUnavailableError, migrate, PostgresDatabase } from '@runledger/infra/database';
import { ALL_MIGRATIONS } from '@runledger/infra/database/all-migrations';
import { eventually } from '../support/http-client';
import { postgresBinDir, PrivatePostgres, startPrivatePostgres } from '../support/private-postgres';

/** The PostgreSQL adapter and the idempotency keys while the server goes away and comes back (docs/ARCHITECTURE.md §5: 503, then recovery). */
const skip = postgresBinDir() === null && process.env.CI !== 'true';
(skip ? describe.skip : describe)('a PostgreSQL server that goes away and comes back', () => {
  let pg: PrivatePostgres;
  let db: PostgresDatabase;
  const unhandled: unknown[] = [];
  const onUnhandled = (error: unknown) => unhandled.push(error);

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    db = new PostgresDatabase({ connectionString: pg.url, max: 4 });
    await migrate(db, ALL_MIGRATIONS);
    process.on('uncaughtException', onUnhandled);
  }, 120_000);
  afterAll(async () => {
    process.off('uncaughtException', onUnhandled);
    await db?.close().catch(() => undefined);
    await pg?.destroy();
  }, 60_000);

  it('rejects with DatabaseUnavailableError (a transaction cut mid-way included) without an unhandled error, and serves again once it is back', async () => {
    let notified = 0;
    const unlisten = await db.listen('rl_outage_test', () => (notified += 1));
    const inTransaction = db.transaction(async (tx) => {
      await tx.query('SELECT 1');
      await new Promise((resolve) => setTimeout(resolve, 1500)); // the connection drops while the client is checked out
      await tx.query('SELECT 2');
    });
    await pg.stop('immediate');
    await expect(inTransaction).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await pg.start();
    await eventually(async () => (await db.query('SELECT 1 AS one').catch(() => null))?.rows[0], 'the pool to reconnect', 10_000, 100);
    // The LISTEN connection comes back by itself: a notification sent after the restart arrives.
    const before = notified;
    await eventually(async () => {
      await db.query(`SELECT pg_notify('rl_outage_test', 'x')`);
      return notified > before;
    }, 'a notification after the restart', 15_000, 300);
    await unlisten();
    expect(unhandled).toEqual([]);
  }, 60_000);

  it('an Idempotency-Key whose bookkeeping was cut by the outage is replayed or released, never left "in progress"', async () => {
    const idempotent = new Idempotent(db, new RedactionDoor([]));
    // The command ran, then the database went away before its result was stored: a repeat gets the same result.
    let runs = 0;
    const first = await idempotent.run('test', 'key-complete', { a: 1 }, async () => {
      runs += 1;
      await pg.stop('immediate');
      return { id: 'p-1' };
    });
    expect(first).toEqual({ result: { id: 'p-1' }, replayed: false });
    expect(await idempotent.run('test', 'key-complete', { a: 1 }, async () => ({ id: 'p-2' }))).toEqual({ result: { id: 'p-1' }, replayed: true });
    expect(idempotent.unsettledCount()).toBe(1);

    // The command failed with the database away: its claim could not be released then; a repeat later runs it again.
    await expect(idempotent.run('test', 'key-release', { b: 1 }, async () => ({ id: 'never' }))).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await pg.start();
    await eventually(() => idempotent.unsettledCount() === 0, 'the owed key writes to be settled', 15_000, 100);
    expect(await idempotent.run('test', 'key-release', { b: 1 }, async () => ({ id: 'p-3' }))).toEqual({ result: { id: 'p-3' }, replayed: false });
    expect(await new Idempotent(db, new RedactionDoor([])).run('test', 'key-complete', { a: 1 }, async () => ({ id: 'p-4' }))).toEqual({ result: { id: 'p-1' }, replayed: true });
    expect(runs).toBe(1);
    idempotent.onApplicationShutdown();
  }, 60_000);
});
