import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAutogroupNice } from '../../apps/worker/src/telemetry/cpu-priority';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { startOtlpReceiver, OtlpReceiver } from '../support/otel/otlp-receiver';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'span-export-process-token-0123456789';
const pg = chosenPostgres();
const describePg = 'skip' in pg ? describe.skip : describe;

/** A process as /proc tells it: parent, session, nice, autogroup nice (null without autogroups), command line. */
interface ProcInfo {
  pid: number;
  ppid: number;
  session: number;
  nice: number;
  autogroupNice: number | null;
  cmdline: string;
}

const procInfo = (pid: number): ProcInfo | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (in parentheses): state ppid pgrp session … nice is field 19 (index 16 here).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const autogroup = `/proc/${pid}/autogroup`;
    return {
      pid,
      ppid: Number(fields[1]),
      session: Number(fields[3]),
      nice: Number(fields[16]),
      autogroupNice: existsSync(autogroup) ? parseAutogroupNice(readFileSync(autogroup, 'utf8')) : null,
      cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '),
    };
  } catch {
    return null; // gone meanwhile
  }
};

/** The span export process of `server` once it has lowered its priority (it says so, then exports), else null. */
const exportProcessOf = (server: ServerProcess): ProcInfo | null =>
  exportProcesses().find((p) => p.ppid === server.pid && server.output().includes(`span export process ${p.pid}: nice`)) ?? null;

/** The span export processes whose command line is log-export.main.js (of any parent: one that outlived its worker counts). */
const exportProcesses = (): ProcInfo[] =>
  readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map((name) => procInfo(Number(name))).filter((p): p is ProcInfo => p !== null && p.cmdline.includes('log-export.main.js'));

/**
 * docs/ARCHITECTURE.md §4g on a real PostgreSQL: the span export runs in a process of its own, in a session of its own,
 * at nice 19 (its autogroup too, where the kernel has them), so it takes only CPU the appends leave (bench/otel); it
 * exports every call of the log (its lag, a gauge of /metrics, back to 0), stops when its worker is SIGKILLed, and the
 * next worker's export process continues from the checkpoint without sending a span twice.
 */
describePg(`span export in a process of its own on a real PostgreSQL (${'skip' in pg ? pg.skip : pg.source})`, () => {
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
    root = mkdtempSync(join(tmpdir(), 'rl-span-process-'));
    const db = await createTestDatabase(pg);
    drop = db.drop;
    receiver = await startOtlpReceiver();
    env = { DATABASE_URL: db.url, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'runledger-span-process' };
    server = await startServerProcess(env);
    const repo = makeRepo(join(root, 'repo'));
    expect((await api().post('/projects', { name: 'spans', repoPath: repo })).status).toBe(201);
    expect((await api().post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: 'cc-span-process', cwd: repo })).status).toBe(200);
    sessionId = (await api().get('/sessions?agentSessionId=cc-span-process')).body.sessions[0].id;
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
    await drop?.();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('exports from a child in a session of its own at nice 19, which stops with a SIGKILLed worker; the next one sends each span once', async () => {
    const first = await eventually(() => exportProcessOf(server), 'the span export process of the server');
    expect(first.session).not.toBe(procInfo(server.pid)!.session);
    expect(first.nice).toBe(19);
    if (first.autogroupNice !== null) expect(first.autogroupNice).toBe(19);
    expect(server.output()).toContain(`span export in its own process ${first.pid}`);

    await call('c1');
    await call('c2');
    await eventually(() => callSpans().length === 2 || null, 'the spans of c1 and c2', 30_000);
    // The span export's lag is a gauge of /metrics; it reaches 0 once every event is sent.
    await eventually(async () => (await exportLag()) === 0 || null, 'runledger_span_export_lag_events 0', 30_000);

    await server.stop('SIGKILL');
    await eventually(() => !exportProcesses().some((p) => p.pid === first.pid) || null, 'the span export process to stop with its worker', 20_000);

    server = await startServerProcess(env);
    const second = await eventually(() => exportProcessOf(server), 'the span export process of the restarted server');
    expect(second.pid).not.toBe(first.pid);
    await call('c3');
    await eventually(() => callSpans().length >= 3 || null, 'the span of c3', 30_000);
    expect(callSpans().map((s) => s.attributes['gen_ai.tool.call.id']).sort()).toEqual(['c1', 'c2', 'c3']);
    const ids = receiver.spans.map((s) => s.spanId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
