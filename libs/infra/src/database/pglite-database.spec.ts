import { PgliteDatabase } from './pglite-database';

describe('PGlite runs a named statement prepared, with the same results and errors as an unnamed one', () => {
  let db: PgliteDatabase;
  beforeAll(async () => {
    db = await PgliteDatabase.inMemory();
    await db.exec('CREATE TABLE t (id int PRIMARY KEY, tags text[], doc json, n bigint)');
  });
  afterAll(() => db.close());

  const insert = 'INSERT INTO t (id, tags, doc, n) VALUES ($1, $2::text[], $3::json, $4) RETURNING id, tags, doc, n';

  it('serializes arrays and json and parses the rows as the unnamed path does', async () => {
    const named = await db.query(insert, [1, ['a', 'b,c'], '{"x":1}', 9007199254740991], { name: 'spec_insert' });
    const again = await db.query(insert, [2, ['d'], '{"x":2}', null], { name: 'spec_insert' });
    const unnamed = await db.query(insert, [3, ['a', 'b,c'], '{"x":1}', 9007199254740991]);
    expect(named.rows).toEqual([{ ...unnamed.rows[0], id: 1 }]);
    expect(again.rows).toEqual([{ id: 2, tags: ['d'], doc: { x: 2 }, n: null }]);
  });

  it('reports a refused statement with its SQLSTATE and constraint, and the backend goes on', async () => {
    await expect(db.query(insert, [1, [], '{}', 0], { name: 'spec_insert' })).rejects.toMatchObject({ code: '23505', constraint: 't_pkey' });
    expect((await db.query('SELECT count(*)::int AS n FROM t', [], { name: 'spec_count' })).rows).toEqual([{ n: 3 }]);
  });

  it('leaves a named statement out of a transaction another caller holds open', async () => {
    let release!: () => void;
    const open = db.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id) VALUES (10)');
      await new Promise<void>((resolve) => (release = resolve));
      throw new Error('rolled back');
    });
    await new Promise((resolve) => setImmediate(resolve));
    const counted = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t', [], { name: 'spec_count' });
    await new Promise((resolve) => setTimeout(resolve, 50)); // time to run inside the open transaction, were it let in
    release();
    await expect(open).rejects.toThrow('rolled back');
    expect((await counted).rows).toEqual([{ n: 3 }]);
  });

  it('runs a name reused for another text as that text', async () => {
    expect((await db.query('SELECT 7 AS v', [], { name: 'spec_count' })).rows).toEqual([{ v: 7 }]);
  });
});
