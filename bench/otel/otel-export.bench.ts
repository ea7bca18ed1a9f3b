/**
 * bench/otel: the OTLP span export of the log (docs/ARCHITECTURE.md §4g) against a local OTLP/HTTP receiver (a child
 * process on loopback that parses each request and counts its spans), on a fresh PostgreSQL database (`--pglite`: the
 * embedded one in memory):
 *
 *   npx nest build cli && node dist/bench/otel/otel-export.bench.js
 *   BENCH_OTEL_SPANS=100000 BENCH_PAIRS=40 node dist/bench/otel/otel-export.bench.js
 *
 * 1. `export_spans_per_s`: a backlog of BENCH_OTEL_SPANS spans (sessions of 50 tool calls in one run: each call a
 *    dispatch and a completion, each run a start and an end) is appended first; then the export subscription
 *    (LogExportRunner with the OTLP adapter, its checkpoint and state table) starts from START, and the time until the
 *    receiver has counted every span gives the rate (target >= 5,000), printed with the CPU time this process spent per
 *    span (reading, folding, serializing, sending, committing: less at the mercy of the machine's load than the rate).
 *    BENCH_OTEL_RUNS times over the same backlog (the checkpoint and the state table emptied in between): each run's
 *    rate, then the median.
 * 2. `ratio append_with_export_over_without`: 4 writers append observed calls (dispatch, then completion, one event per
 *    append); BENCH_PAIRS pairs of slices, one without and one with the live export running (alternating which comes
 *    first: A B, B A, …), after one warm-up slice that is not counted. Before a slice with the export, the export is
 *    started and catches up on what the slices before appended, untimed. A slice appends for BENCH_SECONDS between two
 *    edges of LOG_EXPORT_COALESCE_MS + 0.5 s and counts the appends of the middle BENCH_SECONDS only: there the live
 *    export is in its steady state (a batch about every LOG_EXPORT_COALESCE_MS, so a window of 4 s holds about two),
 *    neither starting up nor leaving its last batch to after the slice. Each pair gives a ratio of the appends per second (with over without, the two slices seconds
 *    apart, so the load of this shared machine changes little within a pair); the median of the pairs' ratios is the
 *    figure (target >= 0.95, i.e. the export slows appends by <= 5 %), printed with every pair's ratio, the quartiles,
 *    this process's CPU time per append in each kind of slice (the export's share of the process, less at the mercy of
 *    the machine's load), and how far the export was behind the head at the end of each slice with it.
 * A script: it asserts nothing.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ALL_MIGRATIONS } from '@runledger/infra/database/all-migrations';
import { migrate } from '@runledger/infra/database/migrations';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { NewEvent } from '@runledger/infra/event-store/event-store.port';
import { loadLogExportCheckpoint, LOG_EXPORT_SUBSCRIPTION, OtlpLogExporter } from '@runledger/infra/telemetry';
import type { RunledgerConfig } from '@runledger/infra/config';
import { LOG_EXPORT_COALESCE_MS, LogExportRunner } from '../../apps/worker/src/telemetry/log-export.runner';
import { num, openBenchDatabase } from '../event-store/harness';

const SPANS = Math.round(num('BENCH_OTEL_SPANS', 40_000));
const RUNS = Math.max(1, Math.round(num('BENCH_OTEL_RUNS', 3)));
const SECONDS = num('BENCH_SECONDS', 4);
/** Appends before and after each slice's counted window (s): the live export is in its steady state within it (its first batch comes a LOG_EXPORT_COALESCE_MS after appends begin). */
const EDGE_SECONDS = LOG_EXPORT_COALESCE_MS / 1000 + 0.5;
const PAIRS = Math.max(1, Math.round(num('BENCH_PAIRS', 12)));
const WRITERS = 4;
const CALLS_PER_SESSION = 50;

