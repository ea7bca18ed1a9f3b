/**
 * bench/recovery: how long the worker's boot reconcile takes on 1,000 sessions of 100 events each, as a ratio to a
 * plain read of the same events measured in the same run, on the same fresh database.
 *
 *   npm run bench:recovery                                   # DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test
 *   BENCH_SESSIONS=200 BENCH_EVENTS_PER_SESSION=50 npm run bench:recovery
 *   BENCH_SESSIONS=1000,5000,10000 npm run bench:recovery   # the curve, one fresh database per size
 *
 * Ends with `ratio reconcile_over_read: x.xx` (ReconcileCompleted.ms / read) and `ratio reconcile_wall_over_read: x.xx`
 * (process spawn → ReconcileCompleted visible, / read). A script, not a test: it asserts nothing about time.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SYSTEM_STREAM } from '@runledger/domain';
import { ALL_MIGRATIONS } from '@runledger/infra/database/all-migrations';
import { migrate } from '@runledger/infra/database/migrations';
import { SqlDatabase } from '@runledger/infra/database/sql-database';
import { NewEvent } from '@runledger/infra/event-store/event-store.port';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { loadCheckpoint, RecordedEvent } from '@runledger/infra/event-store';
import { checkpointOf, projectAndCheckpoint, READ_MODELS_SUBSCRIPTION } from '@runledger/infra/read-models';
import { ProjectionRunner } from '../../apps/worker/src/projections/projection-runner';
import { num, openBenchDatabase } from '../event-store/harness';
import { runBench } from '../support/server';

/** Session counts to run, e.g. BENCH_SESSIONS=1000,5000,10000 for the curve (each on a fresh database). */
const SIZES = (process.env.BENCH_SESSIONS ?? '1000').split(',').map((n) => Math.round(Number(n))).filter((n) => n > 0);
const EVENTS_PER_SESSION = Math.max(10, Math.round(num('BENCH_EVENTS_PER_SESSION', 100)));
/** One session in this many is left with a managed and an observed call in flight. */
const IN_FLIGHT_EVERY = 10;
const READ_REPEATS = 3;
const RECONCILE_TIMEOUT_MS = num('BENCH_RECONCILE_TIMEOUT_S', 900) * 1000;
const APPEND_CONCURRENCY = 8;
const PROJECT = 'bench';
const BIN = join(__dirname, '..', '..', '..', 'bin', 'runledger.js');
/** Extra node flags for the spawned worker, e.g. BENCH_WORKER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile its reconcile. */
const WORKER_NODE_ARGS = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** A pid that belonged to a process that has exited and been reaped; with start time '0' it can never look alive. */
const deadPid = (): number => spawnSync('true').pid ?? 2 ** 22 - 1;

const at = () => new Date().toISOString();
const event = (type: string, data: object): NewEvent => ({ eventId: randomUUID(), type, data, metadata: { actor: 'bench:recovery', correlationId: randomUUID() } });

/** The `session-<id>` stream of one session: started, worktree, a runtime that is dead now, an open run, then tool calls. */
export const sessionEvents = (n: number, dataDir: string, pid: number): NewEvent[] => {
  const sessionId = `${PROJECT}-${n}`;
  const branch = `runledger/${sessionId}`;
  const command = ['sh', '-c', 'exec sleep 600'];
  const runId = randomUUID();
  const events: NewEvent[] = [
    event('SessionStarted', { sessionId, projectId: PROJECT, kind: 'worker', agent: 'command', command, branch, baseRef: 'main', at: at() }),
    event('WorktreeCreated', { repo: 'main', path: join(dataDir, 'worktrees', PROJECT, sessionId), branch, baseRef: 'main', at: at() }),
    event('SessionRuntimeLaunched', { runtime: { type: 'process', pid, startTime: '0', command, logPath: join(dataDir, 'logs', `${sessionId}.log`) }, at: at() }),
    event('AgentRunStarted', { runId, prompt: 'work through the backlog', at: at() }),
  ];
  const inFlight = n % IN_FLIGHT_EVERY === 0 ? 2 : 0;
  const pairs = Math.floor((EVENTS_PER_SESSION - events.length - inFlight) / 2);
  for (let i = 1; i <= pairs; i++) {
    const callId = `toolu_${n}_${i}`;
    events.push(
      event('ToolCallDispatched', { callId, tool: 'Bash', input: { command: `npm test -- --shard ${i}` }, mode: 'observed', attempt: 1, runId, at: at() }),
      event('ToolCallCompleted', { callId, attempt: 1, output: { stdout: `PASS shard ${i}\n`, stderr: '' }, exitCode: 0, source: 'hook', at: at() }),
    );
  }
  if (inFlight) {
    events.push(
      event('ToolCallDispatched', { callId: `managed_${n}`, tool: 'shell', input: { command: 'make build' }, mode: 'managed', attempt: 1, at: at() }),
      event('ToolCallDispatched', { callId: `observed_${n}`, tool: 'Bash', input: { command: 'ls' }, mode: 'observed', attempt: 1, runId, at: at() }),
    );
  }
  while (events.length < EVENTS_PER_SESSION) events.push(event('DivergenceDetected', { kind: 'bench_padding', detail: 'padding to the event count', at: at() }));
  return events;
};

