import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'hostile-input-token-0123456789';

/** Hostile input gets a 4xx in the error shape naming the field, never a 500, and changes nothing (invariant 13). */
describe('hostile input is refused at the boundary', () => {
  let root: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let sessionId: string;
  const head = async (): Promise<number> => (await api.get('/health')).body.headPosition;
  const sessionCount = async (): Promise<number> => (await api.get('/sessions')).body.sessions.length;
  const rawPost = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers }, body });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-hostile-'));
    const repo = makeRepo(join(root, 'repo'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'p', repoPath: repo })).status).toBe(201);
    const spawned = await api.post('/sessions', { projectId: 'p', agent: 'command', command: ['sh', '-c', 'exec sleep 120'] });
    sessionId = spawned.body.id;
  });
  afterAll(async () => {
    if (sessionId) await api.post(`/sessions/${sessionId}/kill`);
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const deep = (levels: number) => `{"tool":"Bash","mode":"observed","input":${'['.repeat(levels)}${']'.repeat(levels)}}`;
  const cases: [string, () => Promise<{ status: number; body: any }>, string][] = [
    ['NUL in a tool name', () => api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'Ba\u0000sh', input: {}, mode: 'observed' }), 'tool'],
    ['NUL in a path id', () => api.get('/sessions/a%00b'), 'id'],
    ['a control character in a query id', () => api.get('/sessions?projectId=p%01'), 'projectId'],
    ['a huge `from`', () => api.get('/events?from=9999999999999999999999'), 'from'],
    ['a huge Last-Event-ID', () => api.raw('GET', '/events', undefined, { 'last-event-id': '9999999999999999999999' }), 'Last-Event-ID'],
    ['an 8,000-character Idempotency-Key', () => api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'Bash', input: {}, mode: 'observed' }, { 'idempotency-key': 'k'.repeat(8000) }), 'Idempotency-Key'],
    ['null for an optional field', () => api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'Bash', input: {}, mode: 'observed', runId: null }), 'runId'],
    ['a baseRef that is an option', () => api.post('/sessions', { projectId: 'p', agent: 'command', command: ['true'], baseRef: '-h' }), 'baseRef'],
    ['a baseRef past the reflog', () => api.post('/sessions', { projectId: 'p', agent: 'command', command: ['true'], baseRef: 'HEAD@{999}' }), 'baseRef'],
    ['NUL in a baseRef', () => api.post('/sessions', { projectId: 'p', agent: 'command', command: ['true'], baseRef: 'ma\u0000in' }), 'baseRef'],
    ['NUL in a command', () => api.post('/sessions', { projectId: 'p', agent: 'command', command: ['ec\u0000ho', 'hi'] }), 'command'],
    ['NUL in a project name', () => api.post('/projects', { name: 'x\u0000y', repoPath: '/tmp' }), 'name'],
    ['NUL in a kill reason', () => api.post(`/sessions/${sessionId}/kill`, { reason: 'r\u0000' }), 'reason'],
    ['a hook cwd that is not a string', () => api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: 's-1', cwd: 42 }), 'cwd'],
    ['NUL in a hook tool_name', () => api.post('/hooks/claude-code', { hook_event_name: 'PreToolUse', session_id: 's-1', tool_name: 'Ba\u0000sh', tool_use_id: 't', cwd: '/tmp' }), 'tool_name'],
    ['NUL in a hook session_id', () => api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: 's\u0000', cwd: '/tmp' }), 'session_id'],
    ['JSON nested 2,000 levels deep', async () => {
      const response = await rawPost(`/sessions/${sessionId}/tool-calls`, deep(2000));
      return { status: response.status, body: await response.json() };
    }, 'body'],
  ];

  it.each(cases)('refuses %s with 400 naming the field, appending nothing', async (_, request, field) => {
    const before = await head();
    const response = await request();
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String), details: expect.objectContaining({ field }) });
    expect(await head()).toBe(before);
  });

  it('refuses a malformed import before creating anything: no half-created session', async () => {
    const before = { head: await head(), sessions: await sessionCount() };
    const transcript = (toolCalls: unknown[]) => ({ agentSessionId: 'agent-import-1', cwd: join(root, 'repo'), runs: [], toolCalls, skippedLines: [] });
    const call = { callId: 'c1', runId: null, tool: 'Bash', input: {}, requestedAt: '2026-01-01T00:00:00.000Z', line: 1, result: null };
    const body = (over: Record<string, unknown>) => ({ projectId: 'p', transcriptPath: join(root, 't.jsonl'), transcript: transcript([call]), subagents: [], ...over });
    const bad: [unknown, string][] = [
      [body({ transcript: transcript([{}]) }), 'transcript.toolCalls[0].callId'],
      [body({ transcript: transcript([{ ...call, requestedAt: 'yesterday' }]) }), 'transcript.toolCalls[0].requestedAt'],
      [body({ transcript: transcript([{ ...call, tool: 'Ba\u0000sh' }]) }), 'transcript.toolCalls[0].tool'],
      // A missing or non-object nested transcript once passed validation and failed in the handler with a TypeError (500).
      [body({ transcript: undefined }), 'transcript'],
      [body({ transcript: [] }), 'transcript'],
      [body({ transcript: [transcript([call])] }), 'transcript'],
      [body({ transcript: { ...transcript([call]), runs: undefined } }), 'transcript.runs'],
      [body({ subagents: [{ path: join(root, 'sub.jsonl') }] }), 'subagents[0].transcript'],
      [body({ subagents: [[]] }), 'subagents[0]'],
      [body({ transcript: transcript([[call]]) }), 'transcript.toolCalls[0]'],
      [body({ transcript: transcript([{ ...call, result: [] }]) }), 'transcript.toolCalls[0].result'],
    ];
    for (const [request, field] of bad) {
      const response = await api.post('/imports/claude-code', request);
      expect({ field, status: response.status }).toEqual({ field, status: 400 });
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'REQUEST.INVALID', details: { field } });
    }
    // A call id repeated across transcripts (a session's calls are one set), or two sub-agent files of one name: once
    // the session was created before the decision refused the repeat (409 after 3 events appended).
    const sub = (name: string, calls: unknown[]) => ({ path: join(root, `${name}.jsonl`), transcript: transcript(calls) });
    const repeats: [unknown, string][] = [
      [body({ subagents: [sub('agent-a', [call])] }), 'subagents[0].transcript.toolCalls[0].callId'],
      [body({ subagents: [sub('agent-a', [{ ...call, callId: 'c2' }]), sub('agent-b', [{ ...call, callId: 'c2' }])] }), 'subagents[1].transcript.toolCalls[0].callId'],
      [body({ subagents: [sub('agent-a', []), sub('agent-a', [])] }), 'subagents[1].path'],
    ];
    for (const [request, field] of repeats) {
      const response = await api.post('/imports/claude-code', request);
      expect({ field, status: response.status }).toEqual({ field, status: 400 });
      expect(response.body).toMatchObject({ statusCode: 400, code: 'IMPORT.INVALID', details: { field } });
    }
    expect({ head: await head(), sessions: await sessionCount() }).toEqual(before);
  });

  it('answers a route outside /api/v1 with a JSON 404 and never sends X-Powered-By', async () => {
    // GETs of page routes belong to the web timeline; anything else no route serves is a JSON 404.
    for (const [method, path] of [['POST', '/no/such/route'], ['GET', '/no-such-file.js']]) {
      const response = await fetch(`${server.url}${path}`, { method });
      expect(response.status).toBe(404);
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(await response.json()).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'ROUTE.NOT_FOUND' });
    }
    const api404 = await api.get('/no-such-thing');
    expect(api404.status).toBe(404);
  });

  it('creates every file of the data directory 0600 and every directory 0700 (the embedded store included)', () => {
    const loose: string[] = [];
    let files = 0;
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const target = join(dir, entry);
        const stat = lstatSync(target);
        if (stat.isSymbolicLink()) continue;
        files += 1;
        if (stat.isDirectory() ? (stat.mode & 0o777) !== 0o700 : (stat.mode & 0o077) !== 0) loose.push(`${target} ${(stat.mode & 0o777).toString(8)}`);
        // The worktrees' content is the agents' checkout; their directory itself is checked.
        if (stat.isDirectory() && target !== join(root, 'data', 'worktrees')) walk(target);
      }
    };
    expect((lstatSync(join(root, 'data')).mode & 0o777).toString(8)).toBe('700');
    walk(join(root, 'data'));
    expect(files).toBeGreaterThan(100); // the PGlite data directory is in there
    expect(loose.slice(0, 10)).toEqual([]);
  });

  it('still projects after the refusals: a later write is read back at once', async () => {
    const call = await api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'Bash', input: { command: 'ls' }, mode: 'observed' });
    expect(call.status).toBe(201);
    const health = await api.get('/health');
    expect(health.body).toMatchObject({ status: 'ok', deadLetters: 0 });
    expect((await api.get(`/projections/status`)).body).toMatchObject({ lag: 0, deadLetters: { count: 0, first: [] } });
  });
});
