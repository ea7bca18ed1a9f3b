/**
 * bench/load: 8 clients posting observed tool calls and their results (Claude Code's PreToolUse and PostToolUse hooks,
 * each client its own session) to a real `runledger start`, on PGlite (the embedded default) and on PostgreSQL, each
 * beside the raw append rate of the same engine (`PostgresEventStore.appendToStream`, 1 event, 8 writers) measured in
 * the same run.
 *
 *   npm run bench:load                     # both engines (PostgreSQL: DATABASE_URL, else the local server)
 *   npm run bench:load -- --pglite         # one engine only (or --postgres)
 *   BENCH_LOAD_SECONDS=30 npm run bench:load
 *
 * Prints per engine `requests_per_s` (target >= 300), `p50_ms` / `p99_ms` (target p99 <= 100), the durable checkpoints
 * per second (two per call) and the raw append rate. A script, not a test: it asserts nothing about time.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { migrate, PgliteDatabase, PostgresDatabase, SqlDatabase } from '@runledger/infra/database';
import { ALL_MIGRATIONS } from '@runledger/infra/database/all-migrations';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { measure, newEvents, num } from '../event-store/harness';
import { BenchEngine, closeBenchRun, expectStatus, freshPostgres, makeBenchRepo, percentile, runBench, startBenchRun } from '../support/server';

const CLIENTS = Math.round(num('BENCH_LOAD_CLIENTS', 8));
const SECONDS = num('BENCH_LOAD_SECONDS', 20);
const WARMUP_SECONDS = num('BENCH_WARMUP_SECONDS', 2);
const RAW_SECONDS = num('BENCH_RAW_SECONDS', 5);

interface LoadResult {
  engine: BenchEngine;
  requests: number;
  seconds: number;
  latencies: number[];
  errors: number;
}

/** 8 sessions, each fed by one client: PreToolUse then PostToolUse, as fast as answers come, for SECONDS after a warm-up. */
const runLoad = async (engine: BenchEngine): Promise<LoadResult> => {
  const run = await startBenchRun(engine, CLIENTS * 2);
  const { installation, api } = run;
  try {
    const repo = makeBenchRepo(join(installation.root, 'repo'));
    expectStatus('register project', await api.post('/projects', { name: 'load', repoPath: repo }), 201);
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        const agentSessionId = `cc-load-${c}-${randomUUID()}`;
        expectStatus('SessionStart', await api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: agentSessionId, cwd: repo }), 200);
        return agentSessionId;
      }),
    );
    const latencies: number[] = [];
    let requests = 0;
    let errors = 0;
    const t0 = performance.now() + WARMUP_SECONDS * 1000;
    const t1 = t0 + SECONDS * 1000;
    await Promise.all(
      clients.map(async (agentSessionId) => {
        for (let i = 1; performance.now() < t1; i++) {
          const base = { session_id: agentSessionId, cwd: repo, tool_name: 'Bash', tool_use_id: `toolu_${agentSessionId}_${i}`, tool_input: { command: `npm test -- --shard ${i}` } };
          for (const body of [
            { ...base, hook_event_name: 'PreToolUse' },
            { ...base, hook_event_name: 'PostToolUse', tool_response: { stdout: `PASS shard ${i}\n`, stderr: '', interrupted: false } },
          ]) {
            const response = await api.post('/hooks/claude-code', body);
            const now = performance.now();
            if (response.status !== 200) errors += 1;
            if (now >= t0 && now < t1) {
              requests += 1;
              latencies.push(response.ms);
            }
          }
        }
      }),
    );
    return { engine, requests, seconds: SECONDS, latencies, errors };
  } finally {
    await closeBenchRun(run);
  }
};

/** The same engine's raw append rate: 1-event appends by 8 writers, each on its own stream with the revision it knows. */
const rawAppendRate = async (engine: BenchEngine): Promise<number> => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  if (engine === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'rl-bench-raw-'));
    db = await PgliteDatabase.open(dir);
    cleanup = async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    };
  } else {
    const fresh = await freshPostgres();
    db = new PostgresDatabase({ connectionString: fresh.url, max: CLIENTS });
    cleanup = async () => {
      await db.close();
      await fresh.drop();
    };
  }
  try {
    await migrate(db, ALL_MIGRATIONS);
    const store = new PostgresEventStore(db);
    const steps = Array.from({ length: CLIENTS }, (_, w) => {
      const stream = `raw-${randomUUID()}-${w}`;
      let revision: number | 'no_stream' = 'no_stream';
      return async () => {
        revision = (await store.appendToStream(stream, newEvents(1), revision)).nextRevision;
        return 1;
      };
    });
    return await measure(steps, 1, RAW_SECONDS);
  } finally {
    await cleanup();
  }
};

const main = async (): Promise<void> => {
  const only = process.argv.includes('--pglite') ? ['pglite'] : process.argv.includes('--postgres') ? ['postgres'] : ['pglite', 'postgres'];
  process.stdout.write(`load: ${CLIENTS} clients, ${SECONDS} s after ${WARMUP_SECONDS} s warm-up, observed calls over Claude Code hooks\n`);
  for (const engine of only as BenchEngine[]) {
    const load = await runLoad(engine);
    const raw = await rawAppendRate(engine);
    const rate = load.requests / load.seconds;
    process.stdout.write(
      [
        `\n[${engine}]`,
        `requests_per_s: ${rate.toFixed(1)} (target >= 300)`,
        `p50_ms: ${percentile(load.latencies, 50).toFixed(2)}`,
        `p99_ms: ${percentile(load.latencies, 99).toFixed(2)} (target <= 100)`,
        `durable_checkpoints_per_s: ${rate.toFixed(1)} (one committed event per request)`,
        `raw_append_per_s (same engine, 1 event, ${CLIENTS} writers, in process): ${raw.toFixed(1)}`,
        `ratio requests_over_raw_append: ${(rate / raw).toFixed(3)}`,
        `errors: ${load.errors}`,
      ].join('\n') + '\n',
    );
  }
};

runBench(main);