const seed = async (store: PostgresEventStore, repo: string, dataDir: string, SESSIONS: number): Promise<number> => {
  const project = [
    event('ProjectRegistered', { projectId: PROJECT, name: PROJECT, kind: 'single-repo', repos: [{ name: 'main', path: repo }], sessionPrefix: PROJECT, at: at() }),
    ...Array.from({ length: SESSIONS }, (_, i) => event('SessionIdAllocated', { sessionId: `${PROJECT}-${i + 1}`, number: i + 1, kind: 'worker', at: at() })),
  ];
  let revision: number | 'no_stream' = 'no_stream';
  for (let i = 0; i < project.length; i += 500) revision = (await store.appendToStream(`project-${PROJECT}`, project.slice(i, i + 500), revision)).nextRevision;
  const pid = deadPid();
  let next = 1;
  let written = 0;
  await Promise.all(
    Array.from({ length: APPEND_CONCURRENCY }, async () => {
      while (next <= SESSIONS) {
        const n = next++;
        const events = sessionEvents(n, dataDir, pid);
        await store.appendToStream(`session-${PROJECT}-${n}`, events, 'no_stream');
        written += events.length;
      }
    }),
  );
  return written;
};

/** Reads every session stream through the store, one after the other (what a reconcile must at least do); ms. */
const readAllSessions = async (store: PostgresEventStore, expected: number, SESSIONS: number): Promise<number> => {
  const t0 = performance.now();
  let count = 0;
  for (let n = 1; n <= SESSIONS; n++) for await (const _ of store.readStream(`session-${PROJECT}-${n}`)) count++;
  const ms = performance.now() - t0;
  if (count !== expected) throw new Error(`read ${count} events, expected ${expected}`);
  return ms;
};

/** Info: one keyset SELECT scan of the same rows (pages of 1,000), the driver parsing the json; ms. */
const selectScan = async (db: SqlDatabase): Promise<number> => {
  const t0 = performance.now();
  let after = 0;
  for (;;) {
    const { rows } = await db.query<{ global_position: string }>(
      `SELECT global_position, stream_id, revision, event_id, type, data, metadata, hash FROM rl_events
       WHERE stream_id LIKE 'session-%' AND global_position > $1 ORDER BY global_position LIMIT 1000`,
      [after],
    );
    if (rows.length === 0) break;
    after = Number(rows[rows.length - 1].global_position);
  }
  return performance.now() - t0;
};

/**
 * Projects the log into the read models as the worker's projection does (projectAndCheckpoint, batches of 500 in one
 * transaction each with the checkpoint), so that the first start finds them current, as after a crash; ms and events.
 */
const projectReadModels = async (db: SqlDatabase, store: PostgresEventStore): Promise<{ ms: number; events: number }> => {
  const t0 = performance.now();
  let from = await loadCheckpoint(db, READ_MODELS_SUBSCRIPTION);
  let events = 0;
  for (;;) {
    const batch: RecordedEvent[] = [];
    for await (const event of store.readAll({ from, maxCount: 500 })) batch.push(event);
    if (batch.length === 0) break;
    await db.transaction((tx) => projectAndCheckpoint(tx, batch, from));
    from = checkpointOf(batch[batch.length - 1]);
    events += batch.length;
  }
  return { ms: performance.now() - t0, events };
};

