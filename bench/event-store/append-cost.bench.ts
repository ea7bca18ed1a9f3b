/**
 * bench/event-store/append-cost: where one append spends its time. Each contender adds one piece of what `rl_append`
 * does to a plain INSERT, all in the same run on the same fresh database, 1 event per append:
 *
 *   raw          INSERT of the payload into a table with one index (the event-store bench's baseline; with --batch, one
 *                multi-row INSERT per batch: raw_multirow)
 *   rows         INSERT into rl_events itself (its four indexes, json, xid8), hash computed in Node, no stream head
 *   rows+head    the same INSERT and the stream head's UPDATE in one statement (a CTE), no function, no lock
 *   v5           rl_append as of migration 5 (row lock on the head, loop of INSERTs, upsert of the head)
 *   current      rl_append as installed by the latest migration (what PostgresEventStore calls)
 *
 *   npm run build && node dist/bench/event-store/append-cost.bench.js     # BENCH_SECONDS, BENCH_CONCURRENCY (1,8), --batch 10
 *
 * Prints events/s and each contender's ratio to raw. With BENCH_CPU=1 it measures CPU instead of rate (a loaded machine
 * stretches wall time, much less CPU time): each contender appends BENCH_CPU_APPENDS times on one connection, and the
 * server backend's CPU (/proc/<pid>/stat, PostgreSQL on this host) and this process's CPU are printed in µs per event.
 * A script, not a test.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { migrate } from '@runledger/infra/database/migrations';
import { PostgresDatabase } from '@runledger/infra/database/postgres-database';
import { SqlDatabase } from '@runledger/infra/database/sql-database';
import { EVENT_STORE_MIGRATIONS } from '@runledger/infra/event-store';
import { eventHash } from '@runledger/infra/event-store/hash-chain';
import { eventStoreAppendV2Migration } from '@runledger/infra/event-store/postgres/event-store-v2.schema';
import { rlAppendV3Sql } from '@runledger/infra/event-store/postgres/event-store-v3.schema';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { Contender, EVENT_TYPE, RAW_SCHEMA, dataText, metadataText, openBenchDatabase, ours, ratio, rawMultiRow, rawSingleRow, runInterleaved } from './harness';

const USE_PGLITE = process.argv.includes('--pglite');
const BATCH = process.argv.includes('--batch') ? Number(process.argv[process.argv.indexOf('--batch') + 1]) : 1;
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? (USE_PGLITE ? '1' : '1,8')).split(',').map(Number);

/** rl_events rows with their hash chained in Node; `head` also moves the stream head in the same statement. */
const rows = (db: SqlDatabase, label: string, head: boolean): Contender => ({
  label,
  writer: (batch, tag, writer) => {
    const stream = `bench-${tag}-w${writer}`;
    let revision = -1;
    let prev = '';
    return async () => {
      const values: string[] = [];
      const params: unknown[] = [stream];
      for (let i = 0; i < batch; i++) {
        const e = { streamId: stream, revision: revision + 1 + i, eventId: randomUUID(), type: EVENT_TYPE, dataText, metadataText: metadataText() };
        const hash = eventHash(prev, e);
        const p = params.length;
        params.push(e.revision, e.eventId, e.type, e.dataText, e.metadataText, hash, prev);
        values.push(`($1, $${p + 1}::bigint, $${p + 2}::uuid, $${p + 3}, $${p + 4}::json, $${p + 5}::json, $${p + 6}, $${p + 7})`);
        prev = hash;
      }
      const insert = `INSERT INTO rl_events (stream_id, revision, event_id, type, data, metadata, hash, prev_hash) VALUES ${values.join(', ')}`;
      if (!head) await db.query(insert, params);
      else {
        params.push(revision + batch, prev);
        const [r, h] = [params.length - 1, params.length];
        await db.query(
          revision < 0
            ? `WITH ins AS (${insert}) INSERT INTO rl_streams (stream_id, revision, last_hash) VALUES ($1, $${r}, $${h})`
            : `WITH ins AS (${insert}) UPDATE rl_streams SET revision = $${r}, last_hash = $${h} WHERE stream_id = $1`,
          params,
        );
      }
      revision += batch;
      return batch;
    };
  },
});

/** A contender calling an `rl_append`-shaped function by name, with the arguments PostgresEventStore passes. */
const fn = (db: SqlDatabase, label: string, name: string): Contender => ({
  label,
  writer: (batch, tag, writer) => {
    const stream = `bench-${tag}-w${writer}`;
    let revision = -1;
    return async () => {
      const ids = Array.from({ length: batch }, () => randomUUID());
      const { rows: [row] } = await db.query<{ outcome: string }>(
        `SELECT outcome FROM ${name}($1, $2, $3, $4::uuid[], $5::text[], $6::text[], $7::text[])`,
        [stream, revision < 0 ? 'no_stream' : 'revision', revision, ids, ids.map(() => EVENT_TYPE), ids.map(() => dataText), ids.map(() => metadataText())],
      );
      if (row.outcome !== 'appended') throw new Error(`${name}: ${row.outcome}`);
      revision += batch;
      return batch;
    };
  },
});

