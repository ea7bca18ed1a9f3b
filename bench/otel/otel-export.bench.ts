/**
 * bench/otel: the OTLP span export of the log (docs/ARCHITECTURE.md §4g) against a local OTLP/HTTP receiver (a child
 * process on loopback that parses each request and counts its spans), on a fresh PostgreSQL database (`--pglite`: the
 * embedded one in memory):
 *
 *   npx nest build cli && node dist/bench/otel/otel-export.bench.js
 *   BENCH_OTEL_SPANS=100000 BENCH_PAIRS=40 node dist/bench/otel/otel-export.bench.js
 *
 * Where the export runs is where the product runs it: on PostgreSQL the appends come through the api process and the
 * export runs in the worker, a process of its own, so here the writers append from this process and the export runs
 * in a child process (`--export-process`, started once, driven over IPC); on PGlite (one process holds the database)
 * and with BENCH_OTEL_PLACEMENT=inline, in this process.
 * 1. `export_spans_per_s`: a backlog of BENCH_OTEL_SPANS spans (sessions of 50 tool calls in one run: each call a
 *    dispatch and a completion, each run a start and an end) is appended first; then the export subscription
 *    (LogExportRunner with the OTLP adapter, its checkpoint and state table) starts from START, and the time until the
 *    receiver has counted every span gives the rate (target >= 5,000), printed with the CPU time the export spent per
 *    span (reading, folding, serializing, sending, committing: less at the mercy of the machine's load than the rate)
 *    and the whole machine's (/proc/stat: with the receiver's and PostgreSQL's).
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
 *    this process's and the machine's CPU time per append in each kind of slice, and how far the export was behind
 *    the head at the end of each slice with it.
 *    BENCH_OTEL_AA=1 runs the same pairs with no export in either slice (an A/A test): the spread of its pairs, and how
 *    far its median lands from 1, is the bench's own noise on this machine, against which a ratio is read.
 *    BENCH_EXPORT_SCHED=idle starts the export process under SCHED_IDLE (`chrt --idle 0`), to try a lower CPU priority.
 *    BENCH_OTEL_OUTPUT_CHARS=N gives each call an output of N characters and a command of N/5 (default 0), in both parts.
 * A script: it asserts nothing.
 */
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ALL_MIGRATIONS } from '@runledger/infra/database/all-migrations';
import { migrate } from '@runledger/infra/database/migrations';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { NewEvent } from '@runledger/infra/event-store/event-store.port';
import { PostgresDatabase } from '@runledger/infra/database/postgres-database';
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
/** Characters of each call's output (and of its command, a fifth as many), BENCH_OTEL_OUTPUT_CHARS (default 0: `ls`/`echo i` and no output): a real log's outputs run to kilobytes. */
const OUTPUT_CHARS = Math.max(0, Math.round(num('BENCH_OTEL_OUTPUT_CHARS', 0)));
const OUTPUT = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(OUTPUT_CHARS / 27)).slice(0, OUTPUT_CHARS);
/** `base`, followed by a fifth of OUTPUT when outputs are asked for. */
const command = (base: string) => (OUTPUT_CHARS === 0 ? base : `${base} ${OUTPUT.slice(0, OUTPUT_CHARS / 5)}`);
const outputOf = (): Record<string, unknown> => (OUTPUT_CHARS === 0 ? {} : { output: OUTPUT });
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

/** CPU time the whole machine spent busy so far (µs, all cores: /proc/stat's user to steal), NaN where there is no /proc: with nothing else running, what this process, the receiver and PostgreSQL spent together. */
const machineBusyUs = (): number => {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = ticks;
    return ((user + nice + system + irq + softirq + steal) * 1e6) / 100;
  } catch {
    return Number.NaN;
  }
};

const at = () => new Date().toISOString();
const event = (type: string, data: Record<string, unknown>): NewEvent => ({ eventId: randomUUID(), type, data: { ...data, at: at() }, metadata: { actor: 'runledger' } });

