import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PostgresEventStore } from '@runledger/infra/event-store';
import { migrate, PostgresDatabase } from '@runledger/infra/database';
import { ALL_MIGRATIONS } from '@runledger/infra/database/all-migrations';
import { readStartTime } from '@runledger/infra/runtime';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { killProcessGroups } from '../support/process-groups';

const TOKEN = 'recovery-e2e-token-0123456';
const pg = chosenPostgres();
const describePg = 'skip' in pg ? describe.skip : describe;
const alive = (pid: number, startTime: string) => readStartTime(pid) === startTime;

/** Rows of the `system` stream's ReconcileCompleted events written by `pid`, read straight from the database. */
const reconcileOf = async (url: string, pid: number): Promise<Record<string, number> | null> => {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT data::text AS d FROM rl_events WHERE stream_id = 'system' AND type = 'ReconcileCompleted' AND (data->>'pid')::int = $1`, [pid]);
    return rows.length ? JSON.parse(rows[0].d) : null;
  } finally {
    await client.end();
  }
};
const eventsOf = async (url: string, streamId: string): Promise<{ type: string; data: any }[]> => {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT type, data::text AS d FROM rl_events WHERE stream_id = $1 ORDER BY revision`, [streamId]);
    return rows.map((r) => ({ type: r.type, data: JSON.parse(r.d) }));
  } finally {
    await client.end();
  }
};

