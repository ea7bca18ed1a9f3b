import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git, makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';
import { killTmuxServer, tmux, tmuxSessions } from '../support/tmux';

const TOKEN = 'orchestrators-e2e-token-0123456';
const ORCHESTRATOR = ['sh', '-c', 'echo orchestrating; exec sleep 600'];
const pg = chosenPostgres();
const BIN = join(__dirname, '../../bin/runledger.js');

type Engine = { name: string; url?: string; drop?: () => Promise<void>; skip?: string };

const engines: Engine[] = [{ name: 'PGlite' }, 'skip' in pg ? { name: 'PostgreSQL', skip: pg.skip } : { name: 'PostgreSQL' }];

describe.each(engines)('orchestrators and the tmux runtime on $name (docs/ARCHITECTURE.md §4a, §4b, invariants 7, 10, 11)', (engine) => {
  const run = engine.skip ? it.skip : it;
  let root: string;
  let repo: string;
  let socket: string;
  let server: ServerProcess;
  let second: ServerProcess | undefined;
  let api: ReturnType<typeof apiClient>;
  const env = () => ({
    RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: engine.url ?? '', RUNLEDGER_KILL_GRACE_MS: '1000',
  });
  const restart = async (signal: NodeJS.Signals) => {
    await server.stop(signal);
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
  };
  const ensure = (body: Record<string, unknown> = {}) => api.post('/projects/orch/orchestrator', { command: ORCHESTRATOR, ...body });
  const eventTypes = async (id: string): Promise<string[]> => (await api.get(`/sessions/${id}/events?limit=1000`)).body.events.map((e: { type: string }) => e.type);
  const activeOrchestrators = async (): Promise<string[]> =>
    (await api.get('/sessions?projectId=orch&kind=orchestrator')).body.sessions.filter((s: { status: string }) => s.status !== 'terminated').map((s: { id: string }) => s.id);

  beforeAll(async () => {
    if (engine.skip) return;
    root = mkdtempSync(join(tmpdir(), 'rl-orch-'));
    socket = join(root, 'data', 'tmux.sock');
    repo = makeRepo(join(root, 'repo'));
    if (engine.name === 'PostgreSQL' && !('skip' in pg)) ({ url: engine.url, drop: engine.drop } = await createTestDatabase(pg));
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { id: 'orch', name: 'orch', repoPath: repo, orchestratorAgent: 'command' })).status).toBe(201);
  });
  afterAll(async () => {
    if (engine.skip) return;
    await second?.stop('SIGKILL');
    await server?.stop('SIGKILL');
    killTmuxServer(socket);
    await engine.drop?.();
    rmSync(root, { recursive: true, force: true });
  });

  run('8 concurrent ensures (4 through a second api process on PostgreSQL) return one orchestrator: one 201, seven 200, one tmux session', async () => {
    let otherApi = api;
    if (engine.url) {
      second = await startServerProcess(env(), 'api');
      otherApi = apiClient(second.url, TOKEN);
    }
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? api : otherApi).post('/projects/orch/orchestrator', { command: ORCHESTRATOR })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const ids = new Set(answers.map((a) => a.body.id));
    expect([...ids]).toEqual(['orch-1']);
    expect(answers[0].body).toMatchObject({ kind: 'orchestrator', status: 'running', branch: 'runledger/orch-orchestrator', runtime: { type: 'tmux', alive: true } });
    expect(tmuxSessions(socket)).toEqual(['rl-orch-1']);
    expect(await activeOrchestrators()).toEqual(['orch-1']);
    const project = (await api.get('/projects/orch')).body;
    expect(project.orchestrator).toEqual({ sessionId: 'orch-1', status: 'running', agent: 'command', health: 'live' });
    // The pane's output is appended to the session log.
    await eventually(() => existsSync(join(root, 'data/logs/orch-1.log')) && readFileSync(join(root, 'data/logs/orch-1.log'), 'utf8').includes('orchestrating'), 'the pane output in the log');
    await second?.stop();
    second = undefined;
  });

  run.each(['SIGTERM', 'SIGKILL'] as const)('after %s of runledger the tmux session survives and ensure returns the same id and the same tmux session (adopted)', async (signal) => {
    const before = (await api.get('/sessions/orch-1')).body;
    const adoptedBefore = (await eventTypes('orch-1')).filter((t) => t === 'SessionAdopted').length;
    await restart(signal);
    expect(tmuxSessions(socket)).toEqual(['rl-orch-1']); // a graceful shutdown never kills agent runtimes
    await eventually(async () => (await eventTypes('orch-1')).filter((t) => t === 'SessionAdopted').length > adoptedBefore, 'the boot reconcile to adopt the tmux session', 60000);
    const ensured = await ensure();
    expect(ensured.status).toBe(200);
    expect(ensured.body).toMatchObject({ id: 'orch-1', status: 'running', runtime: { type: 'tmux', pid: before.runtime.pid, sessionName: 'rl-orch-1', alive: true } });
  });

  run('tmux kill-server (a reboot) makes the runtime dead: interrupted, then relaunched fresh under the same id', async () => {
    const before = (await api.get('/sessions/orch-1')).body;
    tmux(socket, 'kill-server');
    await eventually(async () => (await api.get('/projects/orch')).body.orchestrator?.health === 'interrupted', 'the project to show its orchestrator interrupted');
    const ensured = await ensure();
    expect(ensured.status).toBe(200);
    expect(ensured.body).toMatchObject({ id: 'orch-1', status: 'running', runtime: { type: 'tmux', alive: true } });
    expect(ensured.body.runtime.pid).not.toBe(before.runtime.pid);
    const types = await eventTypes('orch-1');
    expect(types.slice(-3)).toEqual(['SessionInterrupted', 'SessionRestoreStarted', 'SessionRuntimeLaunched']);
    expect(tmuxSessions(socket)).toEqual(['rl-orch-1']);
    expect((await api.get('/projects/orch')).body.orchestrator.health).toBe('live');
    const cli = await runCli(['orchestrator', 'ensure', 'orch'], { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN });
    expect(cli).toMatchObject({ code: 0, stdout: 'orch-1 running (existing) on runledger/orch-orchestrator\n' });
  });

  run('runledger attach works from a pseudo-terminal: the outer pane shows the agent\'s screen', async () => {
    const outer = join(root, 'outer.sock'); // the person's terminal: a tmux pane of its own server
    tmux(outer, 'new-session', '-d', '-s', 'person', '-x', '120', '-y', '30', '-e', `RUNLEDGER_URL=${server.url}`, '-e', `RUNLEDGER_TOKEN=${TOKEN}`, process.execPath, BIN, 'attach', 'orch-1');
    try {
      await eventually(() => tmux(outer, 'capture-pane', '-p', '-t', '=person:').includes('orchestrating'), 'the attached terminal to show the agent screen', 20000);
      expect(tmux(socket, 'list-clients', '-F', '#{session_name}').trim()).toBe('rl-orch-1');
    } finally {
      tmux(outer, 'kill-server');
    }
    const refused = await runCli(['attach', 'orch-404'], { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN });
    expect(refused.code).toBe(2); // 404: the user's input
    expect(refused.stderr).toMatch(/orch-404/);
  });

  run('replace with a dirty orchestrator worktree: work in the preserved ref, the new one verified on the canonical branch, the old one terminated, exactly one active', async () => {
    const old = (await api.get('/sessions/orch-1')).body;
    writeFileSync(join(old.worktrees[0].path, 'plan.md'), 'half-written plan\n');
    const replaced = await ensure({ clean: true });
    expect(replaced.status).toBe(201);
    const fresh = replaced.body;
    expect(fresh).toMatchObject({ kind: 'orchestrator', agent: 'command', status: 'running', branch: 'runledger/orch-orchestrator', runtime: { type: 'tmux', alive: true } });
    expect(fresh.id).not.toBe('orch-1');
    expect(git(repo, 'show', 'refs/runledger/preserved/orch-1:plan.md')).toBe('half-written plan');
    expect(git(fresh.worktrees[0].path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('runledger/orch-orchestrator');
    const oldNow = await eventually(async () => {
      const s = (await api.get('/sessions/orch-1')).body;
      return s.status === 'terminated' ? s : null;
    }, 'the old orchestrator terminated');
    expect(oldNow).toMatchObject({ status: 'terminated', worktrees: [{ state: 'unavailable', preservedRef: 'refs/runledger/preserved/orch-1' }] });
    const types = await eventTypes('orch-1');
    expect(types.indexOf('SessionRetiring')).toBeLessThan(types.indexOf('WorktreeWorkPreserved'));
    expect(types.indexOf('WorktreeRemoved')).toBeLessThan(types.indexOf('SessionTerminated')); // terminated only after the branch is released
    expect(tmuxSessions(socket)).toEqual([`rl-${fresh.id}`]);
    await eventually(async () => (await activeOrchestrators()).join() === fresh.id, 'the projection of the replacement');
    expect((await api.get('/projects/orch')).body.orchestrator).toMatchObject({ sessionId: fresh.id, health: 'live' });
  });

  run('replace with the old worktree unremovable: a clear error, the old one retiring with the reason; the cause removed, a retry completes it', async () => {
    const { orchestrator } = (await api.get('/projects/orch')).body;
    const old = (await api.get(`/sessions/${orchestrator.sessionId}`)).body;
    git(repo, 'worktree', 'lock', '--reason', 'held by a test', old.worktrees[0].path); // git refuses a single --force
    const failed = await ensure({ clean: true });
    expect(failed.status).toBe(409);
    expect(failed.body).toMatchObject({ code: 'ORCHESTRATOR.REPLACE_INCOMPLETE', details: { sessionId: old.id, status: 'retiring' } });
    expect(failed.body.message).toMatch(/locked working tree/);
    const retiring = await eventually(async () => {
      const s = (await api.get(`/sessions/${old.id}`)).body;
      return s.retirement?.failure ? s : null;
    }, 'the failure reason in the snapshot');
    expect(retiring.status).toBe('retiring');
    expect(retiring.retirement.failure.reason).toMatch(/could not be removed/);
    await eventually(async () => (await api.get('/projects/orch')).body.orchestrator?.health === 'retiring', 'the project to show the orchestrator retiring');
    expect((await ensure()).status).toBe(409); // ensure does not hide a replacement stopped half-way
    await restart('SIGKILL'); // a restart in between never brings a retiring orchestrator back
    await eventually(async () => (await api.get('/events?limit=1000&from=0')).body.events.some((e: { type: string; data: { pid: number } }) => e.type === 'ReconcileCompleted' && e.data.pid === server.pid), 'the boot reconcile', 60000);
    expect((await api.get(`/sessions/${old.id}`)).body.status).toBe('retiring');
    expect(tmuxSessions(socket)).toEqual([]);

    git(repo, 'worktree', 'unlock', old.worktrees[0].path);
    const retried = await ensure({ clean: true });
    expect(retried.status === 201 ? 201 : retried.body).toBe(201); // the error body when it is not
    expect(retried.body).toMatchObject({ status: 'running', branch: 'runledger/orch-orchestrator' });
    await eventually(async () => (await api.get(`/sessions/${old.id}`)).body.status === 'terminated', 'the old orchestrator terminated');
    await eventually(async () => (await activeOrchestrators()).join() === retried.body.id, 'exactly one active orchestrator');
    expect(tmuxSessions(socket)).toEqual([`rl-${retried.body.id}`]);
  });

  run('kill of a tmux worker ends its tmux session; parentSessionId is recorded and `sessions --tree` shows the tree', async () => {
    const { orchestrator } = (await api.get('/projects/orch')).body;
    const child = await api.post('/sessions', { projectId: 'orch', agent: 'command', runtime: 'tmux', command: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'], parentSessionId: orchestrator.sessionId });
    expect(child.status).toBe(201);
    expect(child.body).toMatchObject({ parentSessionId: orchestrator.sessionId, runtimeType: 'tmux', runtime: { type: 'tmux', alive: true } });
    expect(tmuxSessions(socket)).toContain(`rl-${child.body.id}`);
    const tree = await eventually(async () => {
      const out = await runCli(['sessions', '--tree', '--project', 'orch'], { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN });
      return out.stdout.includes(`  └ ${child.body.id}`) ? out.stdout : null;
    }, 'the tree to show the child under its orchestrator');
    expect(tree.split('\n').findIndex((l) => l.startsWith(orchestrator.sessionId))).toBe(tree.split('\n').findIndex((l) => l.includes(`└ ${child.body.id}`)) - 1);
    const killed = await api.post(`/sessions/${child.body.id}/kill`);
    expect(killed.body).toMatchObject({ freed: true, session: { status: 'terminated' } });
    expect(tmuxSessions(socket)).not.toContain(`rl-${child.body.id}`);
    expect((await api.post('/sessions', { projectId: 'orch', agent: 'command', command: ['true'], parentSessionId: 'orch-404' })).body).toMatchObject({ code: 'SESSION.NOT_FOUND', details: { field: 'parentSessionId' } });
  });
});
