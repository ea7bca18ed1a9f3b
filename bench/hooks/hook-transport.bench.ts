/**
 * bench/hooks: the round trip of one Claude Code hook through each transport runledger can generate, on one real
 * `runledger start` (PGlite by default; `--postgres` for a fresh database on DATABASE_URL's server):
 *
 * - `http`: the hook input POSTed to `/api/v1/hooks/claude-code` (what Claude Code does for an HTTP hook);
 * - `shim`: the default command hook (hookRunner), `bash bin/runledger-hook claude-code --event … --url … --session …`
 *   (HTTP over bash's /dev/tcp to this loopback server), run as Claude Code runs a command hook (`/bin/sh -c <command>`,
 *   the input on stdin), timed to its exit;
 * - `node`: the same through the Node hook (`node bin/runledger.js hook claude-code …`), the fallback where the shim cannot run;
 * - `sh_start`: `/bin/sh -c true`, the floor of any command hook (the process start Claude Code pays), and
 *   `node_start`: `node -e 0`, the floor of any command hook written in Node, both measured in the same run.
 *
 *   npm run bench:hooks                 # PGlite, BENCH_HOOK_CALLS (default 100) PreToolUse + PostToolUse pairs each
 *   npm run bench:hooks -- --postgres
 *
 * Prints p50/p99 (ms) per transport, `ratio shim_over_http` p50 (target <= 2) and p99 (target <= 3), and the Node
 * hook's ratio. Then the hold: the server stops, a shim PreToolUse starts, the server comes back on the same port
 * BENCH_HOOK_DOWN_MS (default 5,000) later; prints how long the hook held and what it answered.
 *
 * Then the hook round trip on a long session: one session grown to BENCH_HOOK_SESSION_CALLS (default 1,000) observed
 * calls over HTTP hooks; its last BENCH_HOOK_MEASURED (default 200) PreToolUse round trips (answered allow once
 * `ToolCallDispatched` commits) are timed, each beside a POST to a bare Nest echo route (an empty Nest app in the bench
 * process, same HTTP client: the floor of any Nest route). Then the server stops and the same `ToolCallDispatched` event
 * is appended BENCH_HOOK_MEASURED times to the same session stream through `PostgresEventStore.appendToStream` in
 * process (a bare append: no HTTP, no decision). Prints p50/p99 of the three, `hook p50` (target <= 5 ms) and
 * `ratio hook_over_bare_append p50` (target <= 1.5). A script, not a test: it asserts nothing.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { hookRunner } from '@runledger/application/agents/hook-runner';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { num } from '../event-store/harness';
import { BENCH_TOKEN, benchClient, BenchEngine, BenchInstallation, closeBenchRun, expectStatus, makeBenchRepo, percentile, runBench, startBenchRun } from '../support/server';

const CALLS = Math.round(num('BENCH_HOOK_CALLS', 100));
const SESSION_CALLS = Math.round(num('BENCH_HOOK_SESSION_CALLS', 1000));
const MEASURED = Math.round(num('BENCH_HOOK_MEASURED', 200));
const DOWN_MS = Math.round(num('BENCH_HOOK_DOWN_MS', 5000));
const BIN = join(__dirname, '..', '..', '..', 'bin', 'runledger.js');

/** Runs argv with `input` on stdin; resolves with the wall time to exit (ms) and its stdout; rejects on a non-zero exit. */
const timedRun = (argv: string[], input: string, env: Record<string, string>): Promise<{ ms: number; stdout: string }> =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('exit', (code) => (code === 0 ? resolve({ ms: performance.now() - started, stdout }) : reject(new Error(`${argv.join(' ')} exited ${code}: ${stderr}`))));
    child.stdin.on('error', () => {}); // a process that reads no stdin (sh -c true) may exit before it is written
    child.stdin.end(input);
  });

const hookPair = (agentSessionId: string, repo: string, i: number, transport: string) => {
  const common = { session_id: agentSessionId, cwd: repo, tool_name: 'Bash', tool_use_id: `toolu_${transport}_${i}`, tool_input: { command: `echo ${i}` } };
  return [
    { ...common, hook_event_name: 'PreToolUse' },
    { ...common, hook_event_name: 'PostToolUse', tool_response: { stdout: `${i}\n`, stderr: '', interrupted: false } },
  ];
};

const fmt = (ms: number): string => ms.toFixed(1).padStart(8);