/** Rebuilds the read models from the whole log as `POST /projections/rebuild` does (ProjectionRunner.rebuild: shadow tables, swap). */
const rebuildReadModels = async (db: SqlDatabase, store: PostgresEventStore): Promise<{ ms: number; events: number }> => {
  const runner = new ProjectionRunner(db, store);
  const t0 = performance.now();
  const { events } = await runner.rebuild();
  const ms = performance.now() - t0;
  await runner.stop(); // rebuild restarts the live subscription it stopped
  return { ms, events };
};

interface ReconcileRun {
  wallMs: number;
  report: Record<string, number> & { phases?: Record<string, number>; loadedFrom?: { snapshots: number; log: number; why: Record<string, number> } };
}

/** The report's phases (ms) as `catchUp 12 ms, snapshots 3 ms, …`, or '' when the worker reports none. */
const phases = (run: ReconcileRun) =>
  (run.report.phases ? ` (${Object.entries(run.report.phases).map(([name, value]) => `${name} ${ms(value)}`).join(', ')})` : '') + loadedFrom(run);

/** Where the worker took the sessions' states from, as `; states: 990 from snapshots, 10 folded (10 revision)`, or ''. */
const loadedFrom = (run: ReconcileRun) => {
  const from = run.report.loadedFrom;
  if (from === undefined) return '';
  const why = Object.entries(from.why).map(([reason, n]) => `${n} ${reason}`).join(', ');
  return `; states: ${from.snapshots} from snapshots, ${from.log} folded${why ? ` (${why})` : ''}`;
};

