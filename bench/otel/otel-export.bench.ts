/**
 * bench/otel: the OTLP span export of the log (docs/ARCHITECTURE.md §4g) against a local OTLP/HTTP receiver (a child
 * process on loopback that parses each request and counts its spans), on a fresh PostgreSQL database (`--pglite`: the
 * embedded one in memory):
 *
 *   npx nest build cli && node dist/bench/otel/otel-export.bench.js
 *   BENCH_OTEL_SPANS=100000 node dist/bench/otel/otel-export.bench.js
 *
 * 1. `export_spans_per_s`: a backlog of BENCH_OTEL_SPANS spans (sessions of 50 tool calls in one run: each call a
 *    dispatch and a completion, each run a start and an end) is appended first; then the export subscription
 *    (LogExportRunner with the OTLP adapter, its checkpoint and state table) starts, and the time until the receiver
 *    has counted every span gives the rate (target >= 5,000).
 * 2. `ratio append_with_export_over_without`: 4 writers append observed calls (dispatch, then completion, one event per
 *    append) for BENCH_SECONDS per slice, slices alternating without and with the live export running (A B B A …), in
 *    the same run; the ratio of the appends per second (target >= 0.95, i.e. the export slows appends by <= 5 %).
 * A script: it asserts nothing.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ALL_MIGRATIONS } from '@runledger/infra/database/all-migrations';
import { migrate } from '@runledger/infra/database/migrations';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { NewEvent } from '@runledger/infra/event-store/event-store.port';
import { OtlpLogExporter } from '@runledger/infra/telemetry';
import type { RunledgerConfig } from '@runledger/infra/config';
import { LogExportRunner } from '../../apps/worker/src/telemetry/log-export.runner';
import { num, openBenchDatabase } from '../event-store/harness';

const SPANS = Math.round(num('BENCH_OTEL_SPANS', 40_000));
const SECONDS = num('BENCH_SECONDS', 3);
const SLICES = Math.max(2, Math.round(num('BENCH_SLICES', 6)));
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
    const exporter = new OtlpLogExporter({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }, 'bench');
    console.log(`target: ${bench.target}; receiver: 127.0.0.1:${port} (child process)`);

    // 1. Throughput: the backlog, then the export from START until the receiver holds every span.
    const sessions = Math.ceil(SPANS / (CALLS_PER_SESSION + 1));
    for (let s = 0; s < sessions; s += 1) await store.appendToStream(`session-bench-${s}`, sessionEvents(`bench-${s}`), 'no_stream');
    const expected = sessions * (CALLS_PER_SESSION + 1);
    const runner = new LogExportRunner(bench.db, store, config, exporter);
    const started = performance.now();
    await runner.onApplicationBootstrap();
    while ((await received()) < expected) await new Promise((r) => setTimeout(r, 20));
    const seconds = (performance.now() - started) / 1000;
    console.log(`export_spans_per_s ${Math.round(expected / seconds)} (${expected} spans of ${sessions} sessions in ${seconds.toFixed(2)} s; target >= 5000)`);
    await runner.beforeApplicationShutdown();

    // 2. Appends with and without the live export, alternating slices in the same run.
    let live: LogExportRunner | null = null;
    let writerSeq = 0;
    const slice = async (withExport: boolean): Promise<number> => {
      if (withExport) {
        live = new LogExportRunner(bench.db, store, config, new OtlpLogExporter({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }, 'bench'));
        await live.onApplicationBootstrap();
      }
      const deadline = performance.now() + SECONDS * 1000;
      let appends = 0;
      await Promise.all(Array.from({ length: WRITERS }, async () => {
        const stream = `session-live-${(writerSeq += 1)}`;
        let revision = -1;
        const append = async (e: NewEvent) => {
          revision = (await store.appendToStream(stream, [e], revision < 0 ? 'no_stream' : revision)).nextRevision;
          appends += 1;
        };
        await append(event('AgentRunStarted', { runId: 'r' }));
        for (let i = 0; performance.now() < deadline; i += 1) {
          await append(event('ToolCallDispatched', { callId: `c${i}`, tool: 'Bash', input: { command: 'ls' }, mode: 'observed', attempt: 1, runId: 'r' }));
          await append(event('ToolCallCompleted', { callId: `c${i}`, attempt: 1, exitCode: 0, source: 'hook' }));
        }
      }));
      const rate = appends / SECONDS;
      if (live) await (live as LogExportRunner).beforeApplicationShutdown();
      live = null;
      return rate;
    };
    const rates = { without: [] as number[], with: [] as number[] };
    for (let i = 0; i < SLICES; i += 1) {
      const withExport = i % 4 === 1 || i % 4 === 2; // A B B A
      rates[withExport ? 'with' : 'without'].push(await slice(withExport));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ratio = mean(rates.with) / mean(rates.without);
    console.log(`append_per_s without_export ${Math.round(mean(rates.without))}, with_export ${Math.round(mean(rates.with))} (${WRITERS} writers, ${SLICES} slices of ${SECONDS} s, A B B A)`);
    console.log(`ratio append_with_export_over_without ${ratio.toFixed(3)} (slowdown ${((1 - ratio) * 100).toFixed(1)} %; target <= 5 %)`);
  } finally {
    await bench.close();
    child.kill();
  }
};

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