const CPU_APPENDS = Number(process.env.BENCH_CPU_APPENDS ?? 2000);
/** utime + stime of a process in µs (clock ticks of 10 ms). */
const processCpuMicros = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
};

/** CPU per event of each contender on one connection, slices in A B C / C B A order; lines to print. */
const measureCpu = async (url: string, make: (db: SqlDatabase) => Contender[]): Promise<string[]> => {
  const db = new PostgresDatabase({ connectionString: url, max: 1, applicationName: 'runledger-bench-cpu' });
  try {
    const contenders = make(db);
    const pid = Number((await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    const totals = new Map<string, { server: number; client: number; events: number }>();
    const slices = 4;
    for (let slice = 0; slice < slices; slice++) {
      for (const c of slice % 2 === 0 ? contenders : [...contenders].reverse()) {
        const step = c.writer(BATCH, `cpu${slice}-${c.label}`, 0);
        await step(); // first append of a stream (and the statement's preparation) outside the measure
        const [s0, c0] = [processCpuMicros(pid), process.cpuUsage()];
        let events = 0;
        for (let i = 0; i < CPU_APPENDS / slices; i++) events += await step();
        const client = process.cpuUsage(c0);
        const t = totals.get(c.label) ?? { server: 0, client: 0, events: 0 };
        totals.set(c.label, { server: t.server + processCpuMicros(pid) - s0, client: t.client + client.user + client.system, events: t.events + events });
      }
    }
    return [...totals].map(
      ([label, t]) => `cpu ${label.padEnd(18)} server ${(t.server / t.events).toFixed(0).padStart(5)} µs/event   client ${(t.client / t.events).toFixed(0).padStart(5)} µs/event`,
    );
  } finally {
    await db.close();
  }
};

const main = async () => {
  const bench = await openBenchDatabase(USE_PGLITE);
  try {
    await migrate(bench.db, EVENT_STORE_MIGRATIONS);
    await bench.db.exec(RAW_SCHEMA);
    // Migration 5's function beside the current one, under another name.
    await bench.db.exec(eventStoreAppendV2Migration.sql.replace('CREATE OR REPLACE FUNCTION rl_append(', 'CREATE FUNCTION rl_append_v5('));
    // Baseline (first): one 1-row INSERT per append, or one multi-row INSERT per batch.
    await bench.db.exec(rlAppendV3Sql('rl_append_v20'));
    if (process.env.BENCH_EXTRA_SQL) await bench.db.exec(readFileSync(process.env.BENCH_EXTRA_SQL, 'utf8'));
    const all = (db: SqlDatabase) => [
      BATCH > 1 ? rawMultiRow(db) : rawSingleRow(db),
      rows(db, 'rows', false),
      rows(db, 'rows+head', true),
      fn(db, 'v5', 'rl_append_v5'),
      fn(db, 'v20', 'rl_append_v20'),
      ...(process.env.BENCH_EXTRA_SQL ? [fn(db, 'extra', 'rl_append_extra')] : []),
      ours(new PostgresEventStore(db), 'current'),
      // The same store without its cross-process NOTIFY (a db that does not say it is PostgreSQL).
      ours(new PostgresEventStore(Object.create(db, { kind: { value: 'bench' } }) as SqlDatabase), 'current-nonotify'),
    ];
    if (process.env.BENCH_CPU === '1') {
      console.log(['', `CPU per event, ${BATCH} event(s) per append, ${CPU_APPENDS} appends per contender on one connection`, ...(await measureCpu(bench.url, all))].join('\n'));
      return;
    }
    const contenders = all(bench.db);
    const baseline = contenders[0];
    process.stderr.write(`bench/event-store/append-cost on ${bench.target}, ${BATCH} event(s) per append\n`);
    const out: string[] = [];
    for (const concurrency of CONCURRENCIES) {
      const name = `append${BATCH > 1 ? `_batch${BATCH}` : ''}_c${concurrency}`;
      const result = await runInterleaved(
        name,
        contenders.map((c) => ({ label: c.label, steps: Array.from({ length: concurrency }, (_, i) => c.writer(BATCH, `${name}-${c.label}`, i)) })),
      );
      const raw = result.rates.get(baseline.label);
      for (const [label, rate] of result.rates) if (label !== baseline.label) out.push(`ratio ${name} ${label}/${baseline.label}: ${ratio(rate, raw)}`);
    }
    console.log(['', ...out].join('\n'));
  } finally {
    await bench.close();
  }
};

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
