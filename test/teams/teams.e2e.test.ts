import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgliteDatabase, PostgresDatabase, SqlDatabase } from '@runledger/infra/database';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';
import { tablesHolding } from '../support/tables-holding';

// docs/ARCHITECTURE.md §8: people with roles and personal tokens, and the actor of every event, through the real
// server on both engines (and two api processes sharing one PostgreSQL).

const ADMIN = 'teams-e2e-admin-token-0123456789';
const HOOK = join(__dirname, '../../bin/runledger-hook');
const OPENAPI = JSON.parse(readFileSync(join(__dirname, '../../openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };

/**
 * Routes a reader's token may call without 403 although their method is not GET, and why: the login routes need no
 * token at all, and minting a login code changes no state (it logs the reader's own page in).
 */
const READER_MAY = new Set(['POST /api/v1/ui/session', 'DELETE /api/v1/ui/session', 'POST /api/v1/ui/login-codes']);

type Engine = 'pglite' | 'postgres';
const pg = chosenPostgres();

describe.each<Engine>(['pglite', 'postgres'])('teams on %s', (engine) => {
  const skip = engine === 'postgres' && 'skip' in pg;
  const it_ = skip ? it.skip : it;
  let root: string;
  let dataDir: string;
  let databaseUrl = '';
  let drop: (() => Promise<void>) | undefined;
  let server: ServerProcess;
  let admin: ReturnType<typeof apiClient>;
  let repo: string;
  const tokens: Record<string, string> = {};
  const secretKey = randomBytes(32).toString('base64');
  const env = () => ({ RUNLEDGER_DATA_DIR: dataDir, RUNLEDGER_TOKEN: ADMIN, DATABASE_URL: databaseUrl, RUNLEDGER_SECRET_KEY: secretKey });
  const head = async (): Promise<number> => (await admin.get('/health')).body.headPosition;
  const as = (name: string) => apiClient(server.url, tokens[name]);
  const add = async (name: string, role: string): Promise<string> => {
    const added = await admin.post('/users', { name, role });
    expect(added).toMatchObject({ status: 201, body: { name, role, token: expect.stringMatching(/^rlu1\.[A-Za-z0-9_-]{43}$/) } });
    return (tokens[name] = added.body.token);
  };

  beforeAll(async () => {
    if (skip) return;
    root = mkdtempSync(join(tmpdir(), `rl-teams-${engine}-`));
    dataDir = join(root, 'data');
    repo = makeRepo(join(root, 'repo'));
    if (engine === 'postgres' && !('skip' in pg)) ({ url: databaseUrl, drop } = await createTestDatabase(pg));
    server = await startServerProcess(env());
    admin = apiClient(server.url, ADMIN);
    expect((await admin.post('/projects', { name: 'teams', id: 'teams', repoPath: repo, env: { TEAM_SECRET: 'team-secret-value-0123' } })).status).toBe(201);
    await add('rita', 'reader');
    await add('wanda', 'writer');
    await add('ada', 'admin');
  });
  afterAll(async () => {
    if (skip) return;
    if (server?.child.exitCode === null) await admin.post('/sessions/teams-1/kill'); // a graceful stop leaves agents running
    await server?.stop();
    await drop?.();
    rmSync(root, { recursive: true, force: true });
  });

  it_("answers 403 to a reader on every route of the OpenAPI document that is not a GET, and appends nothing", async () => {
    const sessionId = (await as('wanda').post('/sessions', { projectId: 'teams', agent: 'command', command: ['sh', '-c', 'exec sleep 300'] })).body.id as string;
    expect(sessionId).toBe('teams-1');
    await as('wanda').post(`/sessions/${sessionId}/tool-calls`, { callId: 'c1', tool: 'Bash', input: { command: 'ls' }, mode: 'observed' });
    const values: Record<string, string> = { id: sessionId, sessionId, callId: 'c1', agent: 'claude-code', name: 'wanda' };
    /** Bodies a writer's request would be accepted with, so a 403 is the guard's doing, not the validation's. */
    const bodies: Record<string, unknown> = {
      'POST /api/v1/sessions': { projectId: 'teams', agent: 'command', command: ['true'] },
      'POST /api/v1/projects': { name: 'other', repoPath: repo },
      'POST /api/v1/users': { name: 'mallory', role: 'admin' },
      'POST /api/v1/sessions/{sessionId}/tool-calls': { callId: 'c2', tool: 'Bash', input: {}, mode: 'observed' },
      'POST /api/v1/sessions/{sessionId}/tool-calls/{callId}/result': { status: 'completed', exitCode: 0 },
      'POST /api/v1/hooks/{agent}': { hook_event_name: 'PreToolUse', session_id: 'x', tool_name: 'Bash', tool_input: {}, tool_use_id: 'h1', cwd: repo },
      'POST /api/v1/projects/{id}/env/forget': { names: ['TEAM_SECRET'] },
      'POST /api/v1/otlp/v1/logs': { resourceLogs: [] },
    };
    const before = await head();
    const tried: string[] = [];
    const answered: Record<string, number> = {};
    for (const [route, operations] of Object.entries(OPENAPI.paths)) {
      for (const method of Object.keys(operations).map((m) => m.toUpperCase())) {
        if (method === 'GET' || method === 'HEAD' || READER_MAY.has(`${method} ${route}`)) continue;
        const path = route.replace(/^\/api\/v1/, '').replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(route.includes('/projects/') && name === 'id' ? 'teams' : values[name]));
        const response = await as('rita').raw(method, path, bodies[`${method} ${route}`] ?? {});
        tried.push(`${method} ${route}`);
        answered[`${method} ${route}`] = response.status;
        if (response.status === 403) expect(response.body).toMatchObject({ code: 'AUTH.ROLE', details: { role: 'reader' } });
      }
    }
    expect(tried.length).toBeGreaterThanOrEqual(18);
    expect(tried).toEqual(expect.arrayContaining(['POST /api/v1/users', 'DELETE /api/v1/users/{name}', 'POST /api/v1/sessions/{id}/kill', 'POST /api/v1/hooks/{agent}']));
    expect(Object.entries(answered).filter(([, status]) => status !== 403)).toEqual([]);
    expect(await head()).toBe(before);
    // The reader reads, tails and exports: a GET works, and the exempt routes are exactly the login ones.
    expect((await as('rita').get(`/sessions/${sessionId}/events`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/sessions/${sessionId}/export`, { headers: { authorization: `Bearer ${tokens.rita}` } })).status).toBe(200);
    expect((await as('rita').post('/ui/login-codes')).status).toBe(201);
    expect((await as('wanda').raw('GET', '/users')).status).toBe(403);
  });

  it_('lets a writer work but not manage people or forget env values; a reader verifies and exports with the CLI', async () => {
    expect((await as('wanda').post('/users', { name: 'eve', role: 'admin' })).body).toMatchObject({ statusCode: 403, code: 'AUTH.ROLE', details: { needs: 'admin' } });
    expect((await as('wanda').raw('DELETE', '/users/rita')).status).toBe(403);
    expect((await as('wanda').post('/projects/teams/env/forget', { names: ['TEAM_SECRET'] })).status).toBe(403);
    expect((await as('wanda').raw('DELETE', '/sessions/teams-1/snapshots', {})).body).toMatchObject({ statusCode: 403, code: 'AUTH.ROLE', details: { needs: 'admin' } });
    expect((await as('ada').get('/users')).body.users.map((u: { name: string; role: string; active: boolean }) => `${u.name}:${u.role}:${u.active}`)).toEqual(['ada:admin:true', 'rita:reader:true', 'wanda:writer:true']);
    const cli = (args: string[], token: string) => runCli(args, { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: token });
    const verified = await cli(['verify', 'teams-1'], tokens.rita);
    expect({ code: verified.code, err: verified.stderr }).toEqual({ code: 0, err: '' });
    const exported = await cli(['export', 'teams-1'], tokens.rita);
    expect(exported.code).toBe(0);
    const actors = exported.stdout.trim().split('\n').map((line) => (JSON.parse(JSON.parse(line).metadataText) as { actor?: string }).actor);
    expect(actors[0]).toBe('user:wanda');
    const history = await cli(['history', 'teams-1'], tokens.rita);
    expect(history.stdout).toMatch(/SessionStarted .*\[by user:wanda\]/);
  });

  it_('names the actor of every event: a person, an agent through its session credential, and runledger itself', async () => {
    // The agent posts a PreToolUse through the sh hook shim with its own session credential (RUNLEDGER_TOKEN in its
    // environment), then ends; the runtime watcher records the exit and reconciles.
    const script = join(root, 'agent.sh');
    writeFileSync(script, `printf '%s' '{"hook_event_name":"PreToolUse","session_id":"agent-own","tool_name":"Bash","tool_input":{"command":"ls"},"tool_use_id":"hook-call-1","cwd":"${repo}"}' | bash ${HOOK} claude-code --event PreToolUse > ${join(root, 'hook.out')} 2>&1\n`);
    const spawned = await as('wanda').post('/sessions', { projectId: 'teams', agent: 'command', command: ['bash', script] });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id as string;
    const events = await eventually(async () => {
      const trail = (await as('rita').get(`/sessions/${id}/events`)).body.events as { type: string; data: Record<string, unknown>; metadata: Record<string, string> }[];
      return trail.some((e) => e.type === 'SessionExited') ? trail : null;
    }, 'the agent to end and its exit to be recorded', 30_000);
    const by = (type: string) => events.find((e) => e.type === type)?.metadata;
    expect(by('SessionStarted')).toMatchObject({ actor: 'user:wanda' });
    expect(by('ToolCallDispatched')).toMatchObject({ actor: `session:${id}`, via: 'claude-code-hook' });
    expect(by('SessionExited')).toMatchObject({ actor: 'runledger' });
    const system = (await admin.get('/events?from=0&limit=1000')).body.events as { type: string; streamId: string; metadata: Record<string, string> }[];
    expect(system.find((e) => e.type === 'ReconcileCompleted')?.metadata).toMatchObject({ actor: 'runledger', via: expect.stringMatching(/^reconciler:/) });
    expect(system.filter((e) => e.streamId.startsWith('user-')).map((e) => `${e.type} ${e.metadata.actor}`)).toEqual(['UserAdded user:admin', 'UserAdded user:admin', 'UserAdded user:admin']);
    // The admin token's events are the bootstrap admin's; the web page shows the actor of each event in its events panel.
    expect(system.find((e) => e.type === 'ProjectRegistered')?.metadata.actor).toBe('user:admin');
  });

  // docker-compose.yml's shape: this suite's `start` process (api and worker), plus one `api` and one `worker`, on one
  // PostgreSQL database and one data directory.
  (engine === 'postgres' ? it_ : it.skip)('runs two api processes and two workers on one database: people on both write to one session at once, each event names its actor, a worker records the exit of an agent the other api launched', async () => {
    const [other, worker] = await Promise.all([startServerProcess(env(), 'api'), startServerProcess(env(), 'worker')]);
    try {
      const sides = [as('wanda'), apiClient(other.url, tokens.ada)];
      const written = await Promise.all(
        Array.from({ length: 8 }, (_, i) => sides[i % 2].post('/sessions/teams-1/tool-calls', { callId: `both-${i}`, tool: 'Bash', input: { command: `echo ${i}` }, mode: 'observed' })),
      );
      expect(written.map((r) => r.status)).toEqual(Array(8).fill(201));
      const trail = (await admin.get('/sessions/teams-1/events')).body.events as { type: string; data: { callId?: string }; metadata: { actor: string } }[];
      const dispatched = trail.filter((e) => e.type === 'ToolCallDispatched' && e.data.callId?.startsWith('both-'));
      expect(dispatched.map((e) => `${e.data.callId} ${e.metadata.actor}`).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `both-${i} ${i % 2 ? 'user:ada' : 'user:wanda'}`).sort());

      // Only the launching process can reap its agent and learn its exit code; the workers read the record it leaves.
      const id = (await sides[1].post('/sessions', { projectId: 'teams', agent: 'command', command: ['sh', '-c', 'exit 3'] })).body.id as string;
      const ended = await eventually(async () => {
        const events = (await admin.get(`/sessions/${id}/events`)).body.events as { type: string; data: Record<string, unknown>; metadata: Record<string, string> }[];
        return events.find((e) => e.type === 'SessionExited' || e.type === 'SessionInterrupted') ?? null;
      }, 'the agent\'s end to be recorded', 30_000);
      expect(ended).toMatchObject({ type: 'SessionExited', data: { exitCode: 3 }, metadata: { actor: 'runledger', via: 'runtime-watcher' } });
    } finally {
      await Promise.all([other.stop(), worker.stop()]);
    }
  });

  it_('logs the web page in with a personal token; the login ends with the revocation', async () => {
    const login = await fetch(`${server.url}/api/v1/ui/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: tokens.rita }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    const page = (method: string, path: string) => fetch(`${server.url}/api/v1${path}`, { method, headers: { cookie, 'x-runledger-ui': '1' } });
    expect(await (await page('GET', '/ui/session')).json()).toEqual({ via: 'cookie', actor: 'user:rita', role: 'reader' });
    expect((await page('GET', '/sessions')).status).toBe(200);
    expect((await page('POST', '/sessions/teams-1/kill')).status).toBe(403);
    expect((await fetch(`${server.url}/`)).status).toBe(200);
    // A live tail the reader opened ends with the revocation, before it delivers anything appended after it.
    const tail = await fetch(`${server.url}/api/v1/events?from=${await head()}`, { headers: { authorization: `Bearer ${tokens.rita}`, accept: 'text/event-stream' } });
    const reader = tail.body!.getReader();
    let streamed = '';
    const ended = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return streamed;
        streamed += Buffer.from(value).toString('utf8');
      }
    })();
    await eventually(() => streamed.includes('runledger live feed'), 'the live tail to open');
    await admin.raw('DELETE', '/users/rita');
    await add('carl', 'reader'); // an event after the revocation
    expect(await ended).not.toMatch(/event: User(Revoked|Added)/);
    expect((await page('GET', '/sessions')).status).toBe(401);
  });

  it_('revokes at once (the next request is 401, in another api process too) and never alters the events of the person', async () => {
    const trail = async () => JSON.stringify((await admin.get('/events?from=0&limit=1000')).body.events.filter((e: { metadata: { actor?: string } }) => e.metadata.actor === 'user:wanda'));
    const before = await trail();
    expect(before).toContain('SessionStarted');
    let other: ServerProcess | undefined;
    if (engine === 'postgres') other = await startServerProcess({ ...env(), RUNLEDGER_DATA_DIR: join(root, 'other') }, 'api');
    try {
      const elsewhere = other ? apiClient(other.url, tokens.wanda) : as('wanda');
      expect((await elsewhere.get('/sessions')).status).toBe(200); // verified (and, where allowed, cached) before the revocation
      const revoked = await runCli(['user', 'revoke', 'wanda'], { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: tokens.ada });
      expect(revoked).toMatchObject({ code: 0, stdout: 'revoked wanda\n' });
      expect((await as('wanda').get('/sessions')).body).toMatchObject({ statusCode: 401, code: 'AUTH.TOKEN_REVOKED' });
      expect((await elsewhere.get('/sessions')).status).toBe(401);
    } finally {
      await other?.stop();
    }
    expect(await trail()).toBe(before);
    const listed = await runCli(['user', 'list', '--json'], { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: ADMIN });
    expect(JSON.parse(listed.stdout).users.find((u: { name: string }) => u.name === 'wanda')).toMatchObject({ active: false, revokedAt: expect.any(String) });
    expect((await admin.raw('DELETE', '/users/wanda')).status).toBe(204); // again: nothing appended
    const added = await runCli(['user', 'add', 'wanda', '--role', 'reader'], { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: ADMIN });
    expect(added.stdout).toMatch(/^rlu1\.\S{43}\n$/);
    expect((await apiClient(server.url, added.stdout.trim()).get('/sessions')).status).toBe(200);
    expect((await as('wanda').get('/sessions')).status).toBe(401); // the old token stays revoked
    tokens.wanda2 = added.stdout.trim();
  });

  it_('keeps no token in clear anywhere in the database: the token store holds keyed hashes', async () => {
    await admin.post('/sessions/teams-1/kill'); // a graceful stop leaves agents running
    await server.stop(); // PGlite belongs to one process: the test opens it once the server is gone
    const db = engine === 'postgres' ? new PostgresDatabase({ connectionString: databaseUrl, max: 2 }) : await PgliteDatabase.open(dataDir);
    try {
      const { rows } = await db.query<{ name: string; token_hash: string | null }>('SELECT name, token_hash FROM rl_users ORDER BY name');
      expect(rows.map((r) => r.name)).toEqual(['ada', 'carl', 'rita', 'wanda']);
      for (const row of rows) if (row.token_hash !== null) expect(row.token_hash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
      expect(rows.find((r) => r.name === 'rita')!.token_hash).toBeNull();
      for (const [name, token] of Object.entries(tokens)) {
        expect({ name, holding: await tablesHolding(db, token) }).toEqual({ name, holding: {} });
        expect({ name, holding: await tablesHolding(db, token.slice(5)) }).toEqual({ name, holding: {} });
      }
    } finally {
      await db.close();
    }
  });
});