/** The bare Nest route: echoes its JSON body, nothing else. */
@Controller()
class EchoController {
  @Post('api/v1/echo')
  @HttpCode(200)
  echo(@Body() body: unknown): unknown {
    return body;
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

/** Starts the bare Nest echo app on an ephemeral port; resolves with its base URL and a close function. */
const startEcho = async (): Promise<{ url: string; close: () => Promise<void> }> => {
  const app = await NestFactory.create(EchoModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
};

/**
 * The hook round trip on a SESSION_CALLS-call session beside the bare echo route, then the bare append of the same
 * event with the server stopped (see the header). Stops `server`.
 */
const longSessionRoundTrip = async (installation: BenchInstallation, server: { url: string; stop(): Promise<void> }, repo: string): Promise<void> => {
  const api = benchClient(server.url);
  const echo = await startEcho();
  const echoApi = benchClient(echo.url);
  const agentSessionId = `cc-long-${randomUUID()}`;
  const times: Record<'hook' | 'echo' | 'bare_append', number[]> = { hook: [], echo: [], bare_append: [] };
  let sessionId: string;
  try {
    expectStatus('SessionStart', await api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: agentSessionId, cwd: repo }), 200);
    sessionId = (expectStatus('GET /sessions', await api.get(`/sessions?agentSessionId=${agentSessionId}`), 200).body.sessions as { id: string }[])[0].id;
    const headers = { 'x-runledger-session': sessionId };
    process.stdout.write(`\nhook round trip on a ${SESSION_CALLS}-call session (${sessionId}), the last ${MEASURED} PreToolUse timed beside a bare Nest echo route\n`);
    for (let i = 1; i <= SESSION_CALLS; i++) {
      const [pre, post] = hookPair(agentSessionId, repo, i, 'long');
      const answer = expectStatus('PreToolUse', await api.post('/hooks/claude-code', pre, headers), 200);
      if (i > SESSION_CALLS - MEASURED) {
        if (!JSON.stringify(answer.body).includes('"allow"')) throw new Error(`PreToolUse did not allow: ${JSON.stringify(answer.body)}`);
        times.hook.push(answer.ms);
        times.echo.push(expectStatus('echo', await echoApi.post('/echo', pre), 200).ms);
      }
      expectStatus('PostToolUse', await api.post('/hooks/claude-code', post, headers), 200);
    }
  } finally {
    api.close();
    echoApi.close();
    await echo.close();
    await server.stop();
  }
  // The bare append: the session's last ToolCallDispatched, appended again (new event id) expecting the stream's revision.
  const db = await installation.open();
  try {
    const store = new PostgresEventStore(db);
    const stream = `session-${sessionId}`;
    let dispatched: { type: string; data: unknown; metadata: Record<string, unknown> } | undefined;
    for await (const event of store.readStream(stream, { direction: 'backwards' })) {
      if (event.type === 'ToolCallDispatched') {
        dispatched = event;
        break;
      }
    }
    if (!dispatched) throw new Error(`no ToolCallDispatched in ${stream}`);
    let revision = await store.streamRevision(stream);
    for (let i = 0; i < MEASURED; i++) {
      const started = performance.now();
      revision = (await store.appendToStream(stream, [{ eventId: randomUUID(), type: dispatched.type, data: dispatched.data, metadata: dispatched.metadata }], revision)).nextRevision;
      times.bare_append.push(performance.now() - started);
    }
  } finally {
    await db.close();
  }
  process.stdout.write(`\nround trip        p50 (ms)  p99 (ms)\n`);
  for (const [name, values] of Object.entries(times)) process.stdout.write(`${name.padEnd(15)} ${fmt(percentile(values, 50))}  ${fmt(percentile(values, 99))}\n`);
  const p50 = (name: keyof typeof times) => percentile(times[name], 50);
  process.stdout.write(`\nhook p50 on the ${SESSION_CALLS}-call session: ${p50('hook').toFixed(2)} ms (target <= 5), p99 ${percentile(times.hook, 99).toFixed(2)} ms\n`);
  process.stdout.write(`ratio hook_over_bare_append p50: ${(p50('hook') / p50('bare_append')).toFixed(2)} (target <= 1.5)\n`);
  process.stdout.write(`ratio hook_over_echo p50: ${(p50('hook') / p50('echo')).toFixed(2)}\n`);
};

const main = async (): Promise<void> => {
  const engine: BenchEngine = process.argv.includes('--postgres') || process.env.BENCH_ENGINE === 'postgres' ? 'postgres' : 'pglite';
  const run = await startBenchRun(engine);
  const { installation, api } = run;
  try {
    const repo = makeBenchRepo(join(installation.root, 'repo'));
    expectStatus('register project', await api.post('/projects', { name: 'bench', repoPath: repo }), 201);
    expectStatus('SessionStart', await api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: 'cc-bench', cwd: repo }), 200);
    const sessionId = (expectStatus('GET /sessions', await api.get('/sessions?agentSessionId=cc-bench'), 200).body.sessions as { id: string }[])[0].id;
    const headers = { 'x-runledger-session': sessionId };
    process.stdout.write(`hook transports on ${engine}: ${CALLS} PreToolUse + PostToolUse pairs per transport, session ${sessionId}\n`);

