import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { PgliteDatabase, PostgresDatabase, SqlDatabase } from '@runledger/infra/database';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';
import { tablesHolding } from '../support/tables-holding';

// docs/ARCHITECTURE.md §4c, invariants 12 and 16: env values in a sealed store, names and fingerprints in the log,
// crypto-shredding, one redaction door for every persisted string — on both engines, through the real server.

const TOKEN = 'secrets-e2e-admin-token-0123456789';
/** A configured secret (RUNLEDGER_SECRETS) whose URL-encoded and base64 forms differ from it. */
const CONFIGURED = 'sekrit value/42+x';
const API_KEY = 'api-key-value-9f8e7d6c5b';
const DB_PASSWORD = 'db-password-value-1a2b3c4d';
const GHP = 'ghp_' + 'Z9y8X7w6V5'.repeat(4);
/** Every form of every secret that must not be stored anywhere. */
const FORBIDDEN = [
  CONFIGURED, encodeURIComponent(CONFIGURED), Buffer.from(CONFIGURED).toString('base64').replace(/=+$/, ''),
  API_KEY, Buffer.from(API_KEY).toString('base64').replace(/=+$/, ''), DB_PASSWORD, GHP, TOKEN,
];

type Engine = 'pglite' | 'postgres';
const pg = chosenPostgres();

