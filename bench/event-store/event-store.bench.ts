/**
 * bench/event-store: events per second of PostgresEventStore beside a raw baseline and Emmett, same run, same database.
 *
 *   npm run bench:event-store                      # DATABASE_URL or postgres://postgres@127.0.0.1:5432/test
 *   BENCH_SECONDS=5 npm run bench:event-store      # measured seconds per workload and contender (default 5)
 *   npm run bench:event-store -- --pglite          # or BENCH_STORE=pglite: in-memory PGlite, ours vs raw at c1
 *
 * Ends with `ratio <workload>: x.xx` (ours / raw baseline) and `ratio_vs_emmett <workload>: x.xx` lines.
 * A script, not a test: it asserts nothing about time.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { migrate } from '@runledger/infra/database/migrations';
import { PgliteDatabase } from '@runledger/infra/database/pglite-database';
import { PostgresDatabase } from '@runledger/infra/database/postgres-database';
import { SqlDatabase } from '@runledger/infra/database/sql-database';
import { eventStoreMigration } from '@runledger/infra/event-store/postgres/event-store.schema';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { NewEvent } from '@runledger/infra/event-store/event-store.port';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
const num = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const SECONDS = num('BENCH_SECONDS', 5);
const WARMUP_SECONDS = num('BENCH_WARMUP_SECONDS', 1);
/** Each contender's measured time is split into this many slices, run in A B C / C B A order against drift. */
const SLICES = Math.max(1, Math.round(num('BENCH_SLICES', 5)));
const READ_EVENTS = Math.round(num('BENCH_READ_EVENTS', 50_000));
/** Page size of readAll (READ_BATCH in postgres-event-store.ts); the raw scan uses the same. */
const PAGE = 500;
const CONCURRENCY = 8;
const USE_PGLITE = process.argv.includes('--pglite') || process.env.BENCH_STORE === 'pglite';

// ---------------------------------------------------------------- payload (same JSON text for every contender)

const EVENT_TYPE = 'ToolCallCompleted';
const DATA = {
  sessionId: 'c0ffee00-1234-4abc-8def-0123456789ab',
  toolCallId: 'toolu_01ABCDEFGHIJKLMNOPQRSTUV',
  tool: 'Bash',
  input: { command: 'npm test -- --runInBand libs/infra', description: 'Run the infra tests' },
  exitCode: 0,
  durationMs: 1834,
  output: 'PASS libs/infra/src/event-store/postgres/postgres-event-store.spec.ts (12 tests) '.repeat(2),
};
const METADATA = {
  correlationId: '5d1c7a52-7f6e-4d2b-9a51-0f3b1e2c4d5e',
  causationId: '9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4',
  actor: 'agent:claude-code',
};
/** What PostgresEventStore.validate() stores: the raw baseline inserts the very same text. */
const dataText = JSON.stringify(DATA);
const metadataText = () => JSON.stringify({ schemaVersion: 1, ...METADATA, recordedAt: new Date().toISOString() });
const newEvents = (count: number): NewEvent[] =>
  Array.from({ length: count }, () => ({
    eventId: randomUUID(),
    type: EVENT_TYPE,
    data: DATA,
    metadata: { ...METADATA, recordedAt: new Date().toISOString() },
  }));

// ---------------------------------------------------------------- timing

/** One writer's next operation; resolves to the number of events it wrote (or read). */
type Step = () => Promise<number>;

/**
 * Runs the writers' steps in a loop for `warmup` + `seconds`; counts the events of the operations that complete inside
 * the measured window. Returns events per second.
 */
const measure = async (steps: Step[], warmup: number, seconds: number): Promise<number> => {
  const t0 = performance.now() + warmup * 1000;
  const t1 = t0 + seconds * 1000;
  let events = 0;
  await Promise.all(
    steps.map(async (step) => {
      while (performance.now() < t1) {
        const n = await step();
        const now = performance.now();
        if (now >= t0 && now < t1) events += n;
      }
    }),
  );
  return events / seconds;
};

interface Contender {
  label: string;
  /** Writer `writer`'s step for a workload; `tag` makes its streams new. */
  writer(batch: number, tag: string, writer: number): Step;
}

// ---------------------------------------------------------------- contenders

const RAW_TABLE = 'bench_raw_events';
const RAW_SCHEMA = `CREATE TABLE ${RAW_TABLE} (id bigserial PRIMARY KEY, stream text NOT NULL, type text NOT NULL, data json NOT NULL, metadata json NOT NULL)`;

const ours = (store: PostgresEventStore): Contender => ({
  label: 'ours',
  writer: (batch, tag, writer) => {
    // Each writer owns one stream and appends with the revision it knows, like a decider would.
    const stream = `bench-${tag}-w${writer}`;
    let revision: number | 'no_stream' = 'no_stream';
    return async () => {
      const result = await store.appendToStream(stream, newEvents(batch), revision);
      revision = result.nextRevision;
      return batch;
    };
  },
});

