import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'observability-e2e-token-0123';
const CORRELATION = 'test-corr-1';
const OPENAPI_FILE = join(__dirname, '../../openapi.json');

/** The series every scrape must expose (README "Observability"; the names are a contract). */
const SERIES = [
  'runledger_appends_total', 'runledger_appended_events_total', 'runledger_append_duration_seconds',
  'runledger_tool_calls', 'runledger_sessions', 'runledger_projection_lag_events', 'runledger_projection_dead_letters', 'runledger_reconcile_outcomes_total',
];
const OUTCOMES = ['adopted', 'interrupted', 'relaunched', 'not_resumable', 'tool_calls_interrupted', 'transcript_results', 'snapshots_rebuilt'];

/**
 * Validates an OpenAPI file with @apidevtools/swagger-parser in a child Node (its ref parser is ESM-only, which jest's
 * CommonJS runtime cannot load); throws with the validator's message when invalid.
 */
const validateOpenApi = (file: string): string =>
  execFileSync(
    process.execPath,
    ['-e', "require('@apidevtools/swagger-parser').validate(process.argv[1]).then((a) => console.log('valid OpenAPI ' + a.openapi), (e) => { console.error(e.message); process.exit(1); })", file],
    { encoding: 'utf8', cwd: join(__dirname, '../..') },
  ).trim();

/** Samples of a Prometheus text exposition: `name{labels}` → value. */
const parseSamples = (text: string): Map<string, number> => {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
};

/** Sum of every sample of `name` (all label sets). */
const total = (samples: Map<string, number>, name: string): number =>
  [...samples].filter(([key]) => key === name || key.startsWith(`${name}{`)).reduce((sum, [, v]) => sum + v, 0);

/** The JSON log lines of a server's output (other lines skipped). */
const jsonLines = (output: string): Record<string, unknown>[] =>
  output.split('\n').filter((l) => l.startsWith('{')).flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

