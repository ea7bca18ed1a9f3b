import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithClaude, prepareClaudeHome } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

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
 * docs/ARCHITECTURE.md §4i with the real Claude Code CLI: a repository whose settings ask before `echo needs…` makes
 * Claude Code send PermissionRequest; the receiver gets a signed `permission_request` notification, and a receiver that
 * was down gets it once it is back, every failed attempt recorded.
 */
describeWithClaude('webhook notifications for a permission request of a real Claude Code run', () => {
  let root: string;
  let fake: FakeAnthropicApi;
  let server: ServerProcess;
  const closers: Server[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-webhooks-'));
    fake = await startFakeAnthropicApi();
    const home = prepareClaudeHome(join(root, 'home'), { apiUrl: fake.url });
    server = await startServerProcess({ ...home.env, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
  });
  afterAll(async () => {
    for (const s of closers) s.close();
    await server?.stop('SIGKILL');
    await fake?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('signs the notification, and delivers it to a receiver that was down once it is back, recording each attempt', async () => {
    const api = apiClient(server.url, TOKEN);
    const repo = makeRepo(join(root, 'repo'));
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