/** Starts `runledger worker` on the database and waits for its own `ReconcileCompleted`; stops it gracefully after. */
const reconcileOnce = async (db: SqlDatabase, url: string, dataDir: string): Promise<ReconcileRun> => {
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...WORKER_NODE_ARGS, BIN, 'worker'], {
    env: { ...process.env, DATABASE_URL: url, RUNLEDGER_DATA_DIR: dataDir, RUNLEDGER_TOKEN: 'bench-recovery-token-0123456789', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-8000)));
  child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      const last = await new PostgresEventStore(db).lastEventOfType(SYSTEM_STREAM, 'ReconcileCompleted');
      const report = last?.data as ReconcileRun['report'] | undefined;
      if (report !== undefined && report.pid === child.pid) return { wallMs: performance.now() - t0, report };
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`runledger worker exited before ReconcileCompleted:\n${output}`);
      if (performance.now() - t0 > RECONCILE_TIMEOUT_MS) {
        throw new Error(`no ReconcileCompleted from pid ${child.pid} within ${RECONCILE_TIMEOUT_MS / 1000} s (is the boot reconciler wired into the worker?):\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  }
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value: number) => `${Math.round(value).toLocaleString('en-US')} ms`;

interface SizeResult {
  sessions: number;
  events: number;
  read: number;
  scan: number;
  projection: { ms: number; events: number };
  rebuild: { ms: number; events: number };
  first: ReconcileRun;
  second: ReconcileRun;
}

/** One size on its own fresh database: seed, read, project, then two worker starts. */
const runSize = async (SESSIONS: number): Promise<SizeResult> => {
  const bench = await openBenchDatabase(false, APPEND_CONCURRENCY);
  const root = mkdtempSync(join(tmpdir(), 'rl-bench-recovery-'));
  const onInterrupt = () => void bench.close().finally(() => process.exit(130));
  process.once('SIGINT', onInterrupt);
  try {
    const repo = join(root, 'repo');
    execFileSync('git', ['init', '-q', '-b', 'main', repo]);
    const dataDir = join(root, 'data');
    await migrate(bench.db, ALL_MIGRATIONS);
    const store = new PostgresEventStore(bench.db);
    process.stderr.write(`bench/recovery on ${bench.target}: ${SESSIONS} sessions x ${EVENTS_PER_SESSION} events\n`);
    const t0 = performance.now();
    const written = await seed(store, repo, dataDir, SESSIONS);
    process.stderr.write(`  seeded ${written.toLocaleString('en-US')} session events in ${ms(performance.now() - t0)}\n`);
    await bench.db.exec('VACUUM ANALYZE');

    await readAllSessions(store, written, SESSIONS); // warm-up: the reconcile reads warm pages too
    const reads = [];
    for (let i = 0; i < READ_REPEATS; i++) reads.push(await readAllSessions(store, written, SESSIONS));
    const read = median(reads);
    const scan = await selectScan(bench.db);
    process.stderr.write(`  read: ${reads.map(ms).join(', ')}; projecting the read models\n`);
    const projection = await projectReadModels(bench.db, store);
    process.stderr.write(`  projected ${projection.events.toLocaleString('en-US')} events in ${ms(projection.ms)} (live batches of 500); rebuilding\n`);
    const rebuild = await rebuildReadModels(bench.db, store);
    process.stderr.write(`  rebuilt the read models from ${rebuild.events.toLocaleString('en-US')} events in ${ms(rebuild.ms)}; starting runledger worker\n`);

    const first = await reconcileOnce(bench.db, bench.url, dataDir);
    const second = await reconcileOnce(bench.db, bench.url, dataDir);
    return { sessions: SESSIONS, events: written, read, scan, projection, rebuild, first, second };
  } finally {
    process.off('SIGINT', onInterrupt);
    await bench.close();
    rmSync(root, { recursive: true, force: true });
  }
};

const main = async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing`);
  const results: SizeResult[] = [];
  for (const size of SIZES) results.push(await runSize(size));
  const out: string[] = [];
  for (const { sessions, events, read, scan, projection, rebuild, first, second } of results) {
    const r = first.report;
    const expectedInFlight = Math.floor(sessions / IN_FLIGHT_EVERY) * 2;
    const scanRate = events / (scan / 1000);
    const projectionRate = projection.events / (projection.ms / 1000);
    const rebuildRate = rebuild.events / (rebuild.ms / 1000);
    out.push(
      '',
      `sessions ${sessions} x ${EVENTS_PER_SESSION} events = ${events.toLocaleString('en-US')} events (every ${IN_FLIGHT_EVERY}th session with a managed and an observed call in flight)`,
      `read (readStream of every session stream, median of ${READ_REPEATS}): ${ms(read)}`,
      `select_scan (keyset SELECT of the same rows, pages of 1,000): ${ms(scan)} (${Math.round(scanRate).toLocaleString('en-US')} events/s)`,
      `projection (read models from empty, batches of 500 with their checkpoint): ${ms(projection.ms)} (${Math.round(projectionRate).toLocaleString('en-US')} events/s)`,
      `rebuild (ProjectionRunner.rebuild: shadow tables, batches of 5,000, swap): ${ms(rebuild.ms)} (${Math.round(rebuildRate).toLocaleString('en-US')} events/s)`,
      `reconcile (ReconcileCompleted.ms, read models current as after a crash): ${ms(r.ms)}${phases(first)}`,
      `reconcile wall (worker spawn -> ReconcileCompleted visible): ${ms(first.wallMs)}`,
      `reconcile counts: sessions ${r.sessions}, adopted ${r.adopted}, interrupted ${r.interrupted}, relaunched ${r.relaunched}, ` +
        `not resumable ${r.notResumable}, tool calls interrupted ${r.toolCallsInterrupted} (expected ${expectedInFlight}), snapshots rebuilt ${r.snapshotsRebuilt}`,
      `second start (same database, nothing left to interrupt): reconcile ${ms(second.report.ms)}${phases(second)}, wall ${ms(second.wallMs)}`,
      '',
      `ratio ${sessions} reconcile_over_read: ${(r.ms / read).toFixed(2)} (target <= 2)`,
      `ratio ${sessions} reconcile_wall_over_read: ${(first.wallMs / read).toFixed(2)}`,
      `ratio ${sessions} second_start_over_read: ${(second.report.ms / read).toFixed(2)} (target <= 1.2)`,
      `ratio ${sessions} rebuild_over_scan: ${(rebuildRate / scanRate).toFixed(2)} (events/s; target >= 0.5)`,
      `ratio ${sessions} live_projection_over_scan: ${(projectionRate / scanRate).toFixed(2)} (events/s, batches of 500; info)`,
    );
    if (r.sessions !== sessions || r.interrupted !== sessions || r.toolCallsInterrupted !== expectedInFlight) {
      out.push(`warning: the reconcile did not report ${sessions} sessions interrupted and ${expectedInFlight} tool calls interrupted`);
    }
  }
  if (results.length > 1) {
    out.push('', 'curve (reconcile ms per 1,000 sessions; linear when flat):');
    for (const { sessions, first, second } of results) {
      out.push(`curve ${sessions}: first ${ms((first.report.ms * 1000) / sessions)}, second ${ms((second.report.ms * 1000) / sessions)} per 1,000 sessions`);
    }
  }
  console.log(out.join('\n'));
};

runBench(main);