/** One session's events: started, a run with CALLS_PER_SESSION observed calls, ended (CALLS_PER_SESSION + 1 spans). */
const sessionEvents = (sessionId: string): NewEvent[] => [
  event('SessionStarted', { sessionId, projectId: 'bench', kind: 'worker', agent: 'claude-code', branch: 'b', baseRef: 'main' }),
  event('AgentRunStarted', { runId: 'r1' }),
  ...Array.from({ length: CALLS_PER_SESSION }, (_, i) => [
    event('ToolCallDispatched', { callId: `c${i}`, tool: 'Bash', input: { command: command(`echo ${i}`) }, mode: 'observed', attempt: 1, runId: 'r1' }),
    event('ToolCallCompleted', { callId: `c${i}`, attempt: 1, exitCode: 0, source: 'hook', ...outputOf() }),
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

/** Where the export runs: as on PostgreSQL (a worker process of its own, apart from the appends' api process), or in this process (PGlite, and BENCH_OTEL_PLACEMENT=inline). */
interface ExportHost {
  readonly placement: 'worker process' | 'this process';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** CPU time (µs, user + system) the export's own process used so far; 0 when it is this process. */
  cpu(): Promise<number>;
  close(): void;
}

const config = { otel: { exportSpans: true, content: 'none' } } as RunledgerConfig;
const exporterTo = (port: number) => new OtlpLogExporter({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }, 'bench');

/** The export in this process (LogExportRunner on this process's database and store). */
const inlineHost = (db: ConstructorParameters<typeof LogExportRunner>[0], store: PostgresEventStore, port: number): ExportHost => {
  let runner: LogExportRunner | null = null;
  return {
    placement: 'this process',
    start: async () => {
      runner = new LogExportRunner(db, store, config, exporterTo(port));
      await runner.onApplicationBootstrap();
    },
    stop: async () => {
      await runner?.beforeApplicationShutdown();
      runner = null;
    },
    cpu: async () => 0,
    close: () => undefined,
  };
};

/** The export in a child process of its own, as the worker runs it beside the api on PostgreSQL: started once (its JIT warms over the runs), driven over IPC. */
const processHost = async (url: string, port: number): Promise<ExportHost> => {
  const env = { ...process.env, BENCH_EXPORT_DB: url, BENCH_EXPORT_PORT: String(port) };
  const child =
    process.env.BENCH_EXPORT_SCHED === 'idle'
      ? spawn('chrt', ['--idle', '0', process.execPath, __filename, '--export-process'], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : fork(__filename, ['--export-process'], { env });
  const ask = (command: string) =>
    new Promise<number>((resolve, reject) => {
      child.once('message', (m: { done: string; cpu: number }) => (m.done === command ? resolve(m.cpu) : reject(new Error(`export process answered ${m.done} to ${command}`))));
      child.send(command);
    });
  await ask('ready');
  return { placement: 'worker process', start: async () => void (await ask('start')), stop: async () => void (await ask('stop')), cpu: () => ask('cpu'), close: () => child.disconnect() };
};

/** `--export-process`: the child of processHost, answering each command (ready, start, stop, cpu) with its CPU so far. */
const exportProcess = async () => {
  const db = new PostgresDatabase({ connectionString: process.env.BENCH_EXPORT_DB!, max: 4, applicationName: 'runledger-bench-export' });
  const store = new PostgresEventStore(db);
  const host = inlineHost(db, store, Number(process.env.BENCH_EXPORT_PORT));
  process.on('message', async (command: string) => {
    if (command === 'start') await host.start();
    if (command === 'stop') await host.stop();
    const used = process.cpuUsage();
    process.send!({ done: command, cpu: used.user + used.system });
  });
  process.on('disconnect', () => void host.stop().then(() => db.close()).then(() => process.exit(0)));
};

const main = async () => {
  const pglite = process.argv.includes('--pglite');
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
  const received = async () => Number(await (await fetch(`http://127.0.0.1:${port}/count`)).text());
  const bench = await openBenchDatabase(pglite, 8);
  let closeHost = (): void => undefined;
  try {
    await migrate(bench.db, ALL_MIGRATIONS);
    const store = new PostgresEventStore(bench.db);
    const host = pglite || process.env.BENCH_OTEL_PLACEMENT === 'inline' ? inlineHost(bench.db, store, port) : await processHost(bench.url, port);
    closeHost = () => host.close();
    console.log(`target: ${bench.target}; receiver: 127.0.0.1:${port} (child process); the export runs in ${host.placement}; outputs of ${OUTPUT_CHARS} characters`);

    // 1. Throughput: the backlog, then the export from START until the receiver holds every span, RUNS times.
    const sessions = Math.ceil(SPANS / (CALLS_PER_SESSION + 1));
    for (let s = 0; s < sessions; s += 1) await store.appendToStream(`session-bench-${s}`, sessionEvents(`bench-${s}`), 'no_stream');
    const expected = sessions * (CALLS_PER_SESSION + 1);
    const throughput: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      await bench.db.query('DELETE FROM rl_checkpoints WHERE subscription_id = $1', [LOG_EXPORT_SUBSCRIPTION]);
      await bench.db.query('DELETE FROM rl_otel_traces');
      const before = await received();
      const started = performance.now();
      const cpu = process.cpuUsage();
      const busy = machineBusyUs();
      const hostCpu = await host.cpu();
      await host.start();
      while ((await received()) - before < expected) await new Promise((r) => setTimeout(r, 20));
      const seconds = (performance.now() - started) / 1000;
      const own = process.cpuUsage(cpu);
      const exportCpu = (await host.cpu()) - hostCpu + own.user + own.system;
      const machine = machineBusyUs() - busy;
      throughput.push(expected / seconds);
      console.log(
        `export run ${run + 1}: ${Math.round(expected / seconds)} spans/s (${expected} spans of ${sessions} sessions in ${seconds.toFixed(2)} s; ` +
          `the export's CPU ${(exportCpu / expected).toFixed(1)} µs/span (${host.placement}, and this one's polling), the machine's ${(machine / expected).toFixed(1)}; load ${loadavg()[0].toFixed(1)})`,
      );
      await host.stop();
    }
    console.log(`export_spans_per_s ${Math.round(median(throughput))} (median of ${RUNS} runs; target >= 5000)`);

    // 2. Appends with and without the live export, in pairs of slices seconds apart.
    let writerSeq = 0;
    const head = async () => (await store.headCheckpoint()).globalPosition;
    /** BENCH_OTEL_AA=1: the "with" slices run without the export too, so the pairs' spread is the bench's own noise (an A/A test). */
    const aa = process.env.BENCH_OTEL_AA === '1';
    /** One slice: appends per second, this process's and the machine's CPU per append (µs) in the counted window, between the edges. */
    const slice = async (withExport: boolean): Promise<{ rate: number; cpuPerAppend: number; machinePerAppend: number; lag: number; exportPerAppend: number }> => {
      withExport &&= !aa;
      if (withExport) {
        await host.start();
        const target = await head();
        while ((await loadLogExportCheckpoint(bench.db)).globalPosition < target) await new Promise((r) => setTimeout(r, 20));
      }
      const exportCpuAtStart = withExport ? await host.cpu() : 0;
      let allAppends = 0;
      const start = performance.now();
      const [from, to, end] = [start + EDGE_SECONDS * 1000, start + (EDGE_SECONDS + SECONDS) * 1000, start + (2 * EDGE_SECONDS + SECONDS) * 1000];
      let appends = 0;
      // The CPU clock is read by the first append past each end of the window (PGlite's appends may never yield to a timer).
      let cpuAtFrom: NodeJS.CpuUsage | undefined;
      let cpu: NodeJS.CpuUsage | undefined;
      let busyAtFrom = Number.NaN;
      let busy = Number.NaN;
      await Promise.all(Array.from({ length: WRITERS }, async () => {
        const stream = `session-live-${(writerSeq += 1)}`;
        let revision = -1;
        const append = async (e: NewEvent) => {
          revision = (await store.appendToStream(stream, [e], revision < 0 ? 'no_stream' : revision)).nextRevision;
          const now = performance.now();
          allAppends += 1;
          if (now >= from && now < to) appends += 1;
          if (!cpuAtFrom && now >= from) [cpuAtFrom, busyAtFrom] = [process.cpuUsage(), machineBusyUs()];
          if (cpuAtFrom && !cpu && now >= to) [cpu, busy] = [process.cpuUsage(cpuAtFrom), machineBusyUs() - busyAtFrom];
        };
        await append(event('AgentRunStarted', { runId: 'r' }));
        for (let i = 0; performance.now() < end; i += 1) {
          await append(event('ToolCallDispatched', { callId: `c${i}`, tool: 'Bash', input: { command: command('ls') }, mode: 'observed', attempt: 1, runId: 'r' }));
          await append(event('ToolCallCompleted', { callId: `c${i}`, attempt: 1, exitCode: 0, source: 'hook', ...outputOf() }));
        }
      }));
      const lag = withExport ? (await head()) - (await loadLogExportCheckpoint(bench.db)).globalPosition : 0;
      const exportPerAppend = withExport ? ((await host.cpu()) - exportCpuAtStart) / Math.max(1, allAppends) : Number.NaN;
      if (withExport) await host.stop();
      return { rate: appends / SECONDS, cpuPerAppend: cpu ? (cpu.user + cpu.system) / Math.max(1, appends) : Number.NaN, machinePerAppend: busy / Math.max(1, appends), lag, exportPerAppend };
    };
    await slice(false); // warm-up, not counted
    const pairs: Array<{ without: number; with: number; cpuWithout: number; cpuWith: number; machineWithout: number; machineWith: number; lag: number; load: number; exportPerAppend: number }> = [];
    for (let i = 0; i < PAIRS; i += 1) {
      const first = i % 2 === 0 ? false : true; // A B, B A, …
      const a = await slice(first);
      const b = await slice(!first);
      const [off, on] = first ? [b, a] : [a, b];
      pairs.push({ without: off.rate, with: on.rate, cpuWithout: off.cpuPerAppend, cpuWith: on.cpuPerAppend, machineWithout: off.machinePerAppend, machineWith: on.machinePerAppend, lag: on.lag, load: loadavg()[0], exportPerAppend: on.exportPerAppend });
    }
    const ratios = pairs.map((p) => p.with / p.without);
    const ratio = median(ratios);
    console.log(`append_per_s without_export ${Math.round(median(pairs.map((p) => p.without)))}, with_export ${Math.round(median(pairs.map((p) => p.with)))} (medians; ${WRITERS} writers, ${PAIRS} pairs of ${SECONDS} s counted between ${EDGE_SECONDS} s edges, A B / B A)`);
    console.log(`pair ratios ${ratios.map((r) => r.toFixed(3)).join(' ')} (load ${Math.min(...pairs.map((p) => p.load)).toFixed(1)}–${Math.max(...pairs.map((p) => p.load)).toFixed(1)})`);
    console.log(`this process's CPU per append: without_export ${median(pairs.map((p) => p.cpuWithout)).toFixed(0)} µs, with_export ${median(pairs.map((p) => p.cpuWith)).toFixed(0)} µs (medians; ratio ${median(pairs.map((p) => p.cpuWith / p.cpuWithout)).toFixed(3)})`);
    console.log(`the machine's CPU per append: without_export ${median(pairs.map((p) => p.machineWithout)).toFixed(0)} µs, with_export ${median(pairs.map((p) => p.machineWith)).toFixed(0)} µs (medians; ratio ${median(pairs.map((p) => p.machineWith / p.machineWithout)).toFixed(3)})`);
    if (host.placement === 'worker process' && !aa) console.log(`the export process's CPU per append while live: ${median(pairs.map((p) => p.exportPerAppend)).toFixed(1)} µs (median; the whole slice, its edges too)`);
    console.log(`export lag at the end of each slice with it: ${pairs.map((p) => p.lag).join(' ')} global positions (it catches up before the next one, untimed)`);
    if (aa) console.log('A/A (BENCH_OTEL_AA=1): no slice ran the export; the ratio below is the noise of the bench itself');
    console.log(`ratio append_with_export_over_without ${ratio.toFixed(3)} (median of ${PAIRS} pairs, quartiles ${quantile(ratios, 0.25).toFixed(3)}–${quantile(ratios, 0.75).toFixed(3)}; slowdown ${((1 - ratio) * 100).toFixed(1)} %; target <= 5 %)`);
  } finally {
    closeHost();
    await bench.close();
    child.kill();
  }
};

(process.argv.includes('--export-process') ? exportProcess() : main()).catch((error) => {
  console.error(error);
  process.exit(1);
});
