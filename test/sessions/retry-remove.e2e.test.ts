import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git, makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'retry-remove-token-0123456';

describe('a failed removal is left retry_remove and the worker retries it', () => {
  let root: string;
  let server: ServerProcess;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-retry-'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', RUNLEDGER_JANITOR_INTERVAL_MS: '300' });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('records retry_remove when git refuses, keeps the work in a ref, and removes the worktree once git allows it', async () => {
    const api = apiClient(server.url, TOKEN);
    const repo = makeRepo(join(root, 'repo'));
    await api.post('/projects', { name: 'r', repoPath: repo });
    const s = (await api.post('/sessions', { projectId: 'r', agent: 'command', command: ['sh', '-c', 'exec sleep 300'] })).body;
    const path = s.worktrees[0].path;
    writeFileSync(join(path, 'work.txt'), 'unsaved work\n');
    git(repo, 'worktree', 'lock', '--reason', 'held by a test', path); // a locked worktree needs a double --force: removal fails

    const cleaned = await api.post(`/sessions/${s.id}/cleanup`);
    expect(cleaned.body.retryRemove).toEqual([expect.objectContaining({ repo: 'main' })]);
    expect(cleaned.body.session.worktrees[0]).toMatchObject({ state: 'retry_remove' });
    expect(existsSync(join(path, 'work.txt'))).toBe(true);
    expect(git(repo, 'show', `refs/runledger/preserved/${s.id}:work.txt`)).toBe('unsaved work');

    git(repo, 'worktree', 'unlock', path);
    const settled = await eventually(async () => {
      const w = (await api.get(`/sessions/${s.id}`)).body.worktrees[0];
      return w.state === 'unavailable' ? w : null;
    }, 'the worker to retry the removal');
    expect(settled.preservedRef).toBe(`refs/runledger/preserved/${s.id}`);
    expect(existsSync(path)).toBe(false);
  });
});
