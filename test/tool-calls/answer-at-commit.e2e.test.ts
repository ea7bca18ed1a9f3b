import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PROJECTION_LOCK_KEY } from '@runledger/infra/read-models';
import { makeRepo } from '../support/git-repo';
import { apiClient, ApiResponse } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'answer-at-commit-token-0123456789';
/** What the read-your-writes interceptor logs when a write waited for a projection that did not reach the head in time. */
const WAITED_AND_TIMED_OUT = 'projection did not catch up in time';
const pg = chosenPostgres();
const describePg = 'skip' in pg ? describe.skip : describe;

describePg(`tool calls answer at commit (docs/ARCHITECTURE.md §5) on a real PostgreSQL (${'skip' in pg ? pg.skip : pg.source})`, () => {
  let root: string;
  let drop: () => Promise<void>;
  let databaseUrl: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let sessionId: string;

  beforeAll(async () => {
    if ('skip' in pg) return;
    root = mkdtempSync(join(tmpdir(), 'rl-commit-'));
    const repo = makeRepo(join(root, 'repo'));
    const db = await createTestDatabase(pg);
    drop = db.drop;
    databaseUrl = db.url;
    server = await startServerProcess({ DATABASE_URL: db.url, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'commit', repoPath: repo })).status).toBe(201);
    // An external session (no runtime to stop): what a Claude Code session runledger did not spawn gets.
    expect((await api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: 'cc-answer-at-commit', cwd: repo })).status).toBe(200);
    sessionId = (await api.get('/sessions?agentSessionId=cc-answer-at-commit')).body.sessions[0].id;
  });
  afterAll(async () => {
    await server?.stop();
    await drop?.();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('answers a dispatch and its result while the projection is held back; the next GET of the process waits for it and sees both', async () => {
    expect((await api.get(`/sessions/${sessionId}`)).body.toolCalls).toMatchObject({ total: 0 });
    // The projection's transactions take this advisory lock first: holding it keeps the read models where they are.
    const holder = new Client({ connectionString: databaseUrl });
    await holder.connect();
    let read: Promise<ApiResponse> | undefined;
    let readAnswered = false;
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [PROJECTION_LOCK_KEY]);
      const dispatched = await api.post(`/sessions/${sessionId}/tool-calls`, { callId: 'held-1', tool: 'Bash', input: { command: 'ls' }, mode: 'observed' });
      expect(dispatched).toMatchObject({ status: 201, body: { callId: 'held-1', status: 'dispatched' } });
      const completed = await api.post(`/sessions/${sessionId}/tool-calls/held-1/result`, { status: 'completed', output: { stdout: 'ok\n' } });
      expect(completed).toMatchObject({ status: 200, body: { callId: 'held-1', status: 'completed' } });
      // Both answered from the commit: the read models do not hold the call yet.
      expect((await holder.query('SELECT count(*)::int AS n FROM rl_rm_tool_calls WHERE call_id = $1', ['held-1'])).rows[0].n).toBe(0);

      read = api.get(`/sessions/${sessionId}`).then((response) => ((readAnswered = true), response));
      // A marked request sent after the GET still answers (a repeated dispatch appends nothing); the GET is still waiting.
      expect((await api.post(`/sessions/${sessionId}/tool-calls`, { callId: 'held-1', tool: 'Bash', input: { command: 'ls' }, mode: 'observed' })).status).toBe(200);
      expect(readAnswered).toBe(false);
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [PROJECTION_LOCK_KEY]).catch(() => undefined);
      await holder.end();
    }
    const snapshot = await read!;
    expect(snapshot.status).toBe(200);
    expect(snapshot.body.toolCalls).toMatchObject({ total: 1, completed: 1, dispatched: 0 });
    // A write that waited for the held projection would have timed out and said so (then answered anyway).
    expect(server.output().split('\n').filter((line) => line.includes(WAITED_AND_TIMED_OUT))).toEqual([]);
  });
});