/** Plain INSERT, one row per statement in autocommit (one row per transaction), same payload and driver path. */
const rawSingleRow = (db: SqlDatabase): Contender => ({
  label: 'raw',
  writer: (batch, tag, writer) => {
    const stream = `bench-${tag}-w${writer}`;
    return async () => {
      for (let i = 0; i < batch; i++) {
        randomUUID(); // the event id every other contender generates
        await db.query(`INSERT INTO ${RAW_TABLE} (stream, type, data, metadata) VALUES ($1, $2, $3, $4)`, [
          stream,
          EVENT_TYPE,
          dataText,
          metadataText(),
        ]);
      }
      return batch;
    };
  },
});

/** Informational: the whole batch in one multi-row INSERT (one transaction per batch). */
const rawMultiRow = (db: SqlDatabase): Contender => ({
  label: 'raw_multirow',
  writer: (batch, tag, writer) => {
    const stream = `bench-${tag}-w${writer}`;
    const values = Array.from({ length: batch }, (_, i) => `($1, $2, $${3 + 2 * i}, $${4 + 2 * i})`).join(', ');
    const sql = `INSERT INTO ${RAW_TABLE} (stream, type, data, metadata) VALUES ${values}`;
    return async () => {
      const params: unknown[] = [stream, EVENT_TYPE];
      for (let i = 0; i < batch; i++) {
        randomUUID();
        params.push(dataText, metadataText());
      }
      await db.query(sql, params);
      return batch;
    };
  },
});

interface EmmettStore {
  appendToStream(
    streamName: string,
    events: { type: string; data: Record<string, unknown>; metadata?: Record<string, unknown> }[],
    options?: { expectedStreamVersion?: bigint },
  ): Promise<{ nextExpectedStreamVersion: bigint }>;
  close(): Promise<void>;
}

const emmett = (store: EmmettStore): Contender => ({
  label: 'emmett',
  writer: (batch, tag, writer) => {
    const stream = `bench-${tag}-w${writer}`;
    let version = 0n; // Emmett's "stream does not exist yet" version
    return async () => {
      const events = Array.from({ length: batch }, () => ({
        type: EVENT_TYPE,
        data: DATA,
        metadata: { messageId: randomUUID(), ...METADATA, recordedAt: new Date().toISOString() },
      }));
      const result = await store.appendToStream(stream, events, { expectedStreamVersion: version });
      version = result.nextExpectedStreamVersion;
      return batch;
    };
  },
});

// ---------------------------------------------------------------- reads

/** readAll over the first `count` events, one page (PAGE events) per step, starting over at the end. */
const readOurs = (store: PostgresEventStore, count: number): Step => {
  let iterator: AsyncIterator<unknown> | undefined;
  return async () => {
    iterator ??= store.readAll({ maxCount: count })[Symbol.asyncIterator]();
    let n = 0;
    while (n < PAGE) {
      const next = await iterator.next();
      if (next.done) {
        iterator = undefined;
        break;
      }
      n++;
    }
    return n;
  };
};

/**
 * Plain SELECT keyset scan of the first `count` rows of the baseline table, same page size, starting over at the
 * end; the driver parses the json columns (ours JSON.parses them too).
 */
const readRaw = (db: SqlDatabase, count: number): Step => {
  let read = 0;
  let after = 0;
  return async () => {
    const limit = Math.min(PAGE, count - read);
    const { rows } = await db.query<{ id: string | number }>(
      `SELECT id, stream, type, data, metadata FROM ${RAW_TABLE} WHERE id > $1 ORDER BY id LIMIT $2`,
      [after, limit],
    );
    read += rows.length;
    after = rows.length > 0 ? Number(rows[rows.length - 1].id) : after;
    if (rows.length < limit || read >= count) [read, after] = [0, 0];
    return rows.length;
  };
};

// ---------------------------------------------------------------- runner

interface Result {
  workload: string;
  rates: Map<string, number>;
}

const workloadName = (batch: number, concurrency: number) => `append${batch > 1 ? `_batch${batch}` : ''}_c${concurrency}`;

/**
 * Runs every contender for SECONDS in SLICES slices, A B C then C B A …, so that drift and the noise of a shared machine
 * fall on all alike. Writers (and their streams) live across slices; only the first slice has a warm-up.
 */
const runInterleaved = async (workload: string, contenders: { label: string; steps: Step[] }[]): Promise<Result> => {
  const rates = new Map<string, number>();
  for (let slice = 0; slice < SLICES; slice++) {
    const order = slice % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      const rate = await measure(c.steps, slice === 0 ? WARMUP_SECONDS : 0, SECONDS / SLICES);
      rates.set(c.label, (rates.get(c.label) ?? 0) + rate / SLICES);
    }
  }
  const line = [...rates].map(([label, rate]) => `${label} ${Math.round(rate)}`).join(', ');
  process.stderr.write(`  ${workload}: ${line} events/s\n`);
  return { workload, rates };
};

const fmt = (n: number | undefined, width: number) => (n === undefined ? '-' : Math.round(n).toLocaleString('en-US')).padStart(width);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || !b ? 'n/a' : (a / b).toFixed(2));