describePg(`recovery on a real PostgreSQL (${'skip' in pg ? pg.skip : pg.source})`, () => {
  let root: string;
  let repo: string;
  let url: string;
  let drop: () => Promise<void>;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  const agents: number[] = [];
  const env = () => ({ DATABASE_URL: url, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, RUNLEDGER_KILL_GRACE_MS: '1000' });
  const restart = async (signal: NodeJS.Signals) => {
    await server.stop(signal);
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
    return reconciled();
  };
  /** Waits for this server's boot reconcile, then for the read models to hold it: the report is read from the log, snapshots trail it. */
  const reconciled = async () => {
    const report = await eventually(() => reconcileOf(url, server.pid), 'the restarted server to finish its reconcile', 60000);
    await eventually(async () => {
      const { projections, lastReconcile } = (await api.get('/status')).body;
      return lastReconcile?.report?.pid === server.pid && projections.checkpointPosition >= lastReconcile.globalPosition;
    }, 'the read models to hold the reconcile');
    return report;
  };

  beforeAll(async () => {
    if ('skip' in pg) return;
    root = mkdtempSync(join(tmpdir(), 'rl-recovery-'));
    repo = makeRepo(join(root, 'repo'));
    ({ url, drop } = await createTestDatabase(pg));
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
    await eventually(() => reconcileOf(url, server.pid), 'the first reconcile');
    expect((await api.post('/projects', { name: 'rec', repoPath: repo })).status).toBe(201);
  });
  afterAll(async () => {
    killProcessGroups(agents);
    await server?.stop('SIGKILL');
    await drop?.();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const spawnAgent = async (extra: Record<string, unknown> = {}) => {
    const s = await api.post('/sessions', { projectId: 'rec', agent: 'command', command: ['sh', '-c', 'exec sleep 600'], ...extra });
    expect(s.status).toBe(201);
    agents.push(s.body.runtime.pid);
    return s.body;
  };

  it('adopts both live agents under the same ids after a graceful SIGTERM, minting no id', async () => {
    const [a, b] = [await spawnAgent(), await spawnAgent()];
    const allocationsBefore = (await eventsOf(url, 'project-rec')).filter((e) => e.type === 'SessionIdAllocated').length;
    const report = await restart('SIGTERM');
    expect(alive(a.runtime.pid, a.runtime.startTime) && alive(b.runtime.pid, b.runtime.startTime)).toBe(true); // never killed
    expect(report.adopted).toBeGreaterThanOrEqual(2);
    for (const s of [a, b]) {
      const snapshot = (await api.get(`/sessions/${s.id}`)).body;
      expect(snapshot).toMatchObject({ id: s.id, status: 'running', runtime: { pid: s.runtime.pid, alive: true } });
      expect((await eventsOf(url, `session-${s.id}`)).at(-1)!.type).toBe('SessionAdopted');
    }
    expect((await eventsOf(url, 'project-rec')).filter((e) => e.type === 'SessionIdAllocated')).toHaveLength(allocationsBefore);
  });

  it('interrupts a managed shell call whose runledger was killed with SIGKILL, and adopts the agent', async () => {
    const s = await spawnAgent();
    const call = await api.post(`/sessions/${s.id}/tool-calls`, { callId: 'long-1', tool: 'shell', input: { command: 'echo started; sleep 30' }, mode: 'managed' });
    expect(call.status).toBe(201);
    // Wait until the executor holds the call's lease: the tool is running.
    await eventually(async () => {
      const client = new Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query(`SELECT 1 FROM rl_leases WHERE resource = $1`, [`tool-call:${s.id}:long-1:1`]);
      await client.end();
      return rows.length === 1;
    }, 'the executor to lease the call');
    const report = await restart('SIGKILL');
    expect(report.toolCallsInterrupted).toBeGreaterThanOrEqual(1);
    const calls = (await api.get(`/sessions/${s.id}/tool-calls`)).body.toolCalls;
    expect(calls.find((c: { callId: string }) => c.callId === 'long-1')).toMatchObject({ status: 'interrupted' });
    expect((await api.get(`/sessions/${s.id}`)).body).toMatchObject({ status: 'running', runtime: { pid: s.runtime.pid, alive: true } });
  });

  it('completes a call from the transcript when runledger died between PreToolUse and PostToolUse', async () => {
    const s = await spawnAgent();
    const transcript = join(root, `${randomUUID()}.jsonl`);
    const claude = randomUUID();
    const hook = (body: Record<string, unknown>) =>
      api.post('/hooks/claude-code', { session_id: claude, transcript_path: transcript, cwd: repo, ...body }, { 'x-runledger-session': s.id });
    expect((await hook({ hook_event_name: 'SessionStart' })).status).toBe(200);
    expect((await hook({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'toolu_01' })).status).toBe(200);
    const at = new Date().toISOString();
    writeFileSync(
      transcript,
      [
        { type: 'assistant', sessionId: claude, uuid: 'a1', timestamp: at, message: { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'Bash', input: { command: 'ls' } }] } },
        { type: 'user', sessionId: claude, uuid: 'u1', timestamp: at, message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: 'README.md', is_error: false }] } },
      ].map((l) => JSON.stringify(l)).join('\n') + '\n',
    );
    const report = await restart('SIGKILL');
    expect(report.transcriptResults).toBeGreaterThanOrEqual(1);
    const calls = (await api.get(`/sessions/${s.id}/tool-calls`)).body.toolCalls;
    expect(calls.find((c: { callId: string }) => c.callId === 'toolu_01')).toMatchObject({ status: 'completed', source: 'transcript', result: { output: 'README.md' } });
    const snapshot = (await api.get(`/sessions/${s.id}`)).body;
    expect(snapshot.divergences).toEqual([expect.objectContaining({ callId: 'toolu_01', kind: 'result_only_in_transcript' })]);
  });

  it('relaunches a worker with a prompt under the same id and leaves a promptless one interrupted', async () => {
    const withPrompt = await spawnAgent({ prompt: 'keep going' });
    const promptless = await spawnAgent();
    await server.stop('SIGKILL');
    for (const s of [withPrompt, promptless]) process.kill(-s.runtime.pid, 'SIGKILL');
    await eventually(() => !alive(withPrompt.runtime.pid, withPrompt.runtime.startTime) && !alive(promptless.runtime.pid, promptless.runtime.startTime), 'the agents to die');
    // A decoy: an agent of another installation that happens to have the same session id must not be adopted.
    const decoy = spawn('sh', ['-c', 'exec sleep 120'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, RUNLEDGER_SESSION_ID: withPrompt.id, RUNLEDGER_RUNTIME: 'agent', RUNLEDGER_AGENT_HOME: join(root, 'another-installation') },
    });
    decoy.unref();
    agents.push(decoy.pid!);
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
    const report = await reconciled();
    expect(report.relaunched).toBeGreaterThanOrEqual(1);
    expect(report.notResumable).toBeGreaterThanOrEqual(1);
    const relaunched = (await api.get(`/sessions/${withPrompt.id}`)).body;
    expect(relaunched).toMatchObject({ id: withPrompt.id, status: 'running', runtime: { alive: true } });
    expect(relaunched.runtime.pid).not.toBe(withPrompt.runtime.pid);
    expect(relaunched.runtime.pid).not.toBe(decoy.pid);
    agents.push(relaunched.runtime.pid);
    const stays = (await api.get(`/sessions/${promptless.id}`)).body;
    expect(stays).toMatchObject({ id: promptless.id, status: 'interrupted', interruption: expect.objectContaining({ resumable: false }) });
  });

  it('rebuilds and reports a snapshot that lags its stream', async () => {
    const s = await spawnAgent();
    // A spawn answers at commit: the GET waits until the projection holds it, so the projection's checkpoint is at the
    // stream's head when the snapshot is set back below (only the snapshot lags, as after a lost read-model write).
    expect((await api.get(`/sessions/${s.id}`)).body.revision).toBeGreaterThanOrEqual(2);
    await server.stop('SIGTERM');
    const client = new Client({ connectionString: url });
    await client.connect();
    await client.query(`UPDATE rl_rm_sessions SET revision = 0 WHERE session_id = $1`, [s.id]);
    await client.end();
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
    const report = await reconciled();
    expect(report.snapshotsRebuilt).toBeGreaterThanOrEqual(1);
    // Every session's state was taken from its snapshot (the rebuilt one too, now at its head) or folded from the log, and counted.
    const { loadedFrom } = report as unknown as { loadedFrom: { snapshots: number; log: number } };
    expect(loadedFrom.snapshots).toBeGreaterThanOrEqual(1);
    expect(loadedFrom.snapshots + loadedFrom.log).toBe(report.sessions + report.skippedLeased);
    const head = (await eventsOf(url, `session-${s.id}`)).length - 1;
    expect((await api.get(`/sessions/${s.id}`)).body.revision).toBe(head);
  });

  it('marks each orphaned call interrupted exactly once when two workers start at once on the same database', async () => {
    await server.stop('SIGTERM');
    const db = new PostgresDatabase({ connectionString: url });
    await migrate(db, ALL_MIGRATIONS);
    const store = new PostgresEventStore(db);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = `twin-${randomUUID().slice(0, 8)}`;
      ids.push(id);
      const at = new Date().toISOString();
      const events = [
        { type: 'SessionStarted', data: { sessionId: id, projectId: 'rec', kind: 'worker', agent: 'command', command: ['true'], branch: `runledger/${id}`, baseRef: 'main', at } },
        { type: 'SessionRuntimeLaunched', data: { runtime: { type: 'process', pid: 999999, startTime: '1', command: ['true'], logPath: '/dev/null' }, at } },
        ...[1, 2, 3].map((k) => ({ type: 'ToolCallDispatched', data: { callId: `m-${k}`, tool: 'shell', input: { command: 'true' }, mode: 'managed', attempt: 1, at } })),
      ];
      await store.appendToStream(`session-${id}`, events.map((e) => ({ eventId: randomUUID(), ...e })), 'no_stream');
    }
    await db.close();
    const workers = [0, 1].map(() =>
      spawn(process.execPath, [join(__dirname, '../../bin/runledger.js'), 'worker'], { env: { ...process.env, ...env() }, stdio: 'ignore' }),
    );
    try {
      await eventually(async () => (await reconcileOf(url, workers[0].pid!)) && (await reconcileOf(url, workers[1].pid!)), 'both workers to reconcile', 90000);
      for (const id of ids) {
        const interrupted = (await eventsOf(url, `session-${id}`)).filter((e) => e.type === 'ToolCallInterrupted');
        expect(interrupted.map((e) => e.data.callId).sort()).toEqual(['m-1', 'm-2', 'm-3']);
      }
    } finally {
      workers.forEach((w) => w.kill('SIGTERM'));
      await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));
    }
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
  });
});

