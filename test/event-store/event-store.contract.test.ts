import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DataDirectoryLockedError, migrate, PgliteDatabase, PostgresDatabase, SqlExecutor } from '@runledger/infra/database';
import {
  Checkpoint,
  EventIdConflictError,
  EVENT_STORE_MIGRATIONS,
  loadCheckpoint,
  LogEntry,
  NewEvent,
  PostgresEventStore,
  RecordedEvent,
  saveCheckpoint,
  READ_AT_LIMIT,
  START,
  WrongExpectedRevisionError,
} from '@runledger/infra/event-store';
import { describeEachEngine, EngineUnderTest } from '../support/stores';

const event = (type = 'ThingHappened', data: unknown = { n: 1 }): NewEvent => ({ eventId: randomUUID(), type, data });
const stream = (prefix = 's') => `${prefix}-${randomUUID()}`;
const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};
/** Resolves when `predicate` holds, checking after every delivered batch (no sleeps). */
const waitFor = (check: () => boolean, onChange: (cb: () => void) => void) =>
  new Promise<void>((resolve) => {
    if (check()) return resolve();
    onChange(() => check() && resolve());
  });

describeEachEngine('event store contract', (engine, name) => {
  const store = () => engine().store;

  it('appends and reads back with 0-based revisions, increasing positions and the envelope', async () => {
    const s = stream();
    const first = await store().appendToStream(s, [event('A'), event('B')], 'no_stream');
    expect(first.nextRevision).toBe(1);
    expect(first.positions[1]).toBeGreaterThan(first.positions[0]);
    const second = await store().appendToStream(s, [event('C', { nested: { x: [1, 2] } })], 1);
    expect(second.nextRevision).toBe(2);
    const read = await collect(store().readStream(s));
    expect(read.map((e) => [e.revision, e.type])).toEqual([[0, 'A'], [1, 'B'], [2, 'C']]);
    expect(read[2].data).toEqual({ nested: { x: [1, 2] } });
    expect(read[2].metadata.recordedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(read.map((e) => e.globalPosition)).toEqual([...first.positions, ...second.positions]);
    expect(read[1].prevHash).toBe(read[0].hash);
    expect(await store().streamRevision(s)).toBe(2);
    expect(await store().streamRevision(stream())).toBe(-1);
  });

  it('reads a long stream in batches, forwards and backwards, with maxCount', async () => {
    const s = stream();
    for (let i = 0; i < 12; i++) {
      await store().appendToStream(s, Array.from({ length: 100 }, (_, k) => event('N', { i: i * 100 + k })), 'any');
    }
    const all = await collect(store().readStream(s));
    expect(all).toHaveLength(1200);
    expect(all.every((e, i) => e.revision === i && (e.data as { i: number }).i === i)).toBe(true);
    const back = await collect(store().readStream(s, { direction: 'backwards', maxCount: 3 }));
    expect(back.map((e) => e.revision)).toEqual([1199, 1198, 1197]);
    const middle = await collect(store().readStream(s, { fromRevision: 598, maxCount: 4 }));
    expect(middle.map((e) => e.revision)).toEqual([598, 599, 600, 601]);
  });

  it('refuses a wrong expected revision and carries the actual one', async () => {
    const s = stream();
    await store().appendToStream(s, [event()], 'no_stream');
    await expect(store().appendToStream(s, [event()], 'no_stream')).rejects.toMatchObject({ actual: 0 });
    await expect(store().appendToStream(s, [event()], 5)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    await expect(store().appendToStream(stream(), [event()], 'stream_exists')).rejects.toMatchObject({ actual: -1 });
    await expect(store().appendToStream(s, [event()], 'any')).resolves.toMatchObject({ nextRevision: 1 });
  });

  it('lets exactly one of two writers with the same expected revision win', async () => {
    const s = stream();
    await store().appendToStream(s, [event()], 'no_stream');
    for (let round = 0; round < 5; round++) {
      const expected = round;
      const results = await Promise.allSettled([
        store().appendToStream(s, [event('W1')], expected),
        store().appendToStream(s, [event('W2')], expected),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(loser.reason).toBeInstanceOf(WrongExpectedRevisionError);
      expect(loser.reason.actual).toBe(expected + 1);
    }
    // and two first writers of a new stream
    const fresh = stream();
    const firsts = await Promise.allSettled([
      store().appendToStream(fresh, [event()], 'no_stream'),
      store().appendToStream(fresh, [event()], 'no_stream'),
    ]);
    expect(firsts.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await store().streamRevision(fresh)).toBe(0);
  });

  it('treats a re-append of the same event ids as a no-op returning the original positions', async () => {
    const s = stream();
    const batch = [event('A'), event('B')];
    const first = await store().appendToStream(s, batch, 'no_stream');
    const again = await store().appendToStream(s, batch, 'no_stream');
    expect(again).toEqual({ nextRevision: 1, positions: first.positions, idempotent: true });
    expect(await collect(store().readStream(s))).toHaveLength(2);
    await expect(store().appendToStream(s, [batch[0], event('C')], 'any')).rejects.toBeInstanceOf(EventIdConflictError);
    expect(await store().streamRevision(s)).toBe(1);
  });

  it('reads several streams in one pass, by stream then revision, across pages (one stream over three), leaving unknown streams out', async () => {
    const [a, b, c] = [stream('a'), stream('b'), stream('c')];
    await store().appendToStream(b, Array.from({ length: 1_100 }, (_, i) => event('B', { i })), 'no_stream');
    await store().appendToStream(a, [event('A')], 'no_stream');
    await store().appendToStream(c, Array.from({ length: 300 }, (_, i) => event('C', { i })), 'no_stream');
    await store().appendToStream(stream('other'), [event('O')], 'no_stream');
    const read = await collect(store().readStreams([c, a, b, stream('unknown'), a]));
    const expected = [a, b, c].sort().flatMap((s) => Array.from({ length: s === a ? 1 : s === b ? 1_100 : 300 }, (_, revision) => `${s}:${revision}`));
    expect(read.map((e) => `${e.streamId}:${e.revision}`)).toEqual(expected);
  });

  it('appends after a head it remembers only while the stored head still holds it (another writer, a rolled-back append)', async () => {
    const { db } = engine();
    const [mine, theirs] = [new PostgresEventStore(db), new PostgresEventStore(db)];
    const s = stream();
    await mine.appendToStream(s, [event('A')], 'no_stream');
    await mine.appendToStream(s, [event('B'), event('C')], 0); // mine now knows the head at revision 2
    await theirs.appendToStream(s, [event('D')], 2);
    await expect(mine.appendToStream(s, [event('X')], 2)).rejects.toMatchObject({ actual: 3 });
    // A batch after the head mine knows: its positions follow its revisions.
    const batch = await mine.appendToStream(s, [event('E'), event('F'), event('G')], 3);
    expect(batch.nextRevision).toBe(6);
    // Mine appends inside a transaction that rolls back: it saw revision 7 with its hash, which never committed.
    await expect(
      db.transaction(async (tx) => {
        await mine.appendWith(tx, s, [event('H')], 6);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await theirs.appendToStream(s, [event('I')], 6); // revision 7 again, another hash
    await mine.appendToStream(s, [event('J')], 7);
    const read = await collect(engine().store.readStream(s));
    expect(read.map((e) => e.type)).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'I', 'J']);
    expect(read.slice(4, 7).map((e) => e.globalPosition)).toEqual(batch.positions);
    expect(await engine().store.verifyStream(s)).toEqual({ ok: true, streamId: s, events: 9 });
    expect(await engine().store.streamRevision(s)).toBe(8);
  });

  it('appends a batch all-or-nothing', async () => {
    const db = engine().db;
    // A test-only trigger makes the database itself fail on the second event of the batch.
    await db.exec(`CREATE OR REPLACE FUNCTION rl_test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'poisoned event'; END $$;
      DROP TRIGGER IF EXISTS rl_test_poison ON rl_events;
      CREATE TRIGGER rl_test_poison BEFORE INSERT ON rl_events FOR EACH ROW WHEN (NEW.type = 'Poison') EXECUTE FUNCTION rl_test_poison();`);
    try {
      const s = stream();
      await store().appendToStream(s, [event('Fine')], 'no_stream');
      const head = await store().headPosition();
      await expect(store().appendToStream(s, [event('Fine'), event('Poison'), event('Fine')], 0)).rejects.toThrow(/poisoned/);
      expect(await store().streamRevision(s)).toBe(0);
      expect((await collect(store().readStream(s))).map((e) => e.type)).toEqual(['Fine']);
      expect(await store().headPosition()).toBe(head);
    } finally {
      await db.exec('DROP TRIGGER IF EXISTS rl_test_poison ON rl_events');
    }
  });

  it('serves the read models\' queries: streams of a category with heads, last event of a type, counts and checkpoints by position', async () => {
    const tag = randomUUID().slice(0, 8);
    const sessionA = `session-${tag}-a`;
    const sessionB = `session-${tag}-b`;
    await store().appendToStream(sessionA, [event('Started'), event('Tick', { n: 1 }), event('Tick', { n: 2 }), event('Other')], 'no_stream');
    const appended = await store().appendToStream(sessionB, [event('Started')], 'no_stream');
    await store().appendToStream(`project-${tag}`, [event('Registered')], 'no_stream');
    await store().appendToStream('session-', [event('Stray')], 'any');

    const sessions = (await collect(store().readStreamsByCategory('session'))).filter((h) => h.streamId.includes(tag) || h.streamId === 'session-');
    expect(sessions).toEqual([{ streamId: sessionA, revision: 3 }, { streamId: sessionB, revision: 0 }]);
    expect((await collect(store().readStreamsByCategory('project'))).filter((h) => h.streamId.includes(tag))).toEqual([{ streamId: `project-${tag}`, revision: 0 }]);

    expect(await store().lastEventOfType(sessionA, 'Tick')).toMatchObject({ streamId: sessionA, revision: 2, type: 'Tick', data: { n: 2 } });
    expect(await store().lastEventOfType(sessionA, 'Missing')).toBeNull();
    expect(await store().lastEventOfType(`session-${tag}-none`, 'Tick')).toBeNull();

    const at = await store().checkpointAt(appended.positions[0]);
    const [recorded] = await collect(store().readStream(sessionB));
    expect(at).toEqual({ transactionId: recorded.transactionId, globalPosition: recorded.globalPosition });
    expect(await store().checkpointAt((await store().headPosition()) + 1000)).toBeNull();
    expect(await store().countAfter(await store().headCheckpoint())).toBe(0);
    expect(await store().countAfter(at!)).toBe(2);
    expect(await store().countAfter(START)).toBeGreaterThanOrEqual(7);

    const a = await collect(store().readStream(sessionA));
    const picked = await store().readAt([a[3].globalPosition, recorded.globalPosition, a[1].globalPosition, a[1].globalPosition, (await store().headPosition()) + 1000]);
    expect(picked.map((e) => [e.streamId, e.revision, e.type])).toEqual([[sessionA, 1, 'Tick'], [sessionA, 3, 'Other'], [sessionB, 0, 'Started']]);
    expect(await store().readAt([])).toEqual([]);
    await expect(store().readAt([0])).rejects.toThrow(RangeError);
    await expect(store().readAt(Array.from({ length: READ_AT_LIMIT + 1 }, (_, i) => i + 1))).rejects.toThrow(/at most/);
  });

  it('refuses to update or delete a stored event (append-only)', async () => {
    const s = stream();
    await store().appendToStream(s, [event()], 'no_stream');
    await expect(engine().db.query(`UPDATE rl_events SET type = 'X' WHERE stream_id = $1`, [s])).rejects.toThrow(/append-only/);
    await expect(engine().db.query(`DELETE FROM rl_events WHERE stream_id = $1`, [s])).rejects.toThrow(/append-only/);
  });

  it('keeps a hash chain and reports the first broken link', async () => {
    const s = stream();
    await store().appendToStream(s, [event('A', { v: 1 }), event('B', { v: 2 }), event('C', { v: 3 })], 'no_stream');
    expect(await store().verifyStream(s)).toEqual({ ok: true, streamId: s, events: 3 });
    const db = engine().db;
    await db.exec('ALTER TABLE rl_events DISABLE TRIGGER rl_events_append_only');
    try {
      await db.query(`UPDATE rl_events SET data = '{"v":22}' WHERE stream_id = $1 AND revision = 1`, [s]);
    } finally {
      await db.exec('ALTER TABLE rl_events ENABLE TRIGGER rl_events_append_only');
    }
    expect(await store().verifyStream(s)).toMatchObject({ ok: false, brokenAt: 1 });
  });

  it('chains every batch size after a remembered head, one statement per size up to its limit and rl_append past it', async () => {
    const s = stream('sizes');
    let revision = (await store().appendToStream(s, [event()], 'no_stream')).nextRevision;
    const sizes = [1, 2, 10, 32, 33, 40, 1];
    for (const size of sizes) {
      const batch = Array.from({ length: size }, (_, i) => event('Sized', { size, i }));
      const result = await store().appendToStream(s, batch, revision);
      expect(result.nextRevision).toBe(revision + size);
      expect(result.positions).toHaveLength(size);
      expect([...result.positions].sort((a, b) => a - b)).toEqual(result.positions);
      revision = result.nextRevision;
    }
    const read = await collect(store().readStream(s));
    expect(read.map((e) => e.revision)).toEqual(read.map((_, i) => i));
    expect(await store().verifyStream(s)).toEqual({ ok: true, streamId: s, events: 1 + sizes.reduce((a, b) => a + b, 0) });
    // A retried batch of a size the one-statement path serves is still idempotent (it goes to rl_append, which finds its ids).
    const again = [event('Sized'), event('Sized')];
    const first = await store().appendToStream(s, again, revision);
    const retried = await store().appendToStream(s, again, revision);
    expect(retried).toEqual({ ...first, idempotent: true });
  });

  it('delivers catch-up then live events to a subscriber that stores its checkpoint with its own writes', async () => {
    const db = engine().db;
    await db.exec('CREATE TABLE IF NOT EXISTS t_seen (event_id uuid PRIMARY KEY, stream_id text NOT NULL)');
    const s = stream('sub');
    await store().appendToStream(s, [event(), event(), event()], 'no_stream');
    const subscriptionId = `test-${randomUUID()}`;
    const consume = (seen: RecordedEvent[], listeners: (() => void)[]) => async (events: RecordedEvent[]) => {
      await db.transaction(async (tx: SqlExecutor) => {
        for (const e of events) {
          if (e.streamId === s) await tx.query('INSERT INTO t_seen (event_id, stream_id) VALUES ($1, $2)', [e.eventId, e.streamId]);
        }
        const last = events[events.length - 1];
        await saveCheckpoint(tx, subscriptionId, { transactionId: last.transactionId, globalPosition: last.globalPosition });
      });
      seen.push(...events.filter((e) => e.streamId === s));
      listeners.forEach((l) => l());
    };
    const seen: RecordedEvent[] = [];
    const listeners: (() => void)[] = [];
    const sub = store().subscribeToAll({ from: START, onEvents: consume(seen, listeners), batchSize: 50 });
    await sub.caughtUp;
    expect(seen).toHaveLength(3);
    await store().appendToStream(s, [event(), event()], 2);
    await waitFor(() => seen.length === 5, (cb) => listeners.push(cb));
    await sub.stop();
    // A restarted consumer resumes from its stored checkpoint: nothing is delivered twice.
    const checkpoint = await loadCheckpoint(db, subscriptionId);
    expect(checkpoint.globalPosition).toBe(seen[4].globalPosition);
    await store().appendToStream(s, [event()], 4);
    const resumed: RecordedEvent[] = [];
    const l2: (() => void)[] = [];
    const sub2 = store().subscribeToAll({ from: checkpoint, onEvents: consume(resumed, l2) });
    await waitFor(() => resumed.length === 1, (cb) => l2.push(cb));
    await sub2.stop();
    expect(resumed.map((e) => e.revision)).toEqual([5]);
    const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM t_seen WHERE stream_id = $1', [s]);
    expect(rows[0].n).toBe('6');
  });

  it('delivers entries (no metadata, ids or hashes) in the same order and batches as whole events, catch-up then live', async () => {
    const s = stream('entries');
    await store().appendToStream(s, [event('A', { n: 1 }), event('B', { n: 2 })], 'no_stream');
    const from = await store().checkpointAfter((await store().headPosition()) - 2);
    const entries: LogEntry[] = [];
    const listeners: (() => void)[] = [];
    const sub = store().subscribeToAllEntries({
      from,
      batchSize: 1,
      onEvents: async (page) => {
        expect(page).toHaveLength(1);
        entries.push(...page.filter((e) => e.streamId === s));
        listeners.forEach((l) => l());
      },
    });
    await sub.caughtUp;
    await store().appendToStream(s, [event('C', { n: 3 })], 1);
    await waitFor(() => entries.length === 3, (cb) => listeners.push(cb));
    await sub.stop();
    const whole = (await collect(store().readStream(s))).map(({ streamId, revision, type, data, globalPosition, transactionId }) => ({ streamId, revision, type, data, globalPosition, transactionId }));
    // Exactly the LogEntry fields, equal to the whole events' (no metadata, eventId, hash or prevHash read).
    expect(entries).toEqual(whole);
    expect(entries.map((e) => Object.keys(e).sort())).toEqual(whole.map(() => ['data', 'globalPosition', 'revision', 'streamId', 'transactionId', 'type']));
  });

  it('never lets a subscriber pass an event whose transaction commits after a later position is visible', async () => {
    const db = engine().db;
    const [sa, sb] = [stream('gapA'), stream('gapB')];
    const delivered: RecordedEvent[] = [];
    const checkpoints: Checkpoint[] = [];
    const batches: { checkpoint: Checkpoint; hasA: boolean }[] = [];
    const listeners: (() => void)[] = [];
    const head = await store().headPosition();
    const sub = store().subscribeToAll({
      from: START,
      onEvents: async (events) => {
        delivered.push(...events.filter((e) => e.streamId === sa || e.streamId === sb));
        const last = events[events.length - 1];
        checkpoints.push({ transactionId: last.transactionId, globalPosition: last.globalPosition });
        batches.push({ checkpoint: checkpoints[checkpoints.length - 1], hasA: events.some((e) => e.streamId === sa) });
        listeners.forEach((l) => l());
      },
    });
    await sub.caughtUp;
    let commitA!: () => void;
    const aMayCommit = new Promise<void>((resolve) => (commitA = resolve));
    let aAppended!: () => void;
    const aHasPosition = new Promise<void>((resolve) => (aAppended = resolve));
    // Transaction A takes the lower position, then stays open.
    const txA = db.transaction(async (tx) => {
      await store().appendWith(tx, sa, [event('A')], 'no_stream');
      aAppended();
      await aMayCommit;
    });
    await aHasPosition;
    // Transaction B takes a higher position and (on a server) commits while A is still open.
    const bDone = store().appendToStream(sb, [event('B')], 'no_stream');
    if (name === 'postgres') {
      const b = await bDone;
      const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM rl_events WHERE stream_id = $1', [sb]);
      expect(rows[0].n).toBe('1'); // B is committed and visible to plain SQL…
      const visible = await collect(store().readAll({ from: checkpoints[checkpoints.length - 1] ?? START }));
      expect(visible.find((e) => e.streamId === sb)).toBeUndefined(); // …but no reader passes A to reach it.
      expect(b.positions[0]).toBeGreaterThan(head);
    }
    commitA();
    await txA;
    await bDone;
    await waitFor(() => delivered.length === 2, (cb) => listeners.push(cb));
    await sub.stop();
    expect(delivered.map((e) => e.type)).toEqual(['A', 'B']);
    expect(delivered[0].globalPosition).toBeLessThan(delivered[1].globalPosition);
    // No checkpoint ever stood at or past A's position before the batch that delivered A.
    const aPos = delivered[0].globalPosition;
    const firstWithA = batches.findIndex((b) => b.hasA);
    expect(firstWithA).toBeGreaterThanOrEqual(0);
    expect(batches.slice(0, firstWithA).filter((b) => b.checkpoint.globalPosition >= aPos)).toEqual([]);
  });

  it('applies migrations once, also when run twice and concurrently', async () => {
    const db = engine().db;
    const again = await migrate(db, EVENT_STORE_MIGRATIONS);
    expect(again.applied).toEqual([]);
    if (name === 'postgres') {
      const url = (engine().location as { databaseUrl: string }).databaseUrl;
      const fresh = `${url}_m`;
      const admin = new PostgresDatabase({ connectionString: url });
      const dbName = new URL(fresh).pathname.slice(1);
      await admin.exec(`CREATE DATABASE ${dbName}`);
      const [a, b] = [new PostgresDatabase({ connectionString: fresh }), new PostgresDatabase({ connectionString: fresh })];
      try {
        const reports = await Promise.all([migrate(a, EVENT_STORE_MIGRATIONS), migrate(b, EVENT_STORE_MIGRATIONS)]);
        expect(reports.map((r) => r.applied).sort()).toEqual([[], EVENT_STORE_MIGRATIONS.map((m) => m.version)]);
        const { rows } = await a.query<{ n: string }>('SELECT count(*)::text AS n FROM rl_schema_migrations');
        expect(rows[0].n).toBe(String(EVENT_STORE_MIGRATIONS.length));
      } finally {
        await Promise.all([a.close(), b.close()]);
        await admin.exec(`DROP DATABASE ${dbName} WITH (FORCE)`);
        await admin.close();
      }
    }
  });

  it('loses no acknowledged append when the appending process is killed with SIGKILL', async () => {
    const compiled = join(__dirname, '../../dist/libs/infra/src/event-store/index.js');
    if (!existsSync(compiled)) throw new Error('run `npm run build` first (npm test does): the child process runs the compiled store');
    const location = engine().location;
    if (name === 'pglite') await engine().close(); // the child must own the data directory
    const tag = randomUUID().slice(0, 8);
    const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'fixtures/append-loop.js'), JSON.stringify(location), tag], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const acks: { stream: string; nextRevision: number; positions: number[] }[] = [];
    const killAfter = 60 + Math.floor(Math.random() * 40); // a random point in the loop
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        const [kind, s, rev, positions] = line.split(' ');
        if (kind === 'ack') acks.push({ stream: s, nextRevision: Number(rev), positions: positions.split(',').map(Number) });
        if (acks.length === killAfter) resolve();
      });
      child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
    });
    if (name === 'pglite') {
      // While the child owns the data directory, a second owner is refused, naming the child's pid.
      const refused = await PgliteDatabase.open((location as { dataDir: string }).dataDir).then(
        (db) => db.close().then(() => null),
        (error) => error,
      );
      expect(refused).toBeInstanceOf(DataDirectoryLockedError);
      expect((refused as DataDirectoryLockedError).ownerPid).toBe(child.pid);
    }
    child.kill('SIGKILL');
    await exited;
    const reopened = name === 'pglite' ? await engine().reopen() : engine();
    try {
      const streams = [...new Set(acks.map((a) => a.stream))];
      for (const s of streams) {
        const events = await collect(reopened.store.readStream(s));
        const lastAck = Math.max(...acks.filter((a) => a.stream === s).map((a) => a.nextRevision));
        expect(events.length).toBeGreaterThanOrEqual(lastAck + 1); // every acknowledged event is there
        expect(events.length % 3).toBe(0); // no partial batch
        expect(await reopened.store.verifyStream(s)).toMatchObject({ ok: true });
        const stored = new Set(events.map((e) => e.globalPosition));
        for (const a of acks.filter((x) => x.stream === s)) a.positions.forEach((p) => expect(stored.has(p)).toBe(true));
      }
    } finally {
      if (name === 'pglite') await reopened.close();
    }
  });
});
