import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git, makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { startServerProcess } from '../support/server-process';
import { describeWithClaude, prepareClaudeHome, runClaude } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';

const TOKEN = 'claude-worktree-token-0123456789';

describeWithClaude('Claude Code --worktree under runledger custody (docs/ARCHITECTURE.md §4b)', () => {
  let root: string;
  let api: FakeAnthropicApi;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rl-claude-wt-'));
  });
  afterAll(async () => {
    await api?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('gets its worktree from runledger, in runledger\'s namespace, recorded; its removal leaves the work in a preserved ref', async () => {
    api = await startFakeAnthropicApi({ script: [{ text: 'Ready.' }] });
    const home = prepareClaudeHome(join(root, 'home'), { apiUrl: api.url });
    const server = await startServerProcess({ ...home.env, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    try {
      const client = apiClient(server.url, TOKEN);
      const repo = makeRepo(join(root, 'repo'));
      expect((await client.post('/projects', { name: 'cw', repoPath: repo })).status).toBe(201);
      const session = (await client.post('/sessions', { projectId: 'cw', agent: 'claude-code', prompt: 'get ready' })).body;
      const sessionDir = session.worktrees[0].path;
      await eventually(() => existsSync(join(sessionDir, '.claude', 'settings.local.json')), 'the hook settings');
      // The session's own run must take its scripted turn first: queued behind it, the turns below would otherwise go
      // to whichever Claude Code asks first (under load, the manual run below, which then does its work in sessionDir).
      await eventually(() => api.remaining() === 0 && api.requests.some((r) => r.kind === 'main'), 'the session run took its turn');

      api.push({ tools: [{ name: 'Bash', input: { command: 'echo from-claude > claude-work.txt && git add claude-work.txt && git -c user.name=c -c user.email=c@c commit -qm "claude work" && echo uncommitted > wip.txt' } }] });
      api.push({ text: 'Worked in my worktree.' });
      const run = await runClaude(['-p', 'work in a worktree', '--worktree', 'wt1', '--allowedTools', 'Bash', '--output-format', 'json'], { cwd: sessionDir, home, env: { RUNLEDGER_TOKEN: TOKEN } });
      expect(run.code).toBe(0);
      const listed = (await client.get('/worktrees')).body.worktrees;
      const expected = realpathSync(join(root, 'data')) + `/worktrees/cw/${session.id}.claude/wt1`;
      const held = listed.find((w: { path: string }) => w.path === expected);
      expect(held).toMatchObject({ source: 'custody', origin: 'claude-code', sessionId: session.id });
      expect(git(repo, 'branch', '--list', `runledger/${session.id}.claude/wt1`)).toContain('wt1');
      expect(readFileSync(join(expected, 'claude-work.txt'), 'utf8')).toBe('from-claude\n');
      expect(readFileSync(join(expected, 'wip.txt'), 'utf8')).toBe('uncommitted\n');

      // `claude -p --worktree` keeps its worktree on exit (2.1.328), so the removal is sent as the CLI sends it: the
      // WorktreeRemove hook input (common fields + worktree_path) to the hook command of the generated settings.
      const settings = JSON.parse(readFileSync(join(sessionDir, '.claude', 'settings.local.json'), 'utf8'));
      const hook = settings.hooks.WorktreeRemove[0].hooks[0] as { type: string; command: string };
      expect(hook.type).toBe('command');
      const remove = (sessionId: string) => {
        const run = spawnSync('sh', ['-c', hook.command.replace(`--session ${session.id}`, `--session ${sessionId}`)], {
          input: JSON.stringify({ hook_event_name: 'WorktreeRemove', session_id: 'another-claude', cwd: sessionDir, worktree_path: expected }),
          env: { ...process.env, RUNLEDGER_TOKEN: TOKEN },
          encoding: 'utf8',
        });
        return { code: run.status, stderr: run.stderr };
      };
      const other = (await client.post('/sessions', { projectId: 'cw', agent: 'command', command: ['sh', '-c', 'exec sleep 300'] })).body;
      const refused = remove(other.id);
      expect(refused.code).not.toBe(0); // a refusal: Claude Code keeps the worktree
      expect(refused.stderr).toContain('409');
      expect(refused.stderr).toContain(session.id);
      expect(readFileSync(join(expected, 'wip.txt'), 'utf8')).toBe('uncommitted\n');

      const removed = remove(session.id);
      expect(removed).toMatchObject({ code: 0 });
      expect(existsSync(expected)).toBe(false);
      const ref = `refs/runledger/preserved/${session.id}.claude/wt1`;
      expect(git(repo, 'show', `${ref}:wip.txt`)).toBe('uncommitted');
      expect(git(repo, 'show', `${ref}:claude-work.txt`)).toBe('from-claude');
      const after = (await client.get('/worktrees')).body.worktrees.find((w: { path: string }) => w.path === expected);
      expect(after).toMatchObject({ state: 'removed', rule: 'removed-for-claude-code', preservedRef: ref });
      await client.post(`/sessions/${other.id}/kill`);
    } finally {
      await server.stop();
    }
  });
});
