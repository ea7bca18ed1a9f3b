/**
 * Shared pieces of the event-store benchmarks: payload, timing loop, contenders (ours, raw INSERT, Emmett), readers,
 * and a throw-away database on the server.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { PgliteDatabase } from '@runledger/infra/database/pglite-database';
import { PostgresDatabase } from '@runledger/infra/database/postgres-database';
import { SqlDatabase } from '@runledger/infra/database/sql-database';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { NewEvent } from '@runledger/infra/event-store/event-store.port';

export const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const num = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
export const SECONDS = num('BENCH_SECONDS', 5);
export const WARMUP_SECONDS = num('BENCH_WARMUP_SECONDS', 1);
/** Each contender's measured time is split into this many slices, run in A B C / C B A order against drift. */
export const SLICES = Math.max(1, Math.round(num('BENCH_SLICES', 5)));
export const READ_EVENTS = Math.round(num('BENCH_READ_EVENTS', 50_000));
/** Page size of readAll (READ_BATCH in postgres-event-store.ts); the raw scan uses the same. */
export const PAGE = 500;
export const CONCURRENCY = 8;

// ---------------------------------------------------------------- payload (same JSON text for every contender)

export const EVENT_TYPE = 'ToolCallCompleted';
export const DATA = {
  sessionId: 'c0ffee00-1234-4abc-8def-0123456789ab',
  toolCallId: 'toolu_01ABCDEFGHIJKLMNOPQRSTUV',
  tool: 'Bash',
  input: { command: 'npm test -- --runInBand libs/infra', description: 'Run the infra tests' },
  exitCode: 0,
  durationMs: 1834,
  output: 'PASS libs/infra/src/event-store/postgres/postgres-event-store.spec.ts (12 tests) '.repeat(2),
};
export const METADATA = {
  correlationId: '5d1c7a52-7f6e-4d2b-9a51-0f3b1e2c4d5e',
  causationId: '9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4',
  actor: 'agent:claude-code',
};
/** What PostgresEventStore.validate() stores: the raw baseline inserts the very same text. */
export const dataText = JSON.stringify(DATA);
export const metadataText = () => JSON.stringify({ schemaVersion: 1, ...METADATA, recordedAt: new Date().toISOString() });
export const newEvents = (count: number): NewEvent[] =>
  Array.from({ length: count }, () => ({
    eventId: randomUUID(),
    type: EVENT_TYPE,
    data: DATA,
    metadata: { ...METADATA, recordedAt: new Date().toISOString() },
  }));

// ---------------------------------------------------------------- timing

/** One writer's next operation; resolves to the number of events it wrote (or read). */
export type Step = () => Promise<number>;

/**
 * Runs the writers' steps in a loop for `warmup` + `seconds`; counts the events of the operations that complete inside
 * the measured window. Returns events per second.
 */
