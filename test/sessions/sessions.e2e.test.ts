import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStartTime } from '@runledger/infra/runtime';
import { git, makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { killProcessGroups } from '../support/process-groups';

const TOKEN = 'e2e-token-0123456789abcdef';
const alive = (pid: number, startTime: string) => readStartTime(pid) === startTime && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

describe('sessions end to end: real git worktrees, real agent processes, projections', () => {
  let root: string;
  let repo: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  const pids: number[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-e2e-'));
    repo = makeRepo(join(root, 'repo'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', RUNLEDGER_KILL_GRACE_MS: '2000' });
    api = apiClient(server.url, TOKEN);
  });

  afterAll(async () => {
    killProcessGroups(pids);
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('registers a project, spawns, kills (clean and dirty), cleans up and restores under the same id', async () => {
    expect((await apiClient(server.url, 'wrong').get('/sessions')).status).toBe(401);

    const project = await api.post('/projects', { name: 'Demo App', repoPath: repo });
    expect(project.status).toBe(201);
    expect(project.body).toMatchObject({ id: 'demo-app', kind: 'single-repo', sessionPrefix: 'demo-app' });

    const clean = await api.post('/sessions', { projectId: 'demo-app', agent: 'command', command: ['sh', '-c', 'exec sleep 300'] });
    expect(clean.status).toBe(201);
    // The editing agent writes its session id (from its env) and a launch-unique stamp, only if the file is missing.
    const editor = await api.post('/sessions', {
      projectId: 'demo-app',
      agent: 'command',
      command: ['sh', '-c', 'if [ ! -f notes.txt ]; then echo "$RUNLEDGER_SESSION_ID $(date +%s%N)" > notes.txt; fi; exec sleep 300'],
    });
    expect(editor.status).toBe(201);
    const [a, b] = [clean.body, editor.body];
    expect([a.id, b.id]).toEqual(['demo-app-1', 'demo-app-2']);
    pids.push(a.runtime.pid, b.runtime.pid);
    for (const s of [a, b]) {
      expect(s).toMatchObject({ status: 'running', branch: `runledger/${s.id}`, runtime: { type: 'process', alive: true } });
      expect(s.worktrees).toEqual([expect.objectContaining({ repo: 'main', state: 'active', branch: `runledger/${s.id}` })]);
      expect(s.worktrees[0].path).toBe(join(root, 'data', 'worktrees', 'demo-app', s.id));
      expect(git(repo, 'worktree', 'list')).toContain(s.worktrees[0].path);
    }
    const notes = join(b.worktrees[0].path, 'notes.txt');
    const written: string = await eventually(() => (existsSync(notes) ? readFileSync(notes, 'utf8') : ''), 'the agent to edit a file');
    expect(written.startsWith('demo-app-2 ')).toBe(true);

    const snapshot = await api.get(`/sessions/${b.id}`);
    expect(snapshot.body).toMatchObject({ id: b.id, status: 'running', revision: 2, toolCalls: { total: 0 } });
    const events = await api.get(`/sessions/${b.id}/events`);
    expect(events.body.events.map((e: { type: string }) => e.type)).toEqual(['SessionStarted', 'WorktreeCreated', 'SessionRuntimeLaunched']);
    expect(events.body.nextRevision).toBe(3);
    expect(events.body.events[2].data.runtime.pid).toBe(b.runtime.pid);
    const listed = await api.get('/sessions?projectId=demo-app&status=running');
    expect(listed.body.sessions.map((s: { id: string }) => s.id)).toEqual([a.id, b.id]);

    // Kill the clean one: runtime stopped, worktree removed.
    const killedA = await api.post(`/sessions/${a.id}/kill`);
    expect(killedA.status).toBe(200);
    expect(killedA.body.freed).toBe(true);
    expect(killedA.body.session).toMatchObject({ status: 'terminated', worktrees: [expect.objectContaining({ state: 'removed' })] });
    expect(existsSync(a.worktrees[0].path)).toBe(false);
    expect(alive(a.runtime.pid, a.runtime.startTime)).toBe(false);

    // Kill the dirty one: runtime stopped, the worktree and its edit stay.
    const killedB = await api.post(`/sessions/${b.id}/kill`);
    expect(killedB.body.freed).toBe(false);
    expect(killedB.body.session.worktrees[0].state).toBe('active');
    expect(readFileSync(notes, 'utf8')).toBe(written);
    expect(alive(b.runtime.pid, b.runtime.startTime)).toBe(false);
    const again = await api.post(`/sessions/${b.id}/kill`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ statusCode: 409, code: 'SESSION.ALREADY_TERMINATED' });

    // Cleanup: the work is preserved in a ref, the worktree is gone.
    const cleaned = await api.post(`/sessions/${b.id}/cleanup`);
    expect(cleaned.status).toBe(200);
    expect(cleaned.body.preserved).toEqual([expect.objectContaining({ repo: 'main', ref: `refs/runledger/preserved/${b.id}` })]);
    expect(existsSync(b.worktrees[0].path)).toBe(false);
    expect(git(repo, 'show', `refs/runledger/preserved/${b.id}:notes.txt`)).toBe(written.trim());
    expect(cleaned.body.session.worktrees[0]).toMatchObject({ state: 'unavailable', preservedRef: `refs/runledger/preserved/${b.id}` });

    // Restore: same id, the edit is back (the agent did not rewrite it: the stamp is the first launch's), runtime relaunched.
    const restored = await api.post(`/sessions/${b.id}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ id: b.id, status: 'running', runtime: { alive: true } });
    pids.push(restored.body.runtime.pid);
    expect(restored.body.runtime.pid).not.toBe(b.runtime.pid);
    expect(readFileSync(notes, 'utf8')).toBe(written);
    expect(restored.body.worktrees[0].state).toBe('active');
    expect(() => git(repo, 'rev-parse', '--verify', '-q', `refs/runledger/preserved/${b.id}`)).toThrow(); // deleted after a clean apply

    // No new id was minted by restore; the next spawn gets 3.
    const third = await api.post('/sessions', { projectId: 'demo-app', agent: 'command', command: ['true'] });
    expect(third.body.id).toBe('demo-app-3');
    pids.push(third.body.runtime.pid);
    // `true` ends at once: the runtime watcher records it `exited` with its exit code (nothing relaunches it).
    const ended = await eventually(async () => {
      const s = (await api.get(`/sessions/${third.body.id}`)).body;
      return s.status === 'exited' ? s : null;
    }, 'the ended command to be recorded exited');
    expect(ended.runtime).toMatchObject({ exitCode: 0 });

    // Rebuilding the projections from the log gives the same snapshots.
    const before = (await api.get('/sessions')).body.sessions;
    const rebuilt = await api.post('/projections/rebuild');
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.body.events).toBeGreaterThan(10);
    const after = (await api.get('/sessions')).body.sessions;
    const stable = (list: { runtime?: { alive: unknown } }[]) => list.map((s) => ({ ...s, runtime: s.runtime && { ...s.runtime, alive: null } }));
    expect(stable(after)).toEqual(stable(before));
    await api.post(`/sessions/${b.id}/kill`);
  });

  it('gives a workspace session one worktree per repo; kill keeps only the dirty one; cleanup and restore work per repo', async () => {
    const [front, back] = [makeRepo(join(root, 'front')), makeRepo(join(root, 'back'))];
    const ws = await api.post('/projects', { name: 'Shop', repos: [{ name: 'front', path: front }, { name: 'back', path: back }] });
    expect(ws.body).toMatchObject({ id: 'shop', kind: 'workspace' });
    const s = (await api.post('/sessions', { projectId: 'shop', agent: 'command', command: ['sh', '-c', 'echo edit > front/edit.txt; exec sleep 300'] })).body;
    pids.push(s.runtime.pid);
    const dir = join(root, 'data', 'worktrees', 'shop', s.id);
    const paths = Object.fromEntries(s.worktrees.map((w: { repo: string; path: string }) => [w.repo, w.path]));
    expect(paths).toEqual({ front: join(dir, 'front'), back: join(dir, 'back') });
    const edit = join(dir, 'front', 'edit.txt');
    await eventually(() => existsSync(edit), 'the agent to edit the front repo');

    const killed = await api.post(`/sessions/${s.id}/kill`);
    expect(killed.body.freed).toBe(false);
    const states = Object.fromEntries(killed.body.session.worktrees.map((w: { repo: string; state: string }) => [w.repo, w.state]));
    expect(states).toEqual({ front: 'active', back: 'removed' });

    const cleaned = await api.post(`/sessions/${s.id}/cleanup`);
    expect(cleaned.body.preserved).toEqual([expect.objectContaining({ repo: 'front', ref: `refs/runledger/preserved/${s.id}/front` })]);
    expect(git(front, 'show', `refs/runledger/preserved/${s.id}/front:edit.txt`)).toBe('edit');
    expect(existsSync(join(dir, 'front'))).toBe(false);

    const restored = await api.post(`/sessions/${s.id}/restore`);
    expect(restored.body).toMatchObject({ id: s.id, status: 'running' });
    pids.push(restored.body.runtime.pid);
    expect(readFileSync(edit, 'utf8')).toBe('edit\n');
    expect(existsSync(join(dir, 'back', 'README.md'))).toBe(true);
    await api.post(`/sessions/${s.id}/kill`);
  });
});
