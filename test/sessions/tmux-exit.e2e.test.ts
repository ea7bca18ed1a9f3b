import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { killTmuxServer, tmux, tmuxSessions } from '../support/tmux';

const TOKEN = 'tmux-exit-e2e-token-0123456789';
const pg = chosenPostgres();

type Engine = { name: string; url?: string; drop?: () => Promise<void>; skip?: string };
const engines: Engine[] = [{ name: 'PGlite' }, 'skip' in pg ? { name: 'PostgreSQL', skip: pg.skip } : { name: 'PostgreSQL' }];

/** The pane's process of a tmux session: `<session> <dead> <status> <signal>` as tmux reports it. */
const pane = (socket: string, sessionName: string): string =>
  tmux(socket, 'list-panes', '-t', `=${sessionName}:`, '-F', '#{pane_dead} #{pane_dead_status} #{pane_dead_signal}').trim();

describe.each(engines)('the tmux runtime reports how its agent ended on $name (docs/ARCHITECTURE.md §4, §4a)', (engine) => {
  const run = engine.skip ? it.skip : it;
  let root: string;
  let socket: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  const env = () => ({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: engine.url ?? '', RUNLEDGER_KILL_GRACE_MS: '1000' });
  const spawnTmux = async (script: string) => {
    const reply = await api.post('/sessions', { projectId: 'tx', agent: 'command', runtime: 'tmux', command: ['sh', '-c', script] });
    expect(reply.status).toBe(201);
    expect(reply.body.runtime).toMatchObject({ type: 'tmux', alive: true });
    return reply.body as { id: string; runtime: { pid: number; sessionName: string } };
  };
  const exited = (id: string) =>
    eventually(async () => {
      const view = (await api.get(`/sessions/${id}`)).body;
      return view.status === 'exited' ? view : null;
    }, `${id} to be recorded exited`, 20000);

  beforeAll(async () => {
    if (engine.skip) return;
    root = mkdtempSync(join(tmpdir(), 'rl-tmux-exit-'));
    socket = join(root, 'data', 'tmux.sock');
    const repo = makeRepo(join(root, 'repo'));
    if (engine.name === 'PostgreSQL' && !('skip' in pg)) ({ url: engine.url, drop: engine.drop } = await createTestDatabase(pg));
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { id: 'tx', name: 'tx', repoPath: repo })).status).toBe(201);
  });
  afterAll(async () => {
    if (engine.skip) return;
    await server?.stop('SIGKILL');
    killTmuxServer(socket);
    await engine.drop?.();
    rmSync(root, { recursive: true, force: true });
  });

  run('an agent that exits while runledger runs is recorded exited with its exit code, and one ended by a signal with the signal', async () => {
    const coded = await spawnTmux('sleep 1; exit 3');
    const signalled = await spawnTmux('sleep 1; kill -TERM $$');
    const [a, b] = await Promise.all([exited(coded.id), exited(signalled.id)]);
    expect(a.runtime).toMatchObject({ type: 'tmux', exitCode: 3 });
    expect(b.runtime).toMatchObject({ type: 'tmux', signal: 'SIGTERM' });
    const events = (await api.get(`/sessions/${coded.id}/events`)).body.events as { type: string; data: Record<string, unknown> }[];
    expect(events.filter((e) => e.type === 'SessionExited').map((e) => e.data)).toEqual([expect.objectContaining({ exitCode: 3, finished: false })]);
    expect(events.map((e) => e.type)).not.toContain('SessionInterrupted'); // its end was observed: nothing to restore
    // The dead pane stays for a person to read until the session is cleaned up.
    expect(pane(socket, coded.runtime.sessionName)).toBe('1 3');
  });

  run('an agent that exits while runledger is down is recorded exited with its exit code by the next start (adopted runtimes too)', async () => {
    const flag = join(root, 'go');
    const s = await spawnTmux(`while [ ! -f ${flag} ]; do sleep 0.1; done; exit 5`);
    await server.stop('SIGKILL');
    writeFileSync(flag, '');
    // Dead (`1`); tmux may not know its status yet (it reaps on SIGCHLD, which it can miss): the next start asks for it.
    await eventually(() => pane(socket, s.runtime.sessionName).split(' ')[0] === '1', 'the agent to end while runledger is down');
    server = await startServerProcess(env());
    api = apiClient(server.url, TOKEN);
    const view = await exited(s.id);
    expect(view.runtime).toMatchObject({ type: 'tmux', pid: s.runtime.pid, exitCode: 5 });
    expect(tmuxSessions(socket)).toContain(s.runtime.sessionName);
    // Cleanup ends the dead pane's tmux session.
    expect((await api.post(`/sessions/${s.id}/cleanup`)).status).toBe(200);
    expect(tmuxSessions(socket)).not.toContain(s.runtime.sessionName);
  });
});