/** The receiver, in a child process: counts the spans of every POST /v1/traces, answers GET /count. */
const RECEIVER = `
const http = require('node:http');
let spans = 0;
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    if (req.method === 'GET') return res.end(String(spans));
    for (const rs of JSON.parse(body).resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans += (ss.spans ?? []).length;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

const at = () => new Date().toISOString();
const event = (type: string, data: Record<string, unknown>): NewEvent => ({ eventId: randomUUID(), type, data: { ...data, at: at() }, metadata: { actor: 'runledger' } });

/** One session's events: started, a run with CALLS_PER_SESSION observed calls, ended (CALLS_PER_SESSION + 1 spans). */
const sessionEvents = (sessionId: string): NewEvent[] => [
  event('SessionStarted', { sessionId, projectId: 'bench', kind: 'worker', agent: 'claude-code', branch: 'b', baseRef: 'main' }),
  event('AgentRunStarted', { runId: 'r1' }),
  ...Array.from({ length: CALLS_PER_SESSION }, (_, i) => [
    event('ToolCallDispatched', { callId: `c${i}`, tool: 'Bash', input: { command: `echo ${i}` }, mode: 'observed', attempt: 1, runId: 'r1' }),
    event('ToolCallCompleted', { callId: `c${i}`, attempt: 1, exitCode: 0, source: 'hook' }),
  ]).flat(),
  event('AgentRunCompleted', { runId: 'r1' }),
];

/** The q-quantile of `xs` (0.5: the median), interpolated between the two nearest values. */
const quantile = (xs: number[], q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (at - low);
};
const median = (xs: number[]): number => quantile(xs, 0.5);

const main = async () => {
  const pglite = process.argv.includes('--pglite');
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
  const received = async () => Number(await (await fetch(`http://127.0.0.1:${port}/count`)).text());
  const bench = await openBenchDatabase(pglite, 8);
  try {
    await migrate(bench.db, ALL_MIGRATIONS);
    const store = new PostgresEventStore(bench.db);
    const config = { otel: { exportSpans: true, content: 'none' } } as RunledgerConfig;
    const exporter = () => new OtlpLogExporter({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }, 'bench');
    console.log(`target: ${bench.target}; receiver: 127.0.0.1:${port} (child process)`);

    // 1. Throughput: the backlog, then the export from START until the receiver holds every span, RUNS times.
    const sessions = Math.ceil(SPANS / (CALLS_PER_SESSION + 1));
    for (let s = 0; s < sessions; s += 1) await store.appendToStream(`session-bench-${s}`, sessionEvents(`bench-${s}`), 'no_stream');
    const expected = sessions * (CALLS_PER_SESSION + 1);
    const throughput: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      await bench.db.query('DELETE FROM rl_checkpoints WHERE subscription_id = $1', [LOG_EXPORT_SUBSCRIPTION]);
      await bench.db.query('DELETE FROM rl_otel_traces');
      const before = await received();
      const runner = new LogExportRunner(bench.db, store, config, exporter());
      const started = performance.now();
      const cpu = process.cpuUsage();
      await runner.onApplicationBootstrap();
      while ((await received()) - before < expected) await new Promise((r) => setTimeout(r, 20));
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      throughput.push(expected / seconds);
      console.log(
        `export run ${run + 1}: ${Math.round(expected / seconds)} spans/s (${expected} spans of ${sessions} sessions in ${seconds.toFixed(2)} s; ` +
          `this process's CPU ${((used.user + used.system) / expected).toFixed(1)} µs/span; load ${loadavg()[0].toFixed(1)})`,
      );
      await runner.beforeApplicationShutdown();
    }
    console.log(`export_spans_per_s ${Math.round(median(throughput))} (median of ${RUNS} runs; target >= 5000)`);

    // 2. Appends with and without the live export, in pairs of slices seconds apart.
    let writerSeq = 0;
    const head = async () => (await store.headCheckpoint()).globalPosition;
    /** One slice: appends per second and this process's CPU per append (µs) in the counted window, between the edges. */
    const slice = async (withExport: boolean): Promise<{ rate: number; cpuPerAppend: number; lag: number }> => {
      let live: LogExportRunner | null = null;
      if (withExport) {
        live = new LogExportRunner(bench.db, store, config, exporter());
        await live.onApplicationBootstrap();
        const target = await head();
        while ((await loadLogExportCheckpoint(bench.db)).globalPosition < target) await new Promise((r) => setTimeout(r, 20));
      }
      const start = performance.now();
      const [from, to, end] = [start + EDGE_SECONDS * 1000, start + (EDGE_SECONDS + SECONDS) * 1000, start + (2 * EDGE_SECONDS + SECONDS) * 1000];
      let appends = 0;
      // The CPU clock is read by the first append past each end of the window (PGlite's appends may never yield to a timer).
      let cpuAtFrom: NodeJS.CpuUsage | undefined;
      let cpu: NodeJS.CpuUsage | undefined;
      await Promise.all(Array.from({ length: WRITERS }, async () => {
        const stream = `session-live-${(writerSeq += 1)}`;
        let revision = -1;
        const append = async (e: NewEvent) => {
          revision = (await store.appendToStream(stream, [e], revision < 0 ? 'no_stream' : revision)).nextRevision;
          const now = performance.now();
          if (now >= from && now < to) appends += 1;
          if (!cpuAtFrom && now >= from) cpuAtFrom = process.cpuUsage();
          if (cpuAtFrom && !cpu && now >= to) cpu = process.cpuUsage(cpuAtFrom);
        };
        await append(event('AgentRunStarted', { runId: 'r' }));
        for (let i = 0; performance.now() < end; i += 1) {
          await append(event('ToolCallDispatched', { callId: `c${i}`, tool: 'Bash', input: { command: 'ls' }, mode: 'observed', attempt: 1, runId: 'r' }));
          await append(event('ToolCallCompleted', { callId: `c${i}`, attempt: 1, exitCode: 0, source: 'hook' }));
        }
      }));
      const lag = live ? (await head()) - (await loadLogExportCheckpoint(bench.db)).globalPosition : 0;
      await live?.beforeApplicationShutdown();
      return { rate: appends / SECONDS, cpuPerAppend: cpu ? (cpu.user + cpu.system) / Math.max(1, appends) : Number.NaN, lag };
    };
    await slice(false); // warm-up, not counted
    const pairs: Array<{ without: number; with: number; cpuWithout: number; cpuWith: number; lag: number; load: number }> = [];
    for (let i = 0; i < PAIRS; i += 1) {
      const first = i % 2 === 0 ? false : true; // A B, B A, …
      const a = await slice(first);
      const b = await slice(!first);
      const [off, on] = first ? [b, a] : [a, b];
      pairs.push({ without: off.rate, with: on.rate, cpuWithout: off.cpuPerAppend, cpuWith: on.cpuPerAppend, lag: on.lag, load: loadavg()[0] });
    }
    const ratios = pairs.map((p) => p.with / p.without);
    const ratio = median(ratios);
    console.log(`append_per_s without_export ${Math.round(median(pairs.map((p) => p.without)))}, with_export ${Math.round(median(pairs.map((p) => p.with)))} (medians; ${WRITERS} writers, ${PAIRS} pairs of ${SECONDS} s counted between ${EDGE_SECONDS} s edges, A B / B A)`);
    console.log(`pair ratios ${ratios.map((r) => r.toFixed(3)).join(' ')} (load ${Math.min(...pairs.map((p) => p.load)).toFixed(1)}–${Math.max(...pairs.map((p) => p.load)).toFixed(1)})`);
    console.log(`this process's CPU per append: without_export ${median(pairs.map((p) => p.cpuWithout)).toFixed(0)} µs, with_export ${median(pairs.map((p) => p.cpuWith)).toFixed(0)} µs (medians; ratio ${median(pairs.map((p) => p.cpuWith / p.cpuWithout)).toFixed(3)})`);
    console.log(`export lag at the end of each slice with it: ${pairs.map((p) => p.lag).join(' ')} global positions (it catches up before the next one, untimed)`);
    console.log(`ratio append_with_export_over_without ${ratio.toFixed(3)} (median of ${PAIRS} pairs, quartiles ${quantile(ratios, 0.25).toFixed(3)}–${quantile(ratios, 0.75).toFixed(3)}; slowdown ${((1 - ratio) * 100).toFixed(1)} %; target <= 5 %)`);
  } finally {
    await bench.close();
    child.kill();
  }
};

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
