/**
 * bench/memory: peak RSS of reading the global log (readAll) and of replaying one session (its decider's fold), at
 * several sizes, each in a fresh child process so that every peak is its own. Flat means the reader holds a page, not
 * the log: the RSS of readAll should not grow with the number of events read; a replay holds the session's state (its
 * tool calls), never its events.
 *
 *   npm run build && node dist/bench/memory/memory.bench.js              # DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test
 *   BENCH_READ_SIZES=10000,100000,1000000 BENCH_REPLAY_SIZES=1000,10000,100000 node dist/bench/memory/memory.bench.js
 *
 * Prints a line per measurement (`rss <kind> <size>: <MB> MB peak, <ms> ms`) and a child that only connects, the floor.
 * A script, not a test.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DeciderStreams } from '@runledger/application';
import { sessionDecider } from '@runledger/domain';
import { migrate } from '@runledger/infra/database/migrations';
import { PostgresDatabase } from '@runledger/infra/database/postgres-database';
import { SqlDatabase } from '@runledger/infra/database/sql-database';
import { EVENT_STORE_MIGRATIONS } from '@runledger/infra/event-store';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { DATA, openBenchDatabase } from '../event-store/harness';

const sizes = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').map(Number).filter((n) => n > 0);
const READ_SIZES = sizes('BENCH_READ_SIZES', '10000,100000,1000000');
const REPLAY_SIZES = sizes('BENCH_REPLAY_SIZES', '1000,10000,100000');
const at = '2026-01-01T00:00:00.000Z';

/** Rows straight into rl_events (the hash is not checked by readers): `count` copies of the bench payload, 50,000 per statement. */
const seedLog = async (db: SqlDatabase, count: number) => {
  for (let done = 0; done < count; done += 50_000) {
    const n = Math.min(50_000, count - done);
    await db.query(
      `INSERT INTO rl_events (stream_id, revision, event_id, type, data, metadata, hash, prev_hash)
       SELECT 'bench-log-' || ((g + $2) / 1000), (g + $2) % 1000, gen_random_uuid(), 'ToolCallCompleted', $1::json, '{"schemaVersion":1}'::json, 'x', 'x'
       FROM generate_series(0, $3 - 1) AS g`,
      [JSON.stringify(DATA), done, n],
    );
  }
};

/** A session stream of `count` events: started, then observed tool calls dispatched and completed. */
const seedSession = async (db: SqlDatabase, stream: string, count: number) => {
  const sessionId = stream.slice('session-'.length);
  const events: [string, unknown][] = [['SessionStarted', { sessionId, projectId: 'bench', kind: 'worker', agent: 'external', branch: `runledger/${sessionId}`, baseRef: 'main', at }]];
  for (let i = 1; events.length < count; i++) {
    const callId = `toolu_${i}`;
    events.push(['ToolCallDispatched', { callId, tool: 'Bash', input: { command: `npm test -- --shard ${i}` }, mode: 'observed', attempt: 1, at }]);
    if (events.length < count) events.push(['ToolCallCompleted', { callId, attempt: 1, output: { stdout: `PASS shard ${i}\n`, stderr: '' }, exitCode: 0, source: 'hook', at }]);
  }
  for (let from = 0; from < events.length; from += 5_000) {
    const chunk = events.slice(from, from + 5_000);
    await db.query(
      `INSERT INTO rl_events (stream_id, revision, event_id, type, data, metadata, hash, prev_hash)
       SELECT $1, $2::bigint + e.n - 1, ($3::uuid[])[e.n], e.type, e.data::json, '{"schemaVersion":1}'::json, 'x', 'x'
       FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS e(type, data, n)`,
      [stream, from, chunk.map(() => randomUUID()), chunk.map(([type]) => type), chunk.map(([, data]) => JSON.stringify(data))],
    );
  }
};

/** In the child: one measurement; prints `{ ms, count }` as JSON (its peak RSS is read by the parent). */
const child = async (kind: string, url: string, arg: string) => {
  const db = new PostgresDatabase({ connectionString: url, max: 2, applicationName: 'runledger-bench-memory' });
  const store = new PostgresEventStore(db);
  const t0 = performance.now();
  let count = 0;
  try {
    if (kind === 'read') for await (const _ of store.readAll({ maxCount: Number(arg) })) count++;
    if (kind === 'replay') count = (await new DeciderStreams(store).load(arg, sessionDecider)).revision + 1;
    if (kind === 'idle') await db.query('SELECT 1');
  } finally {
    await db.close();
  }
  console.log(JSON.stringify({ ms: performance.now() - t0, count }));
};

/** Runs one child and returns its result with its peak RSS (MB), from `/usr/bin/time`-free rusage of the child. */
const measure = (kind: string, url: string, arg: string) => {
  const run = spawnSync(process.execPath, ['-e', `process.on('exit',()=>process.stderr.write('maxrss '+process.resourceUsage().maxRSS+'\\n'));require(${JSON.stringify(__filename)})`, '--', '--child', kind, url, arg], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_MEMORY_CHILD: '1' },
  });
  const rss = /maxrss (\d+)/.exec(run.stderr)?.[1];
  if (run.status !== 0 || !rss) throw new Error(`child ${kind} ${arg} failed:\n${run.stderr}`);
  return { ...(JSON.parse(run.stdout.trim().split('\n').pop()!) as { ms: number; count: number }), rssMb: Number(rss) / 1024 };
};

const main = async () => {
  const bench = await openBenchDatabase(false, 2);
  try {
    await migrate(bench.db, EVENT_STORE_MIGRATIONS);
    const maxRead = Math.max(...READ_SIZES);
    process.stderr.write(`bench/memory on ${bench.target}: seeding ${maxRead.toLocaleString('en-US')} log events and sessions of ${REPLAY_SIZES.join(', ')} events\n`);
    await seedLog(bench.db, maxRead);
    for (const size of REPLAY_SIZES) await seedSession(bench.db, `session-mem-${size}`, size);
    await bench.db.exec('VACUUM ANALYZE');
    const out = [''];
    const idle = measure('idle', bench.url, '0');
    out.push(`rss floor (a child that only connects): ${idle.rssMb.toFixed(1)} MB peak`);
    for (const size of READ_SIZES) {
      const r = measure('read', bench.url, String(size));
      out.push(`rss read_all ${size}: ${r.rssMb.toFixed(1)} MB peak, ${Math.round(r.ms)} ms (${r.count} events)`);
    }
    for (const size of REPLAY_SIZES) {
      const r = measure('replay', bench.url, `session-mem-${size}`);
      out.push(`rss replay_session ${size}: ${r.rssMb.toFixed(1)} MB peak, ${Math.round(r.ms)} ms (${r.count} events)`);
    }
    console.log(out.join('\n'));
  } finally {
    await bench.close();
  }
};

if (process.env.BENCH_MEMORY_CHILD === '1') {
  const i = process.argv.indexOf('--child');
  child(process.argv[i + 1], process.argv[i + 2], process.argv[i + 3]).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
