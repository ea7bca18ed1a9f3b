import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgliteDatabase } from '@runledger/infra/database';
import { makeRepo } from '../support/git-repo';
import { apiClient } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'tool-calls-e2e-token-0123';
const SECRET = 'sekrit-configured-value-42';
const GITHUB_TOKEN = `ghp_${'A1b2C3d4E5'.repeat(4)}`;

describe('tool calls: checkpoint before dispatch, managed execution, late results, redaction', () => {
  let root: string;
  let dataDir: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let sessionId: string;
  let worktree: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-tools-'));
    dataDir = join(root, 'data');
    const repo = makeRepo(join(root, 'repo'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: dataDir, RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', RUNLEDGER_SECRETS: SECRET });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'tools', repoPath: repo })).status).toBe(201);
    const session = await api.post('/sessions', { projectId: 'tools', agent: 'command', command: ['sh', '-c', 'exec sleep 300'] });
    sessionId = session.body.id;
    worktree = session.body.worktrees[0].path;
  });
  afterAll(async () => {
    await api.post(`/sessions/${sessionId}/kill`).catch(() => undefined);
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs a managed shell call in the worktree only after its ToolCallDispatched is committed, with a minimal environment', async () => {
    // The command asks runledger's (public) health for the log's head: the dispatch must already be in it. It gets no
    // admin token and no database address.
    const command =
      'pwd; node -e "fetch(process.env.RUNLEDGER_URL+\'/api/v1/health\').then(r=>r.json()).then(b=>console.log(\'HEAD:\'+b.headPosition))"; ' +
      'echo "TOKEN:${RUNLEDGER_TOKEN:-none} DB:${DATABASE_URL:-none} SESSION:$RUNLEDGER_SESSION_ID"';
    const call = await api.post(`/sessions/${sessionId}/tool-calls?wait=true&timeoutMs=60000`, { callId: 'managed-1', tool: 'shell', input: { command }, mode: 'managed' });
    expect(call.status).toBe(201);
    expect(call.body).toMatchObject({ callId: 'managed-1', status: 'completed', attempt: 1, result: { exitCode: 0 } });
    const stdout: string = call.body.result.output.stdout;
    expect(stdout.split('\n')[0]).toBe(worktree);
    expect(stdout).toContain(`TOKEN:none DB:none SESSION:${sessionId}`);
    const seenHead = Number(/HEAD:(\d+)/.exec(stdout)?.[1]);
    const log = (await api.get(`/sessions/${sessionId}/events`)).body.events as { type: string; globalPosition: number; data: { callId?: string } }[];
    const dispatched = log.find((e) => e.type === 'ToolCallDispatched' && e.data.callId === 'managed-1')!;
    const completed = log.findIndex((e) => e.type === 'ToolCallCompleted' && e.data.callId === 'managed-1');
    expect(seenHead).toBeGreaterThanOrEqual(dispatched.globalPosition);
    expect(completed).toBeGreaterThan(log.indexOf(dispatched));
  });

  it('writes and reads files inside the worktree and refuses a path outside it with 400', async () => {
    const wrote = await api.post(`/sessions/${sessionId}/tool-calls?wait=true`, { tool: 'write_file', input: { path: 'out/hello.txt', content: 'hi' }, mode: 'managed' });
    expect(wrote.body.status).toBe('completed');
    expect(readFileSync(join(worktree, 'out/hello.txt'), 'utf8')).toBe('hi');
    const read = await api.post(`/sessions/${sessionId}/tool-calls?wait=true`, { tool: 'read_file', input: { path: 'out/hello.txt' }, mode: 'managed' });
    expect(read.body.result.output.content).toBe('hi');
    const head = (await api.get('/health')).body.headPosition;
    const outside = await api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'read_file', input: { path: '../../../../etc/passwd' }, mode: 'managed' });
    expect(outside.status).toBe(400);
    expect(outside.body.details.field).toBe('input.path');
    expect((await api.get('/health')).body.headPosition).toBe(head);
  });

  it('answers an observed call once dispatched, returns the existing call for a repeated callId, and 409s a result for a settled call', async () => {
    const first = await api.post(`/sessions/${sessionId}/tool-calls`, { callId: 'obs-1', tool: 'Bash', input: { command: 'ls' }, mode: 'observed' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'dispatched', attempt: 1 });
    const head = (await api.get('/health')).body.headPosition;
    const repeat = await api.post(`/sessions/${sessionId}/tool-calls`, { callId: 'obs-1', tool: 'Bash', input: { command: 'ls' }, mode: 'observed' });
    expect(repeat.status).toBe(200);
    expect((await api.get('/health')).body.headPosition).toBe(head);
    const viaKey = await api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'Bash', input: {}, mode: 'observed' }, { 'idempotency-key': 'k-1' });
    const viaKeyAgain = await api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'Bash', input: {}, mode: 'observed' }, { 'idempotency-key': 'k-1' });
    expect([viaKey.status, viaKeyAgain.status]).toEqual([201, 200]);
    expect(viaKeyAgain.body.callId).toBe(viaKey.body.callId);
    const reused = await api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'Read', input: {}, mode: 'observed' }, { 'idempotency-key': 'k-1' });
    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ code: 'IDEMPOTENCY.KEY_REUSED', details: { field: 'Idempotency-Key' } });
    const done = await api.post(`/sessions/${sessionId}/tool-calls/obs-1/result`, { status: 'completed', output: 'a\nb' });
    expect(done.body).toMatchObject({ status: 'completed', result: { output: 'a\nb' } });
    const twice = await api.post(`/sessions/${sessionId}/tool-calls/obs-1/result`, { status: 'completed', output: 'a\nb' });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('TOOL_CALL.NOT_IN_FLIGHT');
    expect((await api.post(`/sessions/${sessionId}/tool-calls/nope/result`, { status: 'completed' })).status).toBe(404);
  });

  it('records a result for an interrupted attempt as a late result, and retries it as a new attempt', async () => {
    const other = await api.post('/sessions', { projectId: 'tools', agent: 'command', command: ['sh', '-c', 'exec sleep 300'] });
    const id = other.body.id;
    await api.post(`/sessions/${id}/tool-calls`, { callId: 'late-1', tool: 'Read', input: { file_path: 'x' }, mode: 'observed' });
    await api.post(`/sessions/${id}/kill`); // its runtime is gone: in-flight observed calls are interrupted
    const interrupted = (await api.get(`/sessions/${id}/tool-calls`)).body.toolCalls[0];
    expect(interrupted).toMatchObject({ callId: 'late-1', status: 'interrupted' });
    const late = await api.post(`/sessions/${id}/tool-calls/late-1/result`, { status: 'completed', output: 'arrived late' });
    expect(late.status).toBe(200);
    expect(late.body.status).toBe('interrupted');
    const snapshot = (await api.get(`/sessions/${id}`)).body;
    expect(snapshot.lateResults).toEqual([expect.objectContaining({ callId: 'late-1', attempt: 1, status: 'completed' })]);
    const types = (await api.get(`/sessions/${id}/events`)).body.events.map((e: { type: string }) => e.type);
    expect(types).toContain('ToolCallLateResultRecorded');
    expect((await api.post(`/sessions/${id}/restore`)).body.status).toBe('running');
    const retried = await api.post(`/sessions/${id}/tool-calls/late-1/retry`);
    expect(retried.body).toMatchObject({ status: 'dispatched', attempt: 2 });
    expect((await api.post(`/sessions/${id}/tool-calls/late-1/retry`)).status).toBe(409);
    await api.post(`/sessions/${id}/kill`);
  });

  it('keeps planted secrets out of the event table', async () => {
    const input = { command: `curl -H "Authorization: token ${GITHUB_TOKEN}" https://x/?k=${SECRET}` };
    const call = await api.post(`/sessions/${sessionId}/tool-calls`, { callId: 'secret-1', tool: 'Bash', input, mode: 'observed' });
    expect(JSON.stringify(call.body)).not.toContain(SECRET);
    expect(call.body.input.command).toContain('[REDACTED:github_token]');
    await api.post(`/sessions/${sessionId}/tool-calls/secret-1/result`, { status: 'completed', output: `token=${GITHUB_TOKEN} secret=${SECRET}` });
    const managed = await api.post(`/sessions/${sessionId}/tool-calls?wait=true`, { tool: 'shell', input: { command: `echo ${GITHUB_TOKEN}` }, mode: 'managed' });
    expect(managed.body.status).toBe('completed');
    await server.stop();
    const db = await PgliteDatabase.open(dataDir);
    try {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM rl_events WHERE strpos(data::text || metadata::text, $1) > 0 OR strpos(data::text || metadata::text, $2) > 0`,
        [SECRET, GITHUB_TOKEN],
      );
      expect(rows[0].n).toBe(0);
      const { rows: markers } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM rl_events WHERE strpos(data::text, '[REDACTED:') > 0`);
      expect(markers[0].n).toBeGreaterThanOrEqual(3);
    } finally {
      await db.close();
    }
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: dataDir, RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', RUNLEDGER_SECRETS: SECRET });
    api = apiClient(server.url, TOKEN);
  });
});
