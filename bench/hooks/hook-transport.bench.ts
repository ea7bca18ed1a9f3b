/**
 * bench/hooks: the round trip of one Claude Code hook through each transport runledger can generate, on one real
 * `runledger start` (PGlite by default; `--postgres` for a fresh database on DATABASE_URL's server):
 *
 * - `http`: the hook input POSTed to `/api/v1/hooks/claude-code` (what Claude Code does for an HTTP hook);
 * - `command`: `node bin/runledger.js hook claude-code --url … --session …` run as a child process with the input on
 *   stdin, timed to its exit (what Claude Code does for a command hook: process start included);
 * - `node_start`: `node -e 0`, the floor of any command hook written in Node, measured in the same run.
 *
 *   npm run bench:hooks                 # PGlite, BENCH_HOOK_CALLS (default 100) PreToolUse + PostToolUse pairs each
 *   npm run bench:hooks -- --postgres
 *
 * Prints p50/p99 (ms) per transport and `ratio command_over_http`. A script, not a test: it asserts nothing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { num } from '../event-store/harness';
import { BENCH_TOKEN, benchClient, BenchEngine, benchInstallation, expectStatus, makeBenchRepo, percentile } from '../support/server';

const CALLS = Math.round(num('BENCH_HOOK_CALLS', 100));
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

const main = async (): Promise<void> => {
  const engine: BenchEngine = process.argv.includes('--postgres') || process.env.BENCH_ENGINE === 'postgres' ? 'postgres' : 'pglite';
  const installation = await benchInstallation(engine);
  const server = await installation.start();
  const api = benchClient(server.url);
  try {
    const repo = makeBenchRepo(join(installation.root, 'repo'));
    expectStatus('register project', await api.post('/projects', { name: 'bench', repoPath: repo }), 201);
    expectStatus('SessionStart', await api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: 'cc-bench', cwd: repo }), 200);
    const sessionId = (expectStatus('GET /sessions', await api.get('/sessions?agentSessionId=cc-bench'), 200).body.sessions as { id: string }[])[0].id;
    const headers = { 'x-runledger-session': sessionId };
    process.stdout.write(`hook transports on ${engine}: ${CALLS} PreToolUse + PostToolUse pairs per transport, session ${sessionId}\n`);

    const times: Record<'http' | 'command' | 'node_start', number[]> = { http: [], command: [], node_start: [] };
    const hookArgv = [process.execPath, BIN, 'hook', 'claude-code', '--url', server.url, '--session', sessionId, '--hold', '30'];
    // Interleaved, so load from other processes on the machine hits every transport alike; a warm-up pair first.
    for (let i = 0; i <= CALLS; i++) {
      for (const input of hookPair('cc-bench', repo, i, 'http')) {
        const r = expectStatus(input.hook_event_name, await api.post('/hooks/claude-code', input, headers), 200);
        if (i > 0) times.http.push(r.ms);
      }
      for (const input of hookPair('cc-bench', repo, i, 'command')) {
        const r = await timedRun(hookArgv, JSON.stringify(input), { RUNLEDGER_TOKEN: BENCH_TOKEN });
        if (input.hook_event_name === 'PreToolUse' && !r.stdout.includes('"allow"')) throw new Error(`command PreToolUse did not allow: ${r.stdout}`);
        if (i > 0) times.command.push(r.ms);
      }
      const floor = await timedRun([process.execPath, '-e', '0'], '', {});
      if (i > 0) times.node_start.push(floor.ms);
    }
    process.stdout.write(`\ntransport      p50 (ms)  p99 (ms)\n`);
    for (const [name, values] of Object.entries(times)) {
      process.stdout.write(`${name.padEnd(12)} ${fmt(percentile(values, 50))}  ${fmt(percentile(values, 99))}\n`);
    }
    const p50 = (name: keyof typeof times) => percentile(times[name], 50);
    process.stdout.write(`\nratio command_over_http p50: ${(p50('command') / p50('http')).toFixed(2)}\n`);
    process.stdout.write(`ratio command_over_node_start p50: ${(p50('command') / p50('node_start')).toFixed(2)}\n`);
  } finally {
    api.close();
    await server.stop();
    await installation.destroy();
  }
};

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