export const measure = async (steps: Step[], warmup: number, seconds: number): Promise<number> => {
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

export interface Contender {
  label: string;
  /** Writer `writer`'s step for a workload; `tag` makes its streams new. */
  writer(batch: number, tag: string, writer: number): Step;
}

// ---------------------------------------------------------------- contenders

export const RAW_TABLE = 'bench_raw_events';
export const RAW_SCHEMA = `CREATE TABLE ${RAW_TABLE} (id bigserial PRIMARY KEY, stream text NOT NULL, type text NOT NULL, data json NOT NULL, metadata json NOT NULL)`;

export const ours = (store: PostgresEventStore, label = 'ours'): Contender => ({
  label,
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
export const rawSingleRow = (db: SqlDatabase): Contender => ({
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
export const rawMultiRow = (db: SqlDatabase): Contender => ({
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

export interface EmmettStore {
  appendToStream(
    streamName: string,
    events: { type: string; data: Record<string, unknown>; metadata?: Record<string, unknown> }[],
    options?: { expectedStreamVersion?: bigint },
  ): Promise<{ nextExpectedStreamVersion: bigint }>;
  close(): Promise<void>;
}

export const emmett = (store: EmmettStore): Contender => ({
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
export const readOurs = (store: PostgresEventStore, count: number): Step => {
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
export const readRaw = (db: SqlDatabase, count: number): Step => {
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

export interface Result {
  workload: string;
  rates: Map<string, number>;
}

export const workloadName = (batch: number, concurrency: number) => `append${batch > 1 ? `_batch${batch}` : ''}_c${concurrency}`;

/**
 * Runs every contender for SECONDS in SLICES slices, A B C then C B A …, so that drift and the noise of a shared machine
 * fall on all alike. Writers (and their streams) live across slices; only the first slice has a warm-up.
 */
export interface Entry {
  label: string;
  steps: Step[];
  /** Runs before each of this entry's slices (e.g. to install an experimental SQL function). */
  before?: () => Promise<void>;
}

export const runInterleaved = async (workload: string, entries: Entry[]): Promise<Result> => {
  const rates = new Map<string, number>();
  for (let slice = 0; slice < SLICES; slice++) {
    const order = slice % 2 === 0 ? entries : [...entries].reverse();
    for (const entry of order) {
      await entry.before?.();
      const rate = await measure(entry.steps, slice === 0 ? WARMUP_SECONDS : 0, SECONDS / SLICES);
      rates.set(entry.label, (rates.get(entry.label) ?? 0) + rate / SLICES);
    }
  }
  const line = [...rates].map(([label, rate]) => `${label} ${Math.round(rate)}`).join(', ');
  process.stderr.write(`  ${workload}: ${line} events/s\n`);
  return { workload, rates };
};

export const fmt = (n: number | undefined, width: number) => (n === undefined ? '-' : Math.round(n).toLocaleString('en-US')).padStart(width);
export const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || !b ? 'n/a' : (a / b).toFixed(2));

export const workloads = (concurrencies: number[]) =>
  [1, 10].flatMap((batch) => concurrencies.map((concurrency) => ({ batch, concurrency, name: workloadName(batch, concurrency) })));

/** A database of our own: `rl_bench_<random>` on the server (dropped by `close`), or an in-memory PGlite. */
export interface BenchDatabase {
  db: SqlDatabase;
  /** Connection string of the bench database ('' on PGlite). */
  url: string;
  /** Printable target (no credentials). */
  target: string;
  close(): Promise<void>;
}

export const openBenchDatabase = async (pglite: boolean, max = CONCURRENCY): Promise<BenchDatabase> => {
  if (pglite) {
    const db = await PgliteDatabase.inMemory();
    return { db, url: '', target: 'PGlite (in memory)', close: () => db.close() };
  }
  const serverUrl = process.env.DATABASE_URL ?? DEFAULT_URL;
  const name = `rl_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl, application_name: 'runledger-bench-admin' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  // Diagnostic: BENCH_SYNC_COMMIT=off takes the disk flush out of every commit, leaving the CPU cost of each contender.
  if (process.env.BENCH_SYNC_COMMIT === 'off') url.searchParams.set('options', '-c synchronous_commit=off');
  const db = new PostgresDatabase({ connectionString: url.toString(), max, applicationName: 'runledger-bench' });
  let closed = false;
  return {
    db,
    url: url.toString(),
    target: `${serverUrl.replace(/\/\/[^@/]*@/, '//')} → ${name}`,
    close: async () => {
      if (closed) return;
      closed = true;
      await db.close().catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((e) => console.error(`could not drop ${name}: ${e}`));
      await admin.end().catch(() => undefined);
    },
  };
};

/** Emmett's PostgreSQL event store on `url`, schema created by a first append; `close` also ends its shared pool. */
export const openEmmett = async (url: string): Promise<EmmettStore> => {
  // The CommonJS builds (the packages are ESM-first; `require` resolves to dist/index.cjs).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { getPostgreSQLEventStore } = require('@event-driven-io/emmett-postgresql') as {
    getPostgreSQLEventStore: (connectionString: string) => EmmettStore;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dumbo = require('@event-driven-io/dumbo') as { endPool(o: { connectionString: string; force?: boolean }): Promise<void> };
  const store = getPostgreSQLEventStore(url);
  await store.appendToStream('bench-warmup', [{ type: EVENT_TYPE, data: DATA, metadata: METADATA }], { expectedStreamVersion: 0n });
  return {
    appendToStream: (streamName, events, options) => store.appendToStream(streamName, events, options),
    close: async () => {
      await store.close().catch(() => undefined);
      // Its pools are reference-counted per connection string and its migration takes a second reference.
      await dumbo.endPool({ connectionString: url, force: true }).catch(() => undefined);
    },
  };
};