    const times: Record<'http' | 'shim' | 'node' | 'sh_start' | 'node_start', number[]> = { http: [], shim: [], node: [], sh_start: [], node_start: [] };
    const shim = hookRunner(run.server.url);
    if (shim.kind !== 'shim') throw new Error(`the default hook runner here is ${shim.kind}, not the shim: is bash on PATH?`);
    const runners = { shim: shim.argv, node: [process.execPath, BIN, 'hook'] };
    // As Claude Code runs a command hook: `/bin/sh -c <the command of the event's settings>`.
    const hookArgv = (runner: keyof typeof runners, event: string, url: string): string[] =>
      ['/bin/sh', '-c', [...runners[runner], 'claude-code', '--event', event, '--url', url, '--session', sessionId, '--hold', '30'].join(' ')];
    // Interleaved, so load from other processes on the machine hits every transport alike; a warm-up pair first.
    for (let i = 0; i <= CALLS; i++) {
      for (const input of hookPair('cc-bench', repo, i, 'http')) {
        const r = expectStatus(input.hook_event_name, await api.post('/hooks/claude-code', input, headers), 200);
        if (i > 0) times.http.push(r.ms);
      }
      for (const runner of ['shim', 'node'] as const) {
        for (const input of hookPair('cc-bench', repo, i, runner)) {
          const r = await timedRun(hookArgv(runner, input.hook_event_name, run.server.url), JSON.stringify(input), { RUNLEDGER_TOKEN: BENCH_TOKEN });
          if (input.hook_event_name === 'PreToolUse' && !r.stdout.includes('"allow"')) throw new Error(`${runner} PreToolUse did not allow: ${r.stdout}`);
          if (i > 0) times[runner].push(r.ms);
        }
      }
      const shFloor = await timedRun(['/bin/sh', '-c', 'true'], '', {});
      const floor = await timedRun([process.execPath, '-e', '0'], '', {});
      if (i > 0) times.sh_start.push(shFloor.ms);
      if (i > 0) times.node_start.push(floor.ms);
    }
    process.stdout.write(`\ntransport      p50 (ms)  p99 (ms)\n`);
    for (const [name, values] of Object.entries(times)) {
      process.stdout.write(`${name.padEnd(12)} ${fmt(percentile(values, 50))}  ${fmt(percentile(values, 99))}\n`);
    }
    const p50 = (name: keyof typeof times) => percentile(times[name], 50);
    const p99 = (name: keyof typeof times) => percentile(times[name], 99);
    process.stdout.write(`\nratio shim_over_http p50: ${(p50('shim') / p50('http')).toFixed(2)} (target <= 2)\n`);
    process.stdout.write(`ratio shim_over_http p99: ${(p99('shim') / p99('http')).toFixed(2)} (target <= 3)\n`);
    process.stdout.write(`ratio node_over_http p50: ${(p50('node') / p50('http')).toFixed(2)} (the Node hook, the fallback where the shim cannot run)\n`);
    process.stdout.write(`ratio node_over_node_start p50: ${(p50('node') / p50('node_start')).toFixed(2)}\n`);
    process.stdout.write(`shim p50 - http p50 - sh_start p50: ${(p50('shim') - p50('http') - p50('sh_start')).toFixed(1)} ms (the shim's own cost: bash, cat, the connection)\n`);
    api.close();

    // The hold: runledger away for DOWN_MS while a shim PreToolUse waits; it comes back on the same port.
    const port = Number(new URL(run.server.url).port);
    await run.server.stop();
    const [pre] = hookPair('cc-bench', repo, CALLS + 1, 'hold');
    const held = timedRun(hookArgv('shim', 'PreToolUse', run.server.url), JSON.stringify(pre), { RUNLEDGER_TOKEN: BENCH_TOKEN });
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    run.server = await installation.start(port);
    const answer = await held;
    if (!answer.stdout.includes('"allow"')) throw new Error(`the held PreToolUse did not allow: ${answer.stdout}`);
    process.stdout.write(`\nhold: runledger away ${(DOWN_MS / 1000).toFixed(1)} s; the shim PreToolUse held ${(answer.ms / 1000).toFixed(2)} s, then answered allow (exit 0)\n`);
    await longSessionRoundTrip(installation, run.server, repo);
  } finally {
    await closeBenchRun(run);
  }
};

runBench(main);