describe.each<Engine>(['pglite', 'postgres'])('secrets on %s', (engine) => {
  const skip = engine === 'postgres' && 'skip' in pg;
  let root: string;
  let dataDir: string;
  let databaseUrl = '';
  let drop: (() => Promise<void>) | undefined;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let repo: string;
  let sessionId: string;
  /** PGlite runs on the generated key file; PostgreSQL on RUNLEDGER_SECRET_KEY. */
  const secretKey = engine === 'postgres' ? randomBytes(32).toString('base64') : '';
  const env = () => ({ RUNLEDGER_DATA_DIR: dataDir, RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: databaseUrl, RUNLEDGER_SECRETS: CONFIGURED, RUNLEDGER_SECRET_KEY: secretKey });
  const managed = async (command: string): Promise<string> => {
    const call = await api.post(`/sessions/${sessionId}/tool-calls?wait=true&timeoutMs=60000`, { tool: 'shell', input: { command }, mode: 'managed' });
    expect(call.body.status).toBe('completed');
    return call.body.result.output.stdout as string;
  };
  const head = async (): Promise<number> => (await api.get('/health')).body.headPosition;

  beforeAll(async () => {
    if (skip) return;
    root = mkdtempSync(join(tmpdir(), `rl-secrets-${engine}-`));
    dataDir = join(root, 'data');
    repo = makeRepo(join(root, 'repo'));
    if (engine === 'postgres' && !('skip' in pg)) ({ url: databaseUrl, drop } = await createTestDatabase(pg));
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
    const registered = await api.post('/projects', { name: `vault ${CONFIGURED}`, id: 'vault', repoPath: repo, env: { API_KEY, DB_PASSWORD } });
    expect(registered.status).toBe(201);
    sessionId = (await api.post('/sessions', { projectId: 'vault', agent: 'command', command: ['sh', '-c', 'exec sleep 300'] })).body.id;
  });
  afterAll(async () => {
    if (skip) return;
    await server?.stop();
    await drop?.();
    rmSync(root, { recursive: true, force: true });
  });
  const it_ = skip ? it.skip : it;

  it_('keeps env values out of the log and every read: events carry names and keyed fingerprints', async () => {
    const events = (await api.get('/events?from=0&limit=1000')).body.events as { type: string; data: Record<string, unknown> }[];
    const registered = events.find((e) => e.type === 'ProjectRegistered')!;
    expect(registered.data.env).toBeUndefined();
    expect(Object.keys(registered.data.envFingerprints as object)).toEqual(['API_KEY', 'DB_PASSWORD']);
    for (const fp of Object.values(registered.data.envFingerprints as Record<string, string>)) expect(fp).toMatch(/^hmac-sha256:[0-9a-f]{24}$/);
    expect(registered.data.name).toBe('vault [REDACTED:secret]');
    const reads = JSON.stringify([events, (await api.get('/projects')).body, (await api.get('/projects/vault')).body]);
    for (const value of [API_KEY, DB_PASSWORD, CONFIGURED]) expect(reads).not.toContain(value);
    expect((await api.get('/projects/vault')).body.env).toEqual({ API_KEY: '***', DB_PASSWORD: '***' });
    if (engine === 'pglite') {
      expect(statSync(join(dataDir, 'secrets', 'secret.key')).mode & 0o777).toBe(0o600);
      expect(server.output()).toContain('generated the secret store key');
    } else {
      expect(existsSync(join(dataDir, 'secrets', 'secret.key'))).toBe(false);
    }
  });

  it_('gives a managed shell call the project env but never the admin token or the database URL', async () => {
    // The command names no value (a literal secret in a command is redacted before it is dispatched): the tool shows
    // digests of what it received.
    const stdout = await managed(
      'printf %s "$API_KEY" | sha256sum; printf %s "$DB_PASSWORD" | sha256sum; ' +
      'echo "TOKEN:${RUNLEDGER_TOKEN:-none} DB:${DATABASE_URL:-none} KEY:${RUNLEDGER_SECRET_KEY:-none}"; printf %s "$API_KEY" | base64',
    );
    expect(stdout).toContain(createHash('sha256').update(API_KEY).digest('hex'));
    expect(stdout).toContain(createHash('sha256').update(DB_PASSWORD).digest('hex'));
    expect(stdout).toContain('TOKEN:none DB:none KEY:none');
    // The value the tool printed (base64-encoded) is redacted on its way into the log.
    expect(stdout).not.toContain(Buffer.from(API_KEY).toString('base64').replace(/=+$/, ''));
    expect(stdout).toContain('[REDACTED:secret]');
  });

  it_('refuses a request whose identifier holds a secret, naming the field, and appends nothing', async () => {
    const before = await head();
    const cases: [string, () => Promise<{ status: number; body: { details?: { field?: string } } }>][] = [
      ['tool', () => api.post(`/sessions/${sessionId}/tool-calls`, { tool: `Bash-${API_KEY}`, input: {}, mode: 'observed' })],
      ['callId', () => api.post(`/sessions/${sessionId}/tool-calls`, { callId: `c-${API_KEY}`, tool: 'Bash', input: {}, mode: 'observed' })],
      ['runId', () => api.post(`/sessions/${sessionId}/tool-calls`, { runId: `r-${API_KEY}`, tool: 'Bash', input: {}, mode: 'observed' })],
      ['Idempotency-Key', () => api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'Bash', input: {}, mode: 'observed' }, { 'idempotency-key': `k-${API_KEY}` })],
      ['X-Correlation-Id', () => api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'Bash', input: {}, mode: 'observed' }, { 'x-correlation-id': `x-${API_KEY}` })],
      ['session_id', () => api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: `s-${API_KEY}`, cwd: repo })],
      ['transcript_path', () => api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: 'clean-id', cwd: repo, transcript_path: `/tmp/${GHP}_x.jsonl` })],
    ];
    for (const [field, request] of cases) {
      const response = await request();
      expect({ field, status: response.status, named: response.body.details?.field }).toEqual({ field, status: 400, named: field });
    }
    expect(await head()).toBe(before);
  });

  it_('redacts every other persisted string: spawn command and prompt, kill reason, object keys, ghp_…_, encoded forms', async () => {
    const spawned = await api.post('/sessions', { projectId: 'vault', agent: 'command', command: ['sh', '-c', `exec sleep 300 # ${CONFIGURED}`], prompt: `use ${DB_PASSWORD}` });
    expect(spawned.status).toBe(201);
    await api.post(`/sessions/${spawned.body.id}/kill`, { reason: `done with ${API_KEY}` });
    const input = { [API_KEY]: 1, note: `${GHP}_suffix`, url: `https://x/?k=${encodeURIComponent(CONFIGURED)}`, b64: Buffer.from(CONFIGURED).toString('base64') };
    const call = await api.post(`/sessions/${sessionId}/tool-calls`, { callId: 'keys-1', tool: 'Bash', input, mode: 'observed' });
    expect(call.status).toBe(201);
    expect(call.body.input).toEqual({ '[REDACTED:secret]': 1, note: '[REDACTED:github_token]_suffix', url: 'https://x/?k=[REDACTED:secret]', b64: `[REDACTED:secret]${/=*$/.exec(Buffer.from(CONFIGURED).toString('base64'))![0]}` });
    const trail = JSON.stringify((await api.get(`/sessions/${spawned.body.id}/events`)).body.events);
    expect(trail).toContain('exec sleep 300 # [REDACTED:secret]');
    expect(trail).toContain('done with [REDACTED:secret]');
    for (const value of FORBIDDEN) expect(trail).not.toContain(value);
  });

  it_('forgets a value: reads show it forgotten, the log stays verifiable, and nothing launched afterwards receives it', async () => {
    expect((await api.post('/projects/vault/env/forget', { names: ['NOPE'] })).body.details).toEqual({ field: 'names[0]' });
    const forgot = await api.post('/projects/vault/env/forget', { names: ['API_KEY'] });
    expect(forgot.status).toBe(200);
    expect(forgot.body.env).toEqual({ API_KEY: '[forgotten]', DB_PASSWORD: '***' });
    await eventually(async () => (await api.get('/projects/vault')).body.env.API_KEY === '[forgotten]', 'the read model shows API_KEY forgotten');
    const before = await head();
    expect((await api.post('/projects/vault/env/forget', { names: ['API_KEY'] })).status).toBe(200);
    expect(await head()).toBe(before); // forgetting twice appends nothing
    const events = (await api.get('/events?from=0&limit=1000')).body.events as { type: string; data: unknown }[];
    expect(events.filter((e) => e.type === 'ProjectEnvForgotten').map((e) => e.data)).toEqual([{ names: ['API_KEY'], at: expect.any(String) }]);

    expect(await managed('echo "A:${API_KEY:-unset} D:${DB_PASSWORD:+set}"')).toContain('A:unset D:set');
    const spawned = await api.post('/sessions', { projectId: 'vault', agent: 'command', command: ['sh', '-c', 'echo "A:${API_KEY:-unset} D:${DB_PASSWORD:+set}" > seen.txt; exec sleep 300'] });
    const seen = join(spawned.body.worktrees[0].path, 'seen.txt');
    expect((await eventually(() => existsSync(seen) && readFileSync(seen, 'utf8'), 'the agent wrote what it saw'))).toBe('A:unset D:set\n');
    await api.post(`/sessions/${spawned.body.id}/kill`);

    const cli = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN };
    expect((await runCli(['verify'], cli)).code).toBe(0);
    expect((await runCli(['project', 'forget-env', 'vault', '--all'], cli)).stdout).toContain('env forgotten: API_KEY, DB_PASSWORD');
  });

  it_('leaves no secret value in any table, and the sealed store nothing after forgetting', async () => {
    await server.stop();
    const db: SqlDatabase = engine === 'pglite' ? await PgliteDatabase.open(dataDir) : new PostgresDatabase({ connectionString: databaseUrl, max: 2 });
    try {
      for (const value of FORBIDDEN) expect({ value, tables: await tablesHolding(db, value) }).toEqual({ value, tables: {} });
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM rl_project_secrets')).rows[0].n).toBe(0);
    } finally {
      await db.close();
    }
    if (engine === 'postgres') {
      // Another key than the one the store was sealed with is refused at start, never silently used.
      await expect(startServerProcess({ ...env(), RUNLEDGER_SECRET_KEY: 'not-a-key' })).rejects.toThrow(/RUNLEDGER_SECRET_KEY: expected a 256-bit key/);
    }
  });
});
