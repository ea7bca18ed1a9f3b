/**
 * bench/notifications: does a slow webhook slow the hook path? One real `runledger start` (PGlite by default;
 * `--postgres` for a fresh database on DATABASE_URL's server), two projects observed through HTTP hooks:
 *
 * - `plain`: no webhook;
 * - `webhook`: a webhook whose receiver (in this process) takes BENCH_WEBHOOK_DELAY_MS (default 5,000) to answer.
 *
 * Each round sends, per project, a Notification hook (`idle_prompt`: a `waiting_input` notification, POSTed to the slow
 * receiver for `webhook`) and then a PreToolUse/PostToolUse pair, BENCH_NOTIFY_CALLS (default 200) rounds, the projects
 * alternating in slices of 20 (A B / B A) so the machine's noise falls on both. Prints the PreToolUse p50/p99 of each,
 * `ratio webhook_over_plain p50` (target <= 1.1), and the notifications the slow receiver had received (they queue and
 * retry off the hook path). A script, not a test: it asserts nothing.
 *
 *   npx nest build cli && node dist/bench/notifications/notifications.bench.js [--postgres]
 */
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { num } from '../event-store/harness';
import { BenchEngine, closeBenchRun, expectStatus, makeBenchRepo, percentile, runBench, startBenchRun } from '../support/server';

const CALLS = Math.round(num('BENCH_NOTIFY_CALLS', 200));
const DELAY_MS = Math.round(num('BENCH_WEBHOOK_DELAY_MS', 5000));
const SLICE = 20;

const main = async (): Promise<void> => {
  const engine: BenchEngine = process.argv.includes('--postgres') || process.env.BENCH_STORE === 'postgres' ? 'postgres' : 'pglite';
  let received = 0;
  const slow = createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => {
      received++;
      res.writeHead(204).end();
    }, DELAY_MS));
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/hook`;
  const run = await startBenchRun(engine);
  const { api, installation } = run;
  try {
    const projects = { plain: 'bn-plain', webhook: 'bn-hook' } as const;
    const repos: Record<string, string> = {};
    for (const [name, id] of Object.entries(projects)) {
      repos[name] = makeBenchRepo(join(installation.root, `repo-${name}`));
      expectStatus(`register ${id}`, await api.post('/projects', { id, name: id, repoPath: repos[name] }), 201);
    }
    expectStatus('webhooks', await api.put(`/projects/${projects.webhook}/webhooks`, { webhooks: [{ url: webhookUrl }] }), 200);
    const agentSession: Record<string, string> = { plain: `cc-plain-${process.pid}`, webhook: `cc-hook-${process.pid}` };
    for (const name of Object.keys(projects)) {
      expectStatus('SessionStart', await api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: agentSession[name], cwd: repos[name] }), 200);
    }
    const pre: Record<string, number[]> = { plain: [], webhook: [] };
    const round = async (name: 'plain' | 'webhook', i: number): Promise<void> => {
      const common = { session_id: agentSession[name], cwd: repos[name] };
      expectStatus('Notification', await api.post('/hooks/claude-code', { ...common, hook_event_name: 'Notification', notification_type: 'idle_prompt', message: `waiting ${i}` }), 200);
      const call = { ...common, tool_name: 'Bash', tool_use_id: `toolu_${name}_${i}`, tool_input: { command: `echo ${i}` } };
      const answered = expectStatus('PreToolUse', await api.post('/hooks/claude-code', { ...call, hook_event_name: 'PreToolUse' }), 200);
      pre[name].push(answered.ms);
      expectStatus('PostToolUse', await api.post('/hooks/claude-code', { ...call, hook_event_name: 'PostToolUse', tool_response: { stdout: `${i}\n`, stderr: '', interrupted: false } }), 200);
    };
    for (let done = 0, slice = 0; done < CALLS; done += SLICE, slice++) {
      const order: Array<'plain' | 'webhook'> = slice % 2 === 0 ? ['plain', 'webhook'] : ['webhook', 'plain'];
      for (const name of order) for (let i = done; i < Math.min(done + SLICE, CALLS); i++) await round(name, i);
    }
    const listed = await api.get(`/notifications?projectId=${projects.webhook}&limit=500`);
    const deliveries = (listed.body.notifications as Array<{ deliveries: Array<{ status: string; attempts: unknown[] }> }>).flatMap((n) => n.deliveries);
    const p = (name: string, q: number) => percentile(pre[name], q);
    process.stdout.write(`PreToolUse round trip (ms), ${CALLS} per project, ${engine}, webhook answering after ${DELAY_MS} ms\n`);
    process.stdout.write(`  plain     p50 ${p('plain', 50).toFixed(2)}  p99 ${p('plain', 99).toFixed(2)}\n`);
    process.stdout.write(`  webhook   p50 ${p('webhook', 50).toFixed(2)}  p99 ${p('webhook', 99).toFixed(2)}\n`);
    process.stdout.write(`ratio webhook_over_plain p50 ${(p('webhook', 50) / p('plain', 50)).toFixed(3)} (target <= 1.1)\n`);
    process.stdout.write(`ratio webhook_over_plain p99 ${(p('webhook', 99) / p('plain', 99)).toFixed(3)}\n`);
    process.stdout.write(`notifications queued for the slow webhook: ${deliveries.length}; answered by it so far: ${received}; delivered: ${deliveries.filter((d) => d.status === 'delivered').length}\n`);
  } finally {
    slow.closeAllConnections();
    slow.close();
    await closeBenchRun(run);
  }
};

runBench(main);
