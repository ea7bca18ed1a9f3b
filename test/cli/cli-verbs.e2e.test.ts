import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port';
import { git, makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';
import { killProcessGroups } from '../support/process-groups';

const TOKEN = 'cli-verbs-token-0123456789abcdef';
const BIN = join(__dirname, '../../bin/runledger.js');

/** A `runledger tail` child whose stdout lines are collected as they arrive. */
interface TailProcess {
  child: ChildProcess;
  lines: () => string[];
  stderr: () => string;
  exited: Promise<number | null>;
}

const startTail = (args: string[], env: Record<string, string>): TailProcess => {
  const child = spawn(process.execPath, [BIN, 'tail', ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines: () => stdout.split('\n').filter((l) => l.trim() !== ''), stderr: () => stderr, exited };
};

describe('runledger verbs for every action of the API, against a real server', () => {
  let root: string;
  let port: number;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let env: Record<string, string>;
  let repo: string;
  const pids: number[] = [];
  const serverEnv = () => ({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', PORT: String(port) });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-verbs-'));
    repo = makeRepo(join(root, 'shop'));
    port = await freePort();
    server = await startServerProcess(serverEnv());
    api = apiClient(server.url, TOKEN);
    env = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN, RUNLEDGER_DATA_DIR: join(root, 'cli-data') };
  });

  afterAll(async () => {
    killProcessGroups(pids);
    await server?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('project add registers the repository of the current directory; list and show read it; bad input exits 2', async () => {
    const added = await runCli(['project', 'add', '--json'], env, join(repo));
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ id: 'shop', name: 'shop', kind: 'single-repo', repos: [{ name: 'main', path: repo }] });

    const list = await runCli(['project', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/│ shop\s+│ shop\s+│ single-repo │ shop\s+│/);
    expect(JSON.parse((await runCli(['project', 'list', '--json'], env)).stdout)).toEqual((await api.get('/projects')).body);

    const show = await runCli(['project', 'show', 'shop'], env);
    expect(show.stdout).toContain(`repo main: ${repo}`);
    expect(JSON.parse((await runCli(['project', 'show', 'shop', '--json'], env)).stdout)).toEqual((await api.get('/projects/shop')).body);

    const again = await runCli(['project', 'add', repo], env);
    expect(again.code).toBe(1); // 409: the id exists (a conflict, not a usage error)
    expect(again.stderr).toContain('409');
    const notRepo = await runCli(['project', 'add', root], env);
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr).toContain('not in a git repository');
    const unknown = await runCli(['project', 'show', 'nope'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('PROJECT.NOT_FOUND');

    const workspace = makeRepo(join(root, 'ws-api'));
    const web = makeRepo(join(root, 'ws-web'));
    const ws = await runCli(['project', 'add', '--name', 'Workspace', '--id', 'ws', '--repo', `api=${workspace}`, '--repo', `web=${web}`, '--json'], env);
    expect(ws.code).toBe(0);
    expect(JSON.parse(ws.stdout)).toMatchObject({ id: 'ws', kind: 'workspace', repos: [{ name: 'api', path: workspace }, { name: 'web', path: web }] });
  });

  it('spawn, tool-calls, kill, cleanup, restore drive one session (same id throughout, work preserved and replayed)', async () => {
    // From inside the repository the project is found without --project.
    const spawned = await runCli(['spawn', '--idempotency-key', 'k1', '--json', '--', 'sh', '-c', 'echo hello > notes.txt; exec sleep 300'], env, repo);
    expect(spawned.code).toBe(0);
    const session = JSON.parse(spawned.stdout);
    pids.push(session.runtime.pid);
    expect(session).toMatchObject({ id: 'shop-1', projectId: 'shop', agent: 'command', status: 'running' });
    const repeat = await runCli(['spawn', '--idempotency-key', 'k1', '--json', '--', 'sh', '-c', 'echo hello > notes.txt; exec sleep 300'], env, repo);
    expect(JSON.parse(repeat.stdout).id).toBe('shop-1'); // the first result, nothing spawned
    const worktree = session.worktrees[0].path;
    await eventually(() => existsSync(join(worktree, 'notes.txt')), 'the agent wrote notes.txt');

    const calls = '/sessions/shop-1/tool-calls';
    expect((await api.post(calls, { callId: 'c1', tool: 'Bash', input: { command: 'make test' }, mode: 'observed' })).status).toBe(201);
    expect((await api.post(`${calls}/c1/result`, { status: 'failed', exitCode: 2, error: 'boom' })).status).toBe(200);
    const table = await runCli(['tool-calls', 'shop-1'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ c1\s+│ Bash\s+│ observed │ failed\s+│ 1\s+│ make test\s+│ exit 2 boom/);
    expect(JSON.parse((await runCli(['tool-calls', 'shop-1', '--json'], env)).stdout)).toEqual((await api.get(`${calls}`)).body);

    const killed = await runCli(['kill', 'shop-1', '--reason', 'done for today'], env);
    expect(killed.code).toBe(0);
    expect(killed.stdout).toContain('a dirty worktree was kept');
    const events = (await api.get('/sessions/shop-1/events')).body.events;
    expect(events.find((e: any) => e.type === 'SessionKilled').data.reason).toBe('done for today');

    const cleaned = await runCli(['cleanup', 'shop-1'], env);
    expect(cleaned.code).toBe(0);
    expect(cleaned.stdout).toContain('preserved main: refs/runledger/preserved/shop-1');
    expect(existsSync(worktree)).toBe(false);
    expect(git(repo, 'show', 'refs/runledger/preserved/shop-1:notes.txt')).toBe('hello');

    const restored = await runCli(['restore', 'shop-1', '--json'], env);
    expect(restored.code).toBe(0);
    const back = JSON.parse(restored.stdout);
    pids.push(back.runtime.pid);
    expect(back).toMatchObject({ id: 'shop-1', status: 'running' });
    expect(readFileSync(join(worktree, 'notes.txt'), 'utf8')).toBe('hello\n');

    const twice = await runCli(['kill', 'shop-1'], env);
    expect(twice.code).toBe(0);
    const again = await runCli(['kill', 'shop-1'], env);
    expect(again.code).toBe(1); // 409: already terminated
    expect(again.stderr).toContain('409');
  });

  it('spawn refuses contradictions and unknown values with exit 2, and names the projects when none is implied', async () => {
    const cases: string[][] = [
      ['spawn', '--project', 'shop', '--agent', 'command'],
      ['spawn', '--project', 'shop', '--agent', 'claude-code', '--', 'ls'],
      ['spawn', '--project', 'shop', '--runtime', 'docker', '--', 'ls'],
      ['spawn', '--project', 'nope', '--', 'ls'],
      ['tool-calls', 'nope-1'],
      ['kill', 'nope-1'],
    ];
    for (const args of cases) expect({ args, code: (await runCli(args, env)).code }).toEqual({ args, code: 2 });
    const noProject = await runCli(['spawn', '--', 'ls'], env, root); // two projects, cwd in neither
    expect(noProject.code).toBe(2);
    expect(noProject.stderr).toMatch(/pass --project <id> \(one of (shop, ws|ws, shop)\)/);
  });

  it('status reports the server, store, head position, sessions by status, projection lag and the last reconcile', async () => {
    const result = await runCli(['status', '--json'], env);
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout);
    const health = (await api.get('/health')).body;
    expect(status.server).toMatchObject({ status: 'ok', store: 'pglite', pid: server.pid });
    expect(status.server.headPosition).toBeGreaterThanOrEqual(health.headPosition - 1);
    const sessions = (await api.get('/sessions')).body.sessions;
    expect(status.sessions.terminated).toBe(sessions.filter((s: any) => s.status === 'terminated').length);
    expect(status.projections.lagEvents).toBeGreaterThanOrEqual(0);
    expect(status.lastReconcile.report).toMatchObject({ pid: server.pid, sessions: expect.any(Number) });
    const human = await runCli(['status'], env);
    expect(human.stdout).toContain(`server       ${server.url}: ok`);
    expect(human.stdout).toMatch(/store\s+pglite, head position \d+/);
    expect(human.stdout).toMatch(/sessions\s+.*terminated 1/);
    expect(human.stdout).toMatch(/reconcile\s+last at .*adopted \d+/);
    const down = await runCli(['status'], { ...env, RUNLEDGER_URL: `http://127.0.0.1:${await freePort()}` });
    expect(down.code).toBe(3);
  });

  it('tail follows the feed as human lines, filters one session, and resumes after a server restart with no gap and no repeat', async () => {
    // Human lines of one session, from the start of the log.
    const oneSession = await runCli(['tail', '--from', '0', '--session', 'shop-1', '--count', '3'], env);
    expect(oneSession.code).toBe(0);
    expect(oneSession.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/shop-1#0 {2}SessionStarted {2}project shop, worker, agent command, branch runledger\/shop-1 from main$/),
      expect.stringMatching(/shop-1#1 {2}WorktreeCreated {2}main .*\/worktrees\/shop\/shop-1$/),
      expect.stringMatching(/shop-1#2 {2}SessionRuntimeLaunched {2}process pid \d+$/),
    ]);

    const head = (await api.get('/health')).body.headPosition;
    const tail = startTail(['--json', '--from', String(head)], env);
    try {
      expect((await api.post('/projects', { id: 'feed-a', name: 'feed a', repoPath: repo })).status).toBe(201);
      await eventually(() => tail.lines().some((l) => JSON.parse(l).streamId === 'project-feed-a'), 'tail printed the project event');

      await server.stop('SIGTERM');
      await eventually(() => /connection lost|closed the feed/.test(tail.stderr()), 'tail noticed the server went away');
      server = await startServerProcess(serverEnv());
      api = apiClient(server.url, TOKEN);
      expect((await api.post('/projects', { id: 'feed-b', name: 'feed b', repoPath: repo })).status).toBe(201);
      await eventually(() => tail.lines().some((l) => JSON.parse(l).streamId === 'project-feed-b'), 'tail printed the event appended after the restart', 30_000);
      expect(tail.stderr()).toMatch(/reconnected, resuming after position \d+/);

      const printed = tail.lines().map((l) => JSON.parse(l).globalPosition as number);
      const log = (await api.get(`/events?from=${head}`)).body.events.map((e: any) => e.globalPosition as number);
      expect(printed).toEqual(log.slice(0, printed.length)); // same order, nothing skipped, nothing twice
      expect(tail.lines().map((l) => JSON.parse(l).type)).toContain('ServerStarted'); // the restart's own event, appended while tail was away
    } finally {
      tail.child.kill('SIGINT');
      expect(await tail.exited).toBe(0);
    }
  });
});
