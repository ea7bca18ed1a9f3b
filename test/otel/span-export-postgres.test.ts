import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { startOtlpReceiver, OtlpReceiver } from '../support/otel/otlp-receiver';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'span-export-postgres-token-0123456789';
const pg = chosenPostgres();
const describePg = 'skip' in pg ? describe.skip : describe;

/**
 * docs/ARCHITECTURE.md §4g on a real PostgreSQL, with a loopback OTLP/HTTP receiver of our own: the span export sends
 * every call of the log and its lag (`runledger_span_export_lag_events` of /metrics) comes back to 0; after the server
 * is SIGKILLed, the next one continues from the checkpoint without sending a span twice.
 */
describePg(`span export on a real PostgreSQL (${'skip' in pg ? pg.skip : pg.source})`, () => {
  let root: string;
  let drop: () => Promise<void>;
  let receiver: OtlpReceiver;
  let server: ServerProcess;
  let env: Record<string, string>;
  let sessionId: string;
  const api = () => apiClient(server.url, TOKEN);
  const call = async (callId: string) => {
    expect((await api().post(`/sessions/${sessionId}/tool-calls`, { callId, tool: 'Bash', input: { command: `echo ${callId}` }, mode: 'observed' })).status).toBe(201);
    expect((await api().post(`/sessions/${sessionId}/tool-calls/${callId}/result`, { status: 'completed', output: { stdout: `${callId}\n` } })).status).toBe(200);
  };
  const callSpans = () => receiver.spans.filter((s) => s.name === 'execute_tool Bash');
  /** `runledger_span_export_lag_events` as /metrics reports it now (undefined when the gauge is not reported). */
  const exportLag = async (): Promise<number | undefined> => {
    const text = await (await fetch(`${server.url}/api/v1/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const line = text.split('\n').find((l) => l.startsWith('runledger_span_export_lag_events '));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };

  beforeAll(async () => {
    if ('skip' in pg) return;
    root = mkdtempSync(join(tmpdir(), 'rl-span-pg-'));
    const db = await createTestDatabase(pg);
    drop = db.drop;
    receiver = await startOtlpReceiver();
    env = { DATABASE_URL: db.url, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'runledger-span-pg' };
    server = await startServerProcess(env);
    const repo = makeRepo(join(root, 'repo'));
    expect((await api().post('/projects', { name: 'spans', repoPath: repo })).status).toBe(201);
    expect((await api().post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: 'cc-span-pg', cwd: repo })).status).toBe(200);
    sessionId = (await api().get('/sessions?agentSessionId=cc-span-pg')).body.sessions[0].id;
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
    await drop?.();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('exports every call, its lag gauge back to 0; after a SIGKILL the next server sends each span once', async () => {
    await call('c1');
    await call('c2');
    await eventually(() => callSpans().length === 2 || null, 'the spans of c1 and c2', 30_000);
    await eventually(async () => (await exportLag()) === 0 || null, 'runledger_span_export_lag_events 0', 30_000);

    await server.stop('SIGKILL');
    server = await startServerProcess(env);
    await call('c3');
    await eventually(() => callSpans().length >= 3 || null, 'the span of c3', 30_000);
    expect(callSpans().map((s) => s.attributes['gen_ai.tool.call.id']).sort()).toEqual(['c1', 'c2', 'c3']);
    const ids = receiver.spans.map((s) => s.spanId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
