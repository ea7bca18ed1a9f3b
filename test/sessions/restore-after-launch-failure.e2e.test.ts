import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'e2e-token-0123456789abcdef';

/** A restore whose relaunch fails leaves the worktree it recreated `restored`; the next restore must not refuse after appending. */
describe('restore after a restore whose launch failed', () => {
  let root: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-e2e-'));
    const repo = makeRepo(join(root, 'repo'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', RUNLEDGER_LOG_LEVEL: 'fatal' });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'rf', id: 'rf', repoPath: repo })).status).toBe(201);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const head = async (): Promise<number> => (await api.get('/health')).body.headPosition;

  it('restores again (the launch failing again is recorded), and every refusal on the way appends nothing', async () => {
    const spawned = await api.post('/sessions', { projectId: 'rf', agent: 'command', command: [join(root, 'no-such-agent')] });
    expect(spawned.status).toBe(201);
    expect(spawned.body).toMatchObject({ status: 'terminated', termination: { cause: 'launch_failed' } });
    const id = spawned.body.id as string;
    expect((await api.post(`/sessions/${id}/cleanup`)).status).toBe(200);

    // The first restore recreates the worktree (`restored`); the launch fails again and is recorded.
    const first = await api.post(`/sessions/${id}/restore`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'terminated', termination: { cause: 'launch_failed' } });

    for (let attempt = 0; attempt < 2; attempt++) {
      const at = await head();
      const again = await api.post(`/sessions/${id}/restore`);
      if (again.status >= 400) expect({ status: again.status, appended: (await head()) - at }).toEqual({ status: again.status, appended: 0 });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ id, status: 'terminated', termination: { cause: 'launch_failed' } });
    }
    // Not stuck half-way: a resume of a terminated session is refused as such, appending nothing.
    const at = await head();
    const resumed = await api.post(`/sessions/${id}/resume`, {});
    expect(resumed.status).toBe(409);
    expect((await head()) - at).toBe(0);
  });
});
