import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresDatabase } from '@runledger/infra/database';
import { PostgresEventStore } from '@runledger/infra/event-store';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'search-e2e-admin-token-0123456789';
/** Redaction canaries: a configured secret (RUNLEDGER_SECRETS) and a well-known token pattern (invariant 12). */
const CONFIGURED = 'canary-sekrit-4f1e2d';
const GHP = 'ghp_' + 'Q1w2E3r4T5'.repeat(4);
const SESSIONS = 1000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (i: number) => new Date(T0 + i * 1000).toISOString();

const pg = chosenPostgres();
const d = 'skip' in pg ? describe.skip : describe;

/**
 * docs/ARCHITECTURE.md §4g, through the real server on PostgreSQL: 1,000 sessions' prompts, commands and outputs in the
 * log, projected into the search index; a command an agent ran is found in whichever session it is, newest first,
 * page by page; a secret stored redacted is never found nor shown.
 */
d('full-text search over 1,000 sessions', () => {
  let root: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let drop: () => Promise<void>;
  let cli: Record<string, string>;
  let agentSession: string;

  beforeAll(async () => {
    if ('skip' in pg) return;
    root = mkdtempSync(join(tmpdir(), 'rl-search-'));
    const created = await createTestDatabase(pg);
    drop = created.drop;
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: created.url, RUNLEDGER_SECRETS: CONFIGURED });
    api = apiClient(server.url, TOKEN);
    cli = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN };
    expect((await api.post('/projects', { id: 'sr', name: 'sr', repoPath: makeRepo(join(root, 'repo')) })).status).toBe(201);

    // 1,000 sessions written straight into the log the server projects (what their agents did, as hooks record it).
    const db = new PostgresDatabase({ connectionString: created.url, max: 4 });
    const store = new PostgresEventStore(db);
    try {
      for (let i = 0; i < SESSIONS; i++) {
        const sessionId = `seed-${i}`;
        const e = (type: string, data: Record<string, unknown>) => ({ eventId: randomUUID(), type, data: { ...data, at: at(i) } });
        await store.appendToStream(`session-${sessionId}`, [
          e('SessionStarted', { sessionId, projectId: 'seeded', kind: 'worker', agent: 'external', branch: `b-${i}`, baseRef: 'main' }),
          e('AgentRunStarted', { runId: `run-${i}`, prompt: `please build module number${i}` }),
          e('ToolCallDispatched', { callId: `call-${i}`, tool: 'Bash', input: { command: `npm test -- --shard=${i} unit${i}` }, mode: 'observed', attempt: 1, runId: `run-${i}` }),
          e('ToolCallCompleted', { callId: `call-${i}`, attempt: 1, output: `PASS ${i} tests of unit${i}`, source: 'hook' }),
        ], 'no_stream');
      }
    } finally {
      await db.close();
    }

    // One session whose agent ran a command with secrets in it, recorded through the API (the redaction door).
    const spawned = await api.post('/sessions', { projectId: 'sr', agent: 'command', command: ['sh', '-c', 'exec sleep 300'] });
    expect(spawned.status).toBe(201);
    agentSession = spawned.body.id;
    const command = `curl -H "Authorization: token ${GHP}" https://example.test/zebracorn --data ${CONFIGURED}`;
    expect((await api.post(`/sessions/${agentSession}/tool-calls`, { callId: 'secret-1', tool: 'Bash', input: { command }, mode: 'observed' })).status).toBe(201);
    expect((await api.post(`/sessions/${agentSession}/tool-calls/secret-1/result`, { status: 'completed', output: `zebracorn answered ${CONFIGURED} and ${GHP}` })).status).toBe(200);
    await eventually(async () => ((await api.get('/search?q=zebracorn')).body.hits?.length === 2 && (await api.get(`/search?q=unit${SESSIONS - 1}`)).body.hits?.length === 2) || null, 'every session to be projected', 90_000, 250);
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await drop?.();
    if (root) rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('finds the command an agent ran in any one of the 1,000 sessions, with its session, revision, call and a highlighted snippet', async () => {
    for (const i of [0, 417, 999]) {
      const { body } = await api.get(`/search?q=${encodeURIComponent(`npm unit${i}`)}`);
      expect(body.hits).toEqual([
        expect.objectContaining({ sessionId: `seed-${i}`, revision: 2, type: 'ToolCallDispatched', callId: `call-${i}`, snippet: expect.stringContaining(`«unit${i}»`) }),
      ]);
    }
    const output = (await api.get('/search?q=PASS%20unit417')).body.hits;
    expect(output).toEqual([expect.objectContaining({ sessionId: 'seed-417', type: 'ToolCallCompleted', callId: 'call-417' })]);
    const prompt = (await api.get('/search?q=number512&projectId=seeded')).body.hits;
    expect(prompt).toEqual([expect.objectContaining({ sessionId: 'seed-512', revision: 1, type: 'AgentRunStarted' })]);
    expect(prompt[0].callId).toBeUndefined();
    expect((await api.get('/search?q=number512&projectId=sr')).body.hits).toEqual([]);
  });

  it('gives hits newest first, a page at a time, and `since` leaves older events out', async () => {
    const seen: number[] = [];
    let cursor: number | undefined;
    for (let page = 0; page < 3; page++) {
      const { body } = await api.get(`/search?q=${encodeURIComponent('npm test')}&limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      expect(body.hits).toHaveLength(50);
      seen.push(...body.hits.map((h: { globalPosition: number }) => h.globalPosition));
      cursor = body.nextCursor;
    }
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect(new Set(seen).size).toBe(150);
    expect((await api.get(`/search?q=npm%20test&limit=100&since=${encodeURIComponent(at(990))}`)).body.hits).toHaveLength(10);
    const cliRun = await runCli(['search', 'npm', 'unit7', '--json'], cli);
    expect(cliRun.code).toBe(0);
    expect(JSON.parse(cliRun.stdout).hits).toEqual([expect.objectContaining({ sessionId: 'seed-7' })]);
  });

  it('never finds nor shows a secret: the canaries are stored redacted, so searching them finds nothing', async () => {
    const found = (await api.get('/search?q=zebracorn')).body.hits as Array<{ sessionId: string; snippet: string }>;
    expect(found.map((h) => h.sessionId)).toEqual([agentSession, agentSession]);
    for (const hit of found) {
      expect(hit.snippet).not.toContain(CONFIGURED);
      expect(hit.snippet).not.toContain(GHP);
    }
    for (const secret of [CONFIGURED, GHP, 'sekrit', GHP.slice(4)]) {
      const { status, body } = await api.get(`/search?q=${encodeURIComponent(secret)}`);
      expect(status).toBe(200);
      expect(body.hits).toEqual([]);
    }
    const text = await runCli(['search', 'zebracorn'], cli);
    expect(text.stdout).toContain(agentSession);
    expect(text.stdout).not.toContain(CONFIGURED);
  });

  it('refuses bad input with 400 naming the field', async () => {
    const cases: Array<[string, string]> = [
      ['/search', 'q'], ['/search?q=', 'q'], ['/search?q=a&limit=0', 'limit'], ['/search?q=a&limit=101', 'limit'], ['/search?q=a&cursor=-1', 'cursor'],
      ['/search?q=a&since=yesterday', 'since'], ['/search?q=a&since=2026-02-30', 'since'], ['/usage?groupBy=week', 'groupBy'], ['/usage?since=2026-13-01', 'since'],
      ['/search?q=%01', 'q'],
    ];
    for (const [path, field] of cases) {
      const { status, body } = await api.get(path);
      expect({ path, status, field: body.details?.field }).toEqual({ path, status: 400, field });
    }
    expect((await api.get('/sessions/nope-1/usage')).status).toBe(404);
  });
});
