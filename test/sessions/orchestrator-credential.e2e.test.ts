import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { killProcessGroups } from '../support/process-groups';

const TOKEN = 'orchestrator-credential-token-0123456789';
const BIN = resolve(__dirname, '../../bin/runledger.js');

/** The RUNLEDGER_TOKEN a running agent was given, read from its environment as the agent itself sees it. */
const agentToken = (pid: number): string => {
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return env.find((line) => line.startsWith('RUNLEDGER_TOKEN='))!.slice('RUNLEDGER_TOKEN='.length);
};

describe('an orchestrator spawns its workers with its own session credential (invariant 16, docs/ARCHITECTURE.md §4b)', () => {
  let root: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  const groups: number[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-orch-cred-'));
    makeRepo(join(root, 'repo'));
    makeRepo(join(root, 'other'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'app', repoPath: join(root, 'repo') })).status).toBe(201);
    expect((await api.post('/projects', { name: 'other', repoPath: join(root, 'other') })).status).toBe(201);
  });

  afterAll(async () => {
    killProcessGroups(groups);
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('records the orchestrator as parent of what it spawns; a worker credential, another project or another parent is refused', async () => {
    // The orchestrator agent runs `runledger spawn` with nothing but the environment runledger gave it.
    const script = `node ${JSON.stringify(BIN)} spawn --project app --json -- sh -c 'exec sleep 300' > spawned.json 2> spawn.err; exec sleep 300`;
    const orchestrator = await api.post('/sessions', { projectId: 'app', kind: 'orchestrator', agent: 'command', runtime: 'process', command: ['sh', '-c', script] });
    expect(orchestrator.status).toBe(201);
    groups.push(orchestrator.body.runtime.pid);
    const credential = agentToken(orchestrator.body.runtime.pid);
    expect(credential).not.toBe(TOKEN);

    const worktree = orchestrator.body.worktrees[0].path as string;
    const child = await eventually(() => {
      try {
        return JSON.parse(readFileSync(join(worktree, 'spawned.json'), 'utf8'));
      } catch {
        return undefined;
      }
    }, 'the orchestrator agent to spawn its worker', 30000);
    groups.push(child.runtime.pid);
    expect(child).toMatchObject({ projectId: 'app', kind: 'worker', status: 'running', parentSessionId: orchestrator.body.id });

    const asOrchestrator = apiClient(server.url, credential);
    const elsewhere = await asOrchestrator.post('/sessions', { projectId: 'other', agent: 'command', command: ['true'] });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.details).toMatchObject({ field: 'projectId' });
    const otherParent = await asOrchestrator.post('/sessions', { projectId: 'app', agent: 'command', command: ['true'], parentSessionId: child.id });
    expect(otherParent.status).toBe(403);
    expect(otherParent.body.details).toMatchObject({ field: 'parentSessionId' });
    expect((await asOrchestrator.post('/projects', { name: 'x', repoPath: join(root, 'repo') })).status).toBe(403);

    const asWorker = apiClient(server.url, agentToken(child.runtime.pid));
    const byWorker = await asWorker.post('/sessions', { projectId: 'app', agent: 'command', command: ['true'] });
    expect(byWorker.status).toBe(403);
    expect(byWorker.body.message).toMatch(/only an orchestrator/);

    const sessions = (await api.get('/sessions?projectId=app')).body.sessions as { id: string }[];
    expect(sessions.map((s) => s.id).sort()).toEqual([orchestrator.body.id, child.id].sort()); // the refusals spawned nothing
  });
});
