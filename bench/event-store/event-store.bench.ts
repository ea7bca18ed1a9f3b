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
import { migrate } from '@runledger/infra/database/migrations';
import { EVENT_STORE_MIGRATIONS } from '@runledger/infra/event-store';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { RedactionDoor, redactingEventStore } from '@runledger/infra/redaction/redaction-door';
import {
  CONCURRENCY,
  Contender,
  EmmettStore,
  PAGE,
  RAW_SCHEMA,
  RAW_TABLE,
  READ_EVENTS,
  Result,
  SECONDS,
  SLICES,
  WARMUP_SECONDS,
  emmett,
  fmt,
  openBenchDatabase,
  openEmmett,
  ours,
  ratio,
  rawMultiRow,
  rawSingleRow,
  readOurs,
  readRaw,
  runInterleaved,
  workloads,
} from './harness';
import { runBench } from '../support/server';

const USE_PGLITE = process.argv.includes('--pglite') || process.env.BENCH_STORE === 'pglite';

const main = async () => {
  const bench = await openBenchDatabase(USE_PGLITE);
  const { db } = bench;
  let emmettStore: EmmettStore | undefined;
  const cleanup = async () => {
    await emmettStore?.close();
    await bench.close();
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    await migrate(db, EVENT_STORE_MIGRATIONS);
    await db.exec(RAW_SCHEMA);
    const store = new PostgresEventStore(db);
    if (!USE_PGLITE) emmettStore = await openEmmett(bench.url);

    process.stderr.write(
      `bench/event-store on ${bench.target}: ${SECONDS}s per contender and workload (${SLICES} interleaved slices, ${WARMUP_SECONDS}s warm-up)\n`,
    );
    // The same store behind the redaction door a server appends through (invariant 12): 3 configured secrets and 12
    // secret-store values, none of which occurs in the payload (the common case: every string scanned, nothing replaced).
    const values = Array.from({ length: 12 }, (_, i) => `bench-secret-store-value-${i}-${'x'.repeat(i)}`);
    const door = new RedactionDoor(['bench-configured-secret-1', 'bench-api-token-0123456789', 'bench-db-password'], { generation: 1, knownValues: () => values });
    const contenders: Contender[] = [ours(store), ours(redactingEventStore(store, door), 'ours_door'), rawSingleRow(db), ...(emmettStore ? [emmett(emmettStore)] : [])];
    const multiRow = rawMultiRow(db);
    const results: Result[] = [];
    // PGlite is one backend: concurrency 1 only.
    for (const { batch, concurrency, name } of workloads(USE_PGLITE ? [1] : [1, CONCURRENCY])) {
      const entries = [...contenders, ...(batch > 1 ? [multiRow] : [])].map((c) => ({
        label: c.label,
        steps: Array.from({ length: concurrency }, (_, i) => c.writer(batch, `${name}-${c.label}`, i)),
      }));
      results.push(await runInterleaved(name, entries));
    }

    // read_all: the same number of rows from each table, in pages of the same size, one reader.
    const count = async (table: string) => Number((await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    const readCount = Math.min(READ_EVENTS, await count('rl_events'), await count(RAW_TABLE));
    await db.exec('VACUUM ANALYZE');
    results.push(
      await runInterleaved('read_all', [
        { label: 'ours', steps: [readOurs(store, readCount)] },
        { label: 'raw', steps: [readRaw(db, readCount)] },
      ]),
    );

    const out = ['', `events per second (read_all: first ${readCount.toLocaleString('en-US')} events, pages of ${PAGE})`];
    out.push(`${'workload'.padEnd(20)}${'ours'.padStart(10)}${'raw'.padStart(10)}${'emmett'.padStart(10)}${'ours/raw'.padStart(10)}${'ours/emmett'.padStart(13)}`);
    for (const r of results) {
      const [o, raw, e] = ['ours', 'raw', 'emmett'].map((k) => r.rates.get(k));
      out.push(`${r.workload.padEnd(20)}${fmt(o, 10)}${fmt(raw, 10)}${fmt(e, 10)}${ratio(o, raw).padStart(10)}${(e === undefined ? '-' : ratio(o, e)).padStart(13)}`);
    }
    out.push('');
    for (const r of results) {
      const multi = r.rates.get('raw_multirow');
      if (multi !== undefined) {
        out.push(`info ${r.workload} raw_multirow10: ${Math.round(multi)} events/s (one 10-row INSERT per transaction), ours/that: ${ratio(r.rates.get('ours'), multi)}`);
      }
    }
    out.push('');
    // Batch workloads compare with one multi-row INSERT per transaction; single appends with a 1-row INSERT.
    for (const r of results) {
      const batch = r.rates.has('raw_multirow');
      const target = r.workload === 'read_all' ? 1.0 : batch ? 0.8 : USE_PGLITE ? 0.8 : 0.85;
      out.push(`ratio ${r.workload}: ${ratio(r.rates.get('ours'), r.rates.get(batch ? 'raw_multirow' : 'raw'))} (vs ${batch ? 'raw_multirow10' : 'raw'}; target >= ${target})`);
    }
    for (const r of results) if (r.rates.has('emmett')) out.push(`ratio_vs_emmett ${r.workload}: ${ratio(r.rates.get('ours'), r.rates.get('emmett'))} (target >= 1.5)`);
    for (const r of results) if (r.rates.has('ours_door')) out.push(`ratio_door ${r.workload}: ${ratio(r.rates.get('ours_door'), r.rates.get('ours'))} (through the redaction door / without)`);
    console.log(out.join('\n'));
  } finally {
    await cleanup();
  }
};

runBench(main);