const main = async () => {
  const serverUrl = process.env.DATABASE_URL ?? DEFAULT_URL;
  const dbName = `rl_bench_${randomBytes(4).toString('hex')}`;
  let db: SqlDatabase;
  let benchUrl = '';
  let admin: Client | undefined;
  let emmettStore: EmmettStore | undefined;

  if (USE_PGLITE) {
    db = await PgliteDatabase.inMemory();
  } else {
    admin = new Client({ connectionString: serverUrl, application_name: 'runledger-bench-admin' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    const url = new URL(serverUrl);
    url.pathname = `/${dbName}`;
    benchUrl = url.toString();
    db = new PostgresDatabase({ connectionString: benchUrl, max: CONCURRENCY, applicationName: 'runledger-bench' });
  }

  let dropped = false;
  const cleanup = async () => {
    if (dropped) return;
    dropped = true;
    await emmettStore?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    if (admin) {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((e) => console.error(`could not drop ${dbName}: ${e}`));
      await admin.end().catch(() => undefined);
    }
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    await migrate(db, [eventStoreMigration]);
    await db.exec(RAW_SCHEMA);
    const store = new PostgresEventStore(db);

    if (!USE_PGLITE) {
      // CommonJS build of Emmett (the package is ESM-first; `require` resolves to dist/index.cjs).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { getPostgreSQLEventStore } = require('@event-driven-io/emmett-postgresql') as {
        getPostgreSQLEventStore: (connectionString: string) => EmmettStore;
      };
      emmettStore = getPostgreSQLEventStore(benchUrl);
      // Emmett creates its schema on the first append.
      await emmettStore.appendToStream('bench-warmup', [{ type: EVENT_TYPE, data: DATA, metadata: METADATA }], { expectedStreamVersion: 0n });
    }

    const target = USE_PGLITE ? 'PGlite (in memory)' : `${serverUrl.replace(/\/\/[^@/]*@/, '//')} → ${dbName}`;
    process.stderr.write(
      `bench/event-store on ${target}: ${SECONDS}s per contender and workload (${SLICES} slices, ${WARMUP_SECONDS}s warm-up each)\n`,
    );

    const contenders = [ours(store), rawSingleRow(db), ...(emmettStore ? [emmett(emmettStore)] : [])];
    const multiRow = rawMultiRow(db);
    const results: Result[] = [];
    const concurrencies = USE_PGLITE ? [1] : [1, CONCURRENCY];
    for (const batch of [1, 10]) {
      for (const concurrency of concurrencies) {
        const workload = workloadName(batch, concurrency);
        const list = [...contenders, ...(batch > 1 ? [multiRow] : [])].map((c) => ({
          label: c.label,
          steps: Array.from({ length: concurrency }, (_, i) => c.writer(batch, `${workload}-${c.label}`, i)),
        }));
        results.push(await runInterleaved(workload, list));
      }
    }

    // read_all: the same number of rows from each table, in pages of the same size, single reader.
    const counts = await Promise.all([
      db.query<{ n: string | number }>('SELECT count(*) AS n FROM rl_events'),
      db.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${RAW_TABLE}`),
    ]);
    const readCount = Math.min(READ_EVENTS, ...counts.map((c) => Number(c.rows[0].n)));
    await db.exec('VACUUM ANALYZE');
    const readResult = await runInterleaved('read_all', [
      { label: 'ours', steps: [readOurs(store, readCount)] },
      { label: 'raw', steps: [readRaw(db, readCount)] },
    ]);
    results.push(readResult);

    // ------------------------------------------------------------ report
    const out: string[] = [];
    out.push('');
    out.push(`events per second (read_all: ${readCount.toLocaleString('en-US')} events per pass, pages of ${PAGE})`);
    out.push(`${'workload'.padEnd(20)}${'ours'.padStart(10)}${'raw'.padStart(10)}${'emmett'.padStart(10)}${'ours/raw'.padStart(10)}${'ours/emmett'.padStart(13)}`);
    for (const r of results) {
      const [o, raw, e] = ['ours', 'raw', 'emmett'].map((k) => r.rates.get(k));
      out.push(`${r.workload.padEnd(20)}${fmt(o, 10)}${fmt(raw, 10)}${fmt(e, 10)}${ratio(o, raw).padStart(10)}${(e === undefined ? '-' : ratio(o, e)).padStart(13)}`);
    }
    out.push('');
    for (const r of results) {
      const multi = r.rates.get('raw_multirow');
      if (multi === undefined) continue;
      out.push(`info ${r.workload} raw_multirow10: ${Math.round(multi)} events/s (10-row INSERT per transaction); ours/that: ${ratio(r.rates.get('ours'), multi)}`);
    }
    out.push('');
    for (const r of results) out.push(`ratio ${r.workload}: ${ratio(r.rates.get('ours'), r.rates.get('raw'))}`);
    for (const r of results) {
      if (r.rates.has('emmett')) out.push(`ratio_vs_emmett ${r.workload}: ${ratio(r.rates.get('ours'), r.rates.get('emmett'))}`);
    }
    console.log(out.join('\n'));
  } finally {
    await cleanup();
  }
};

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