describe('observability: /metrics, OpenAPI, structured logs with correlation ids', () => {
  let root: string;
  let dataDir: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let sessionId: string;
  const env = () => ({ RUNLEDGER_DATA_DIR: dataDir, RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', RUNLEDGER_LOG_LEVEL: '' });
  const scrape = async (token: string | null = TOKEN) =>
    fetch(`${server.url}/api/v1/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-obs-'));
    dataDir = join(root, 'data');
    const repo = makeRepo(join(root, 'repo'));
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'obs', id: 'obs', repoPath: repo })).status).toBe(201);
    const spawned = await api.raw('POST', '/sessions', { projectId: 'obs', agent: 'command', command: ['sh', '-c', 'exec sleep 600'] }, { 'x-correlation-id': CORRELATION });
    expect(spawned.status).toBe(201);
    sessionId = spawned.body.id;
    const call = await api.post(`/sessions/${sessionId}/tool-calls`, { callId: 'obs-call-1', tool: 'Bash', input: { command: 'ls' }, mode: 'observed' });
    expect(call.status).toBe(201);
  });

  afterAll(async () => {
    await api?.post(`/sessions/${sessionId}/kill`).catch(() => undefined);
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves every runledger series in Prometheus text format with the bearer token, and 401 without it', async () => {
    const response = await scrape();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const name of SERIES) expect(text).toContain(`# TYPE ${name} `);
    const samples = parseSamples(text);
    expect(samples.get('runledger_appends_total{stream_kind="session"}')).toBeGreaterThanOrEqual(4); // started, worktree, launched, dispatched
    expect(samples.get('runledger_appends_total{stream_kind="project"}')).toBeGreaterThanOrEqual(1);
    expect(samples.get('runledger_appends_total{stream_kind="system"}')).toBeGreaterThanOrEqual(1); // ServerStarted
    expect(total(samples, 'runledger_appended_events_total')).toBeGreaterThanOrEqual(total(samples, 'runledger_appends_total'));
    expect(total(samples, 'runledger_append_duration_seconds_count')).toBe(total(samples, 'runledger_appends_total') + total(samples, 'runledger_append_failures_total'));
    expect(samples.get('runledger_append_duration_seconds_bucket{le="+Inf",stream_kind="session"}')).toBe(samples.get('runledger_append_duration_seconds_count{stream_kind="session"}'));
    expect(samples.get('runledger_sessions{status="running"}')).toBe(1);
    expect(samples.get('runledger_sessions{status="terminated"}')).toBe(0);
    expect(samples.get('runledger_tool_calls{status="dispatched"}')).toBe(1);
    expect(samples.get('runledger_tool_calls{status="completed"}')).toBe(0);
    expect(samples.get('runledger_projection_lag_events')).toBeGreaterThanOrEqual(0);
    expect(samples.has('runledger_span_export_lag_events')).toBe(false); // no exporter configured: no export, no lag reported
    for (const outcome of OUTCOMES) expect(samples.get(`runledger_reconcile_outcomes_total{outcome="${outcome}"}`)).toBe(0);

    // A result moves the call to completed at the next scrape (gauges are computed from the read model when scraped).
    expect((await api.post(`/sessions/${sessionId}/tool-calls/obs-call-1/result`, { status: 'completed', output: 'ok' })).status).toBe(200);
    const after = parseSamples(await (await scrape()).text());
    expect(after.get('runledger_tool_calls{status="completed"}')).toBe(1);
    expect(after.get('runledger_tool_calls{status="dispatched"}')).toBe(0);
    expect(after.get('runledger_appends_total{stream_kind="session"}')).toBe(samples.get('runledger_appends_total{stream_kind="session"}')! + 1);
    await eventually(async () => parseSamples(await (await scrape()).text()).get('runledger_projection_lag_events') === 0, 'projection lag 0');

    expect((await scrape(null)).status).toBe(401);
    expect((await scrape('wrong-token-wrong-token-0123')).status).toBe(401);
  });

  it('carries the X-Correlation-Id into the events\' metadata, the response header and the request\'s log lines', async () => {
    const events = (await api.get(`/sessions/${sessionId}/events`)).body.events as { type: string; metadata: { correlationId?: string } }[];
    const spawnEvents = events.filter((e) => ['SessionStarted', 'WorktreeCreated', 'SessionRuntimeLaunched'].includes(e.type));
    expect(spawnEvents.length).toBeGreaterThanOrEqual(3);
    for (const e of spawnEvents) expect(e.metadata.correlationId).toBe(CORRELATION);

    const lines = jsonLines(server.output());
    const request = lines.find((l) => l.correlationId === CORRELATION && (l.res as { statusCode?: number } | undefined)?.statusCode === 201);
    expect(request).toMatchObject({ level: 'info', req: { method: 'POST', url: '/api/v1/sessions' }, msg: expect.stringContaining('POST /api/v1/sessions 201') });
    const appended = lines.filter((l) => l.context === 'EventStore' && l.correlationId === CORRELATION).map((l) => l.types);
    expect(appended).toEqual(expect.arrayContaining([['SessionStarted'], ['WorktreeCreated'], ['SessionRuntimeLaunched']]));
    // No request header (the bearer token above all) ever reaches the log.
    expect(server.output()).not.toContain(TOKEN);

    // Without the header, a new uuid: in the response header, the log line and the event alike.
    const call = await api.raw('POST', `/sessions/${sessionId}/tool-calls`, { callId: 'obs-call-2', tool: 'Bash', input: { command: 'pwd' }, mode: 'observed' });
    expect(call.status).toBe(201);
    const response = await fetch(`${server.url}/api/v1/sessions/${sessionId}/tool-calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'x-correlation-id': 'test-corr-2' },
      body: JSON.stringify({ callId: 'obs-call-3', tool: 'Bash', input: { command: 'id' }, mode: 'observed' }),
    });
    expect(response.headers.get('x-correlation-id')).toBe('test-corr-2');
    const dispatched = ((await api.get(`/sessions/${sessionId}/events`)).body.events as { type: string; data: { callId: string }; metadata: { correlationId: string } }[])
      .filter((e) => e.type === 'ToolCallDispatched');
    const generated = dispatched.find((e) => e.data.callId === 'obs-call-2')!.metadata.correlationId;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(dispatched.find((e) => e.data.callId === 'obs-call-3')!.metadata.correlationId).toBe('test-corr-2');
    await eventually(() => jsonLines(server.output()).some((l) => l.correlationId === generated && String(l.msg).startsWith('POST ')), 'the request line of the generated id');
  });

  it('commits an openapi.json that validates, matches the served document and lists every mapped route with its DTOs', async () => {
    const committed = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'));
    expect(validateOpenApi(OPENAPI_FILE)).toBe('valid OpenAPI 3.0.0');

    // The document served by the running server (built from the same controllers) is the committed one: regenerate
    // it with `npm run openapi` after changing a route or a DTO.
    const served = await (await fetch(`${server.url}/api/docs/openapi.json`)).json();
    expect(served).toEqual(committed);

    // Every route Nest mapped at start-up (its "Mapped {path, METHOD} route" log lines) is documented, and nothing else.
    const mapped = [...server.output().matchAll(/Mapped \{([^,]+), (\w+)\} route/g)].map(([, path, method]) => `${method.toLowerCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
    expect(mapped.length).toBeGreaterThanOrEqual(20);
    const documented = Object.entries(committed.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    expect(documented.sort()).toEqual([...new Set(mapped)].sort());
    for (const route of [
      'post /api/v1/projects', 'get /api/v1/projects', 'get /api/v1/projects/{id}', 'post /api/v1/sessions', 'get /api/v1/sessions', 'get /api/v1/sessions/{id}',
      'get /api/v1/sessions/{id}/events', 'get /api/v1/sessions/{id}/state', 'post /api/v1/sessions/{id}/kill', 'post /api/v1/sessions/{id}/cleanup',
      'post /api/v1/sessions/{id}/restore', 'post /api/v1/sessions/{sessionId}/tool-calls', 'get /api/v1/sessions/{sessionId}/tool-calls',
      'post /api/v1/sessions/{sessionId}/tool-calls/{callId}/result', 'post /api/v1/hooks/{agent}', 'get /api/v1/health', 'get /api/v1/metrics',
      'post /api/v1/otlp/v1/logs',
    ]) expect(documented).toContain(route);

    const schemas = committed.components.schemas;
    expect(schemas.SpawnSessionDto).toMatchObject({
      properties: { projectId: { type: 'string' }, agent: { enum: ['command', 'claude-code', 'codex', 'opencode', 'gemini-cli'] }, kind: { enum: ['worker', 'orchestrator'] }, command: { type: 'array' } },
      required: expect.arrayContaining(['projectId', 'agent']),
    });
    expect(schemas.RegisterProjectDto.required).toEqual(['name']);
    expect(schemas.RequestToolCallDto.required).toEqual(expect.arrayContaining(['tool', 'input', 'mode']));
    expect(schemas.ToolCallResultDto.properties.status).toMatchObject({ enum: ['completed', 'failed'] });
    expect(committed.paths['/api/v1/sessions'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/SpawnSessionDto' });
    expect(committed.paths['/api/v1/sessions'].post.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Session' });
    expect(committed.paths['/api/v1/sessions'].post.security).toEqual([{ bearer: [] }]);
    expect(committed.paths['/api/v1/health'].get.security).toBeUndefined();
    expect(committed.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('serves Swagger UI at /api/docs without a token', async () => {
    const response = await fetch(`${server.url}/api/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(await response.text()).toMatch(/swagger/i);
  });

  it('counts the boot reconcile\'s outcomes: the live session is adopted after a restart', async () => {
    expect(await server.stop('SIGTERM')).toMatchObject({ code: 0 });
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
    const samples = await eventually(async () => {
      const s = parseSamples(await (await scrape()).text());
      return s.get('runledger_reconcile_outcomes_total{outcome="adopted"}') === 1 ? s : null;
    }, 'reconcile outcome adopted=1');
    for (const outcome of OUTCOMES.filter((o) => o !== 'adopted')) expect(samples.get(`runledger_reconcile_outcomes_total{outcome="${outcome}"}`)).toBe(0);
    expect(samples.get('runledger_sessions{status="running"}')).toBe(1);
    // The reconciler's own appends (outside any request) log the correlation id of their events.
    const reconciled = await eventually(
      () => jsonLines(server.output()).find((l) => l.context === 'EventStore' && (l.types as string[]).includes('ReconcileCompleted')),
      'the ReconcileCompleted append line',
    );
    expect(reconciled).toMatchObject({ streamId: 'system', correlationId: expect.any(String), actor: 'runledger' });
  });
});
