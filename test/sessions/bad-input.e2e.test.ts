import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'bad-input-token-0123456789';

describe('bad input gets a 4xx naming the field or state, and appends nothing (invariant 13)', () => {
  let root: string;
  let repo: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  const head = async (): Promise<number> => (await api.get('/health')).body.headPosition;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-bad-'));
    repo = makeRepo(join(root, 'repo'));
    mkdirSync(join(root, 'plain'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'p', repoPath: repo })).status).toBe(201);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const cases: [string, () => Promise<{ status: number; body: any }>, number, Record<string, unknown>][] = [
    ['an unknown field', () => api.post('/projects', { name: 'x', repoPath: '/tmp', colour: 'red' }), 400, { details: expect.objectContaining({ field: 'colour' }) }],
    ['a path that is not a repository', () => api.post('/projects', { name: 'x', repoPath: join(root, 'plain') }), 400, { details: { field: 'repoPath' }, code: 'PROJECT.INVALID' }],
    ['a relative path', () => api.post('/projects', { name: 'x', repoPath: 'repo' }), 400, { details: { field: 'repoPath' } }],
    ['both repoPath and repos', () => api.post('/projects', { name: 'x', repoPath: repo, repos: [{ name: 'a', path: repo }] }), 400, { details: { field: 'repoPath' } }],
    ['a workspace repo that is not a repository', () => api.post('/projects', { name: 'w', repos: [{ name: 'a', path: repo }, { name: 'b', path: join(root, 'plain') }] }), 400, { details: { field: 'repos[1].path' } }],
    ['a second project with the same id', () => api.post('/projects', { name: 'p', repoPath: repo }), 409, { code: 'PROJECT.ALREADY_REGISTERED' }],
    ['an unknown session', () => api.get('/sessions/p-999'), 404, { code: 'SESSION.NOT_FOUND' }],
    ['prices of a model that are not numbers', () => api.post('/projects', { name: 'x', id: 'pr', repoPath: repo, prices: { m: { inputPerMTok: 'one', outputPerMTok: 1, cacheReadPerMTok: 0, cacheCreationPerMTok: 0 } } }), 400, { details: expect.objectContaining({ field: 'prices' }) }],
    ['prices missing a token kind', () => api.post('/projects', { name: 'x', id: 'pr', repoPath: repo, prices: { m: { inputPerMTok: 1 } } }), 400, { details: expect.objectContaining({ field: 'prices' }) }],
    ['the usage of an unknown session', () => api.get('/sessions/p-999/usage'), 404, { code: 'SESSION.NOT_FOUND' }],
    ['a search without words', () => api.get('/search'), 400, { details: expect.objectContaining({ field: 'q' }) }],
    ['usage grouped by week', () => api.get('/usage?groupBy=week'), 400, { details: expect.objectContaining({ field: 'groupBy' }) }],
    ['kill of an unknown session', () => api.post('/sessions/p-999/kill'), 404, { code: 'SESSION.NOT_FOUND' }],
    ['a spawn in an unknown project', () => api.post('/sessions', { projectId: 'nope', agent: 'command', command: ['true'] }), 404, { details: expect.objectContaining({ field: 'projectId' }) }],
    ['a command agent without a command', () => api.post('/sessions', { projectId: 'p', agent: 'command' }), 400, { details: { field: 'command' } }],
    ['an unknown agent', () => api.post('/sessions', { projectId: 'p', agent: 'vim', command: ['true'] }), 400, { details: expect.objectContaining({ field: 'agent' }) }],
    ['a parent session id holding a NUL', () => api.post('/sessions', { projectId: 'p', agent: 'command', command: ['true'], parentSessionId: 'a\u0000' }), 400, { details: expect.objectContaining({ field: 'parentSessionId' }) }],
    ['a Codex session without a prompt', () => api.post('/sessions', { projectId: 'p', agent: 'codex' }), 400, { details: { field: 'prompt' }, code: 'SESSION.INVALID' }],
    ['hooks of an agent runledger has no adapter for', () => api.post('/hooks/gemini', { hook_event_name: 'Stop', session_id: 's' }), 400, { details: expect.objectContaining({ field: 'agent' }) }],
    ['a baseRef that names no commit', () => api.post('/sessions', { projectId: 'p', agent: 'command', command: ['true'], baseRef: 'no-such-branch' }), 400, { details: { field: 'baseRef' } }],
    ['a state beyond the head', () => api.get('/sessions/p-999/state?at=5'), 404, { code: 'SESSION.NOT_FOUND' }],
    ['a user name with a space', () => api.post('/users', { name: 'a b', role: 'reader' }), 400, { details: expect.objectContaining({ field: 'name' }) }],
    ['an unknown role', () => api.post('/users', { name: 'ann', role: 'owner' }), 400, { details: expect.objectContaining({ field: 'role' }) }],
    ['the bootstrap admin\'s name', () => api.post('/users', { name: 'admin', role: 'admin' }), 400, { details: { field: 'name' }, code: 'USER.INVALID' }],
    ['a revocation of nobody', () => api.raw('DELETE', '/users/nobody'), 404, { code: 'USER.NOT_FOUND' }],
    ['a negative page start', () => api.get('/sessions/p-1/events?from=-1'), 400, { details: expect.objectContaining({ field: 'from' }) }],
    ['a diff without its first revision', () => api.get('/sessions/p-1/diff'), 400, { details: expect.objectContaining({ field: 'from' }) }],
    ['a file read at a revision that is not a number', () => api.get('/sessions/p-1/files?at=x'), 400, { details: expect.objectContaining({ field: 'at' }) }],
    ['a rewind to a side of a call that does not exist', () => api.post('/sessions/p-1/rewind', { callId: 'c', phase: 'during' }), 400, { details: expect.objectContaining({ field: 'phase' }) }],
    ['a rewind without a call', () => api.post('/sessions/p-1/rewind', { phase: 'before' }), 400, { details: expect.objectContaining({ field: 'callId' }) }],
    ['a fork of an unknown session', () => api.post('/sessions/p-999/fork', { callId: 'c', phase: 'after' }), 404, { code: 'SESSION.NOT_FOUND' }],
    ['the diff of a call of an unknown session', () => api.get('/sessions/p-999/tool-calls/c/diff'), 404, { code: 'SESSION.NOT_FOUND' }],
  ];

  it.each(cases)('refuses %s', async (_, request, status, shape) => {
    const before = await head();
    const response = await request();
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ statusCode: status, error: expect.any(String), message: expect.any(String), ...shape });
    expect(await head()).toBe(before);
  });

  it('refuses kill of a terminated session with 409 naming its state, appending nothing', async () => {
    const spawned = await api.post('/sessions', { projectId: 'p', agent: 'command', command: ['sh', '-c', 'exec sleep 60'] });
    expect((await api.post(`/sessions/${spawned.body.id}/kill`)).body.freed).toBe(true);
    const before = await head();
    const again = await api.post(`/sessions/${spawned.body.id}/kill`);
    expect(again.status).toBe(409);
    expect(again.body.details).toMatchObject({ status: 'terminated' });
    expect(await head()).toBe(before);
  });

  it('returns the first result for a repeated Idempotency-Key and spawns nothing new', async () => {
    // An agent that outlives the test: one that exits at once gets its SessionExited appended by the runtime watcher
    // at a moment of its own, which moves the head between the two reads below.
    const body = { projectId: 'p', agent: 'command', command: ['sh', '-c', 'exec sleep 60'] };
    const first = await api.post('/sessions', body, { 'idempotency-key': 'spawn-once-1' });
    expect(first.status).toBe(201);
    const before = await head();
    const repeat = await api.post('/sessions', body, { 'idempotency-key': 'spawn-once-1' });
    expect(repeat.status).toBe(201);
    expect(repeat.body.id).toBe(first.body.id);
    expect(await head()).toBe(before);
    const reused = await api.post('/sessions', { ...body, command: ['false'] }, { 'idempotency-key': 'spawn-once-1' });
    expect(reused.status).toBe(409);
    expect(reused.body.code).toBe('IDEMPOTENCY.KEY_REUSED');
  });
});
