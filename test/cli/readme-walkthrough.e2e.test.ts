import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiClient } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const ROOT = join(__dirname, '../..');
const TOKEN = 'readme-walkthrough-token-0123456789';

/** The shell block of the README between the walkthrough markers, as written. */
export const readmeWalkthrough = (readme: string): string => {
  const block = /<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme);
  if (!block) throw new Error('README.md has no ```sh block between <!-- walkthrough:start --> and <!-- walkthrough:end -->');
  return block[1];
};

describe('the README walkthrough, run as written against a real server', () => {
  let root: string;
  let server: ServerProcess;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-readme-'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
  });

  afterAll(async () => {
    if (server) {
      const sessions = (await apiClient(server.url, TOKEN).get('/sessions')).body?.sessions ?? [];
      for (const s of sessions) {
        try {
          if (s.runtime?.pid) process.kill(-s.runtime.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await server.stop();
    }
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('every command succeeds from the checkout, in order, and leaves the session the README describes', async () => {
    const script = readmeWalkthrough(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    // Only the server's address and token differ from a user's terminal (RUNLEDGER_TOKEN wins over the token file);
    // TMPDIR keeps mktemp inside this test's folder.
    const env = { ...process.env, NO_COLOR: '1', RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN, TMPDIR: root };
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-euo', 'pipefail', '-x', '-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });

    expect(result.stdout).toMatch(/server {7}http:\/\/127\.0\.0\.1:\d+: ok/);
    expect(result.stdout).toContain('project demo (single-repo): demo');
    expect(result.stdout.match(/spawned demo-1: running/g)).toHaveLength(2); // the retry answered the same session
    expect(result.stdout).toContain('a dirty worktree was kept');
    expect(result.stdout).toContain('preserved main: refs/runledger/preserved/demo-1');
    expect(result.stdout).toContain('restored demo-1: running');
    expect(result.stdout).toMatch(/demo-1#0 {2}SessionStarted/);

    const api = apiClient(server.url, TOKEN);
    const sessions = (await api.get('/sessions')).body.sessions;
    expect(sessions.map((s: any) => [s.id, s.status])).toEqual([['demo-1', 'terminated']]);
    const types = (await api.get('/sessions/demo-1/events')).body.events.map((e: any) => e.type);
    expect(types).toEqual(expect.arrayContaining(['SessionKilled', 'WorktreeWorkPreserved', 'WorktreeRemoved', 'WorktreeRestored']));
  });
});
