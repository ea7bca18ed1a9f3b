import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PRICE_TABLE } from '@runledger/domain';
import { describeWithClaude, prepareClaudeHome, readTranscript, transcriptsOf } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'webhooks-e2e-admin-token-0123456789';

/** A webhook receiver: keeps every POST (headers and exact body) and answers 204; `port` may be given to come back on it. */
const receiver = async (port = 0): Promise<{ server: Server; url: string; port: number; received: Array<{ headers: IncomingHttpHeaders; body: string }> }> => {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${bound}/hook`, port: bound, received };
};

/** Checks a POST's signature as a receiver would: HMAC-SHA256 of "<timestamp>.<body>" under the signing secret. */
const signatureValid = (secret: string, headers: IncomingHttpHeaders, body: string): boolean =>
  headers['x-runledger-signature'] === `sha256=${createHmac('sha256', secret).update(`${String(headers['x-runledger-timestamp'])}.${body}`).digest('hex')}`;

/**
 * Every Claude model at $1000 per million tokens (the project's own price over each shipped Claude entry, so it wins
 * whatever model the CLI asks for): 3,000 input tokens cost $3, few enough that Claude Code's context stays small.
 */
const PRICE = { inputPerMTok: 1000, outputPerMTok: 1000, cacheReadPerMTok: 1000, cacheCreationPerMTok: 1000 };
const PRICES = Object.fromEntries(['claude-', ...Object.keys(DEFAULT_PRICE_TABLE.models).filter((m) => m.startsWith('claude'))].map((m) => [m, PRICE]));
const big = { input_tokens: 3000, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
const small = { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

/** The tool results of a transcript, by the tool_use id they answer. */
const toolResults = (file: string): Map<string, string> => {
  const out = new Map<string, string>();
  for (const line of readTranscript(file)) {
    if (line.type !== 'user' || !Array.isArray(line.message?.content)) continue;
    for (const block of line.message.content) if (block.type === 'tool_result') out.set(block.tool_use_id, typeof block.content === 'string' ? block.content : JSON.stringify(block.content));
  }
  return out;
};

/**
 * docs/ARCHITECTURE.md §4g and §4i with the real Claude Code CLI against the scripted Messages API, on one server:
 * - budgets: a model call whose usage spends an enforced budget stops the agent's next tool call with the reason in its
 *   transcript, the crossings are in the log and notified, a spawn is refused 409 BUDGET.EXCEEDED; raising the budget
 *   lets the resumed run's next call go on;
 * - webhooks: a repository whose settings ask before `echo needs…` makes Claude Code send PermissionRequest; the receiver
 *   gets a signed `permission_request` notification, and a receiver that was down gets it once it is back, every failed
 *   attempt recorded.
 */
describeWithClaude('budgets and notifications with a real Claude Code run', () => {
  let root: string;
  let fake: FakeAnthropicApi;
  let server: ServerProcess;
  let claudeHome: string;
  const closers: Server[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-notify-'));
    fake = await startFakeAnthropicApi();
    const home = prepareClaudeHome(join(root, 'home'), { apiUrl: fake.url });
    claudeHome = home.home;
    server = await startServerProcess({ ...home.env, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
  });
  afterAll(async () => {
    for (const s of closers) s.closeAllConnections(), s.close();
    await server?.stop('SIGKILL');
    await fake?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('blocks the call after the expensive model call, refuses spawns, and lets the run go on once raised', async () => {
    const api = apiClient(server.url, TOKEN);
    const cli = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN };
    expect((await api.post('/projects', { id: 'bg', name: 'bg', repoPath: makeRepo(join(root, 'repo')), prices: PRICES })).status).toBe(201);
    // Bad input names its field and changes nothing.
    expect((await api.raw('PUT', '/projects/bg/budget', { usd: -1, enforce: true })).body).toMatchObject({ statusCode: 400, details: expect.objectContaining({ field: 'usd' }) });
    expect((await api.raw('PUT', '/projects/bg/budget', { usd: 1, enforce: 'yes' })).status).toBe(400);
    expect((await api.post('/sessions', { projectId: 'bg', agent: 'command', command: ['true'], budgetUsd: 0 })).body).toMatchObject({ statusCode: 400, details: expect.objectContaining({ field: 'budgetUsd' }) });
    expect((await api.get('/projects/bg/budget')).body).toMatchObject({ budget: null });
    const set = await runCli(['budget', 'bg', '--usd', '2', '--period', 'total', '--enforce', '--json'], cli);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ budget: { usd: 2, period: 'total', enforce: true }, spentUsd: 0, exceeded: false });

    fake.push(
      { tools: [{ name: 'Bash', input: { command: 'echo one > first.txt', description: 'first call' } }], usage: big },
      { tools: [{ name: 'Bash', input: { command: 'echo two > second.txt', description: 'second call' } }], usage: small },
      { text: 'Stopped: the budget is spent.', usage: small },
    );
    const spawned = await api.post('/sessions', { projectId: 'bg', agent: 'claude-code', prompt: 'write two files' });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id as string;
    const worktree = spawned.body.worktrees[0].path as string;
    await eventually(async () => (await api.get(`/sessions/${id}`)).body.status === 'exited' || null, 'the agent to finish', 90_000, 200);

        const [transcript] = transcriptsOf(claudeHome, worktree);
    const uses = readTranscript(transcript).flatMap((l) => (l.type === 'assistant' && Array.isArray(l.message?.content) ? l.message.content.filter((b: { type: string }) => b.type === 'tool_use') : []));
    expect(uses).toHaveLength(2);
    const results = toolResults(transcript);
    expect(results.get(uses[1].id)).toMatch(/BUDGET\.EXCEEDED.*project bg spent \$3\.\d+ of its \$2\.0000 budget/);
    expect(results.get(uses[0].id)).not.toMatch(/BUDGET/);
    expect(existsSync(join(worktree, 'first.txt'))).toBe(true);
    expect(existsSync(join(worktree, 'second.txt'))).toBe(false);

    const crossings = ((await api.get('/events?from=0&limit=1000')).body.events as Array<{ type: string; streamId: string; data: Record<string, unknown> }>)
      .filter((e) => e.type === 'BudgetThresholdCrossed');
    expect(crossings.map((e) => [e.streamId, e.data.threshold, e.data.scope])).toEqual([['project-bg', 80, 'project'], ['project-bg', 100, 'project']]);
    // Each crossing is notified (the notifier raises it off the hook path).
    const notified = await eventually(async () => {
      const list = (await api.get('/notifications?projectId=bg')).body.notifications as Array<{ kind: string; summary: string }>;
      return list.filter((n) => n.kind === 'budget_crossed').length === 2 ? list : null;
    }, 'the budget notifications', 15_000, 200);
    expect(notified.map((n) => n.summary)).toContain('project bg crossed 100% of its $2 budget ($3 spent): its agents are stopped');
    const refused = await api.post('/sessions', { projectId: 'bg', agent: 'command', command: ['true'] });
    expect(refused.body).toMatchObject({ statusCode: 409, code: 'BUDGET.EXCEEDED', details: { projectId: 'bg', budgetUsd: 2, scope: 'project' } });

    // Raised: the resumed run's next call goes on.
    expect(JSON.parse((await runCli(['budget', 'bg', '--usd', '100', '--period', 'total', '--enforce', '--json'], cli)).stdout)).toMatchObject({ exceeded: false });
    fake.push(
      { tools: [{ name: 'Bash', input: { command: 'echo three > third.txt', description: 'after the raise' } }], usage: small },
      { text: 'Done.', usage: small },
    );
    expect((await api.post(`/sessions/${id}/resume`, { prompt: 'go on' })).status).toBe(200);
    await eventually(async () => (existsSync(join(worktree, 'third.txt')) && (await api.get(`/sessions/${id}`)).body.status === 'exited') || null, 'the resumed run', 90_000, 200);
    expect((await api.post('/sessions', { projectId: 'bg', agent: 'command', command: ['true'] })).status).toBe(201);
  });

  it('signs the notification, and delivers it to a receiver that was down once it is back, recording each attempt', async () => {
    const api = apiClient(server.url, TOKEN);
    const repo = makeRepo(join(root, 'repo-wh'));
    mkdirSync(join(repo, '.claude'));
    writeFileSync(join(repo, '.claude', 'settings.json'), JSON.stringify({ permissions: { ask: ['Bash(echo needs*)'] } }));
    execFileSync('git', ['-C', repo, 'add', '-A']);
    execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'ask before echo needs']);
    expect((await api.post('/projects', { id: 'wh', name: 'wh', repoPath: repo })).status).toBe(201);

    const up = await receiver();
    closers.push(up.server);
    const down = await receiver();
    await new Promise((resolve) => down.server.close(resolve)); // its port answers nothing until it comes back
    expect((await api.raw('PUT', '/projects/wh/webhooks', { webhooks: [{ url: 'ftp://example.com/x' }] })).body).toMatchObject({ statusCode: 400, details: { field: 'webhooks[0].url' } });
    expect((await api.raw('PUT', '/projects/wh/webhooks', { webhooks: [{ url: up.url, kinds: ['nope'] }] })).status).toBe(400);
    const set = await api.raw('PUT', '/projects/wh/webhooks', { webhooks: [{ url: up.url, kinds: ['permission_request'] }, { url: down.url }] });
    expect(set.status).toBe(200);
    const secret = set.body.signingSecret as string;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect((await api.get('/projects/wh/webhooks')).body).toEqual({ projectId: 'wh', webhooks: [{ url: up.url, kinds: ['permission_request'] }, { url: down.url }] });

    fake.push({ tools: [{ name: 'Bash', input: { command: 'echo needs-permission', description: 'asks first' } }] }, { text: 'done' });
    const spawned = await api.post('/sessions', { projectId: 'wh', agent: 'claude-code', prompt: 'run it' });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id as string;

    const delivered = await eventually(async () => up.received.find((r) => JSON.parse(r.body).kind === 'permission_request') ?? null, 'the permission request notification', 90_000, 200);
    const payload = JSON.parse(delivered.body);
    expect(payload).toMatchObject({ kind: 'permission_request', projectId: 'wh', sessionId: id, summary: `${id} asks permission to run Bash`, source: { streamId: `session-${id}`, type: 'AgentHookReceived' } });
    expect(signatureValid(secret, delivered.headers, delivered.body)).toBe(true);
    expect(signatureValid(secret, delivered.headers, delivered.body.replace('Bash', 'Bosh'))).toBe(false);
    expect(delivered.headers['x-runledger-attempt']).toBe('1');

    // The receiver that is down: attempts fail and are recorded; once it is back, the notification arrives.
    const notification = async () => ((await api.get(`/notifications?projectId=wh`)).body.notifications as Array<Record<string, any>>).find((n) => n.kind === 'permission_request');
    const failing = await eventually(async () => {
      const n = await notification();
      const d = n?.deliveries.find((x: { url: string }) => x.url === down.url);
      return d && d.attempts.length >= 2 ? d : null;
    }, 'two failed attempts to the receiver that is down', 30_000, 200);
    expect(failing).toMatchObject({ status: 'pending', attempts: [expect.objectContaining({ attempt: 1, statusCode: null, error: expect.any(String) }), expect.objectContaining({ attempt: 2 })] });
    const back = await receiver(down.port);
    closers.push(back.server);
    const arrived = await eventually(async () => back.received.find((r) => JSON.parse(r.body).notificationId === payload.notificationId) ?? null, 'the notification at the receiver that came back', 60_000, 200);
    expect(signatureValid(secret, arrived.headers, arrived.body)).toBe(true);
    expect(Number(arrived.headers['x-runledger-attempt'])).toBeGreaterThanOrEqual(3);
    const final = await eventually(async () => {
      const d = (await notification())?.deliveries.find((x: { url: string }) => x.url === down.url);
      return d?.status === 'delivered' ? d : null;
    }, 'the delivery recorded', 15_000, 200);
    expect(final.attempts.at(-1)).toMatchObject({ statusCode: 204, error: null });
    expect(final.attempts.slice(0, -1).every((a: { statusCode: number | null }) => a.statusCode === null)).toBe(true);
    expect((await notification())!.deliveries.find((x: { url: string }) => x.url === up.url)).toMatchObject({ status: 'delivered', attempts: [expect.objectContaining({ attempt: 1, statusCode: 204 })] });

    // The event is in the project's stream, once.
    const raised = ((await api.get('/events?from=0&limit=1000')).body.events as Array<{ type: string; streamId: string; data: Record<string, unknown> }>)
      .filter((e) => e.type === 'NotificationRaised' && e.data.kind === 'permission_request');
    expect(raised).toEqual([expect.objectContaining({ streamId: 'project-wh', data: expect.objectContaining({ notificationId: payload.notificationId, sessionId: id }) })]);
  });
});
