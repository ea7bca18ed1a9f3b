import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithClaude, prepareClaudeHome } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { killTmuxServer, tmux } from '../support/tmux';

const TOKEN = 'interactive-claude-token-0123456';
const BIN = join(__dirname, '../../bin/runledger.js');

describeWithClaude('interactive Claude Code in the tmux runtime, with the real CLI (docs/ARCHITECTURE.md §4a)', () => {
  let root: string;
  let fake: FakeAnthropicApi;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let home: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-iclaude-'));
    fake = await startFakeAnthropicApi({
      script: [
        { tools: [{ name: 'Bash', input: { command: 'echo typed-into-tmux > note.txt', description: 'write a note' } }] },
        { text: 'The note is written.' },
      ],
    });
    // No trusted folders here: runledger must accept the workspace trust of its own worktree itself.
    const claude = prepareClaudeHome(join(root, 'home'), { apiUrl: fake.url, interactive: true });
    home = claude.home;
    server = await startServerProcess({ ...claude.env, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', RUNLEDGER_KILL_GRACE_MS: '1000' });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { id: 'ic', name: 'ic', repoPath: makeRepo(join(root, 'repo')) })).status).toBe(201);
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    killTmuxServer(join(root, 'data', 'tmux.sock'));
    await fake?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('types the prompt into the pane, records the tool calls through the hooks, and `runledger attach` shows the agent from a pseudo-terminal', async () => {
    const spawned = await api.post('/sessions', { projectId: 'ic', agent: 'claude-code', runtime: 'tmux', prompt: 'write a note' });
    expect(spawned.status).toBe(201);
    const { id, worktrees } = spawned.body;
    expect(spawned.body).toMatchObject({ status: 'running', runtimeType: 'tmux', runtime: { type: 'tmux', alive: true } });
    const trust = JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8'));
    expect(trust).toMatchObject({ hasCompletedOnboarding: true, projects: { [worktrees[0].path]: { hasTrustDialogAccepted: true } } });

    const done = await eventually(async () => {
      const s = (await api.get(`/sessions/${id}`)).body;
      return s.toolCalls.completed === 1 ? s : null;
    }, 'the Bash call to be recorded through the hooks', 60000);
    expect(done).toMatchObject({ status: 'running', lastCompletedToolCall: { callId: fake.toolUseIds[0], tool: 'Bash' } });
    expect(readFileSync(join(worktrees[0].path, 'note.txt'), 'utf8')).toBe('typed-into-tmux\n');

    const outer = join(root, 'person.sock');
    tmux(outer, 'new-session', '-d', '-s', 'person', '-x', '160', '-y', '40', '-e', `RUNLEDGER_URL=${server.url}`, '-e', `RUNLEDGER_TOKEN=${TOKEN}`, process.execPath, BIN, 'attach', id);
    try {
      const screen = await eventually(() => {
        const text = tmux(outer, 'capture-pane', '-p', '-t', '=person:');
        return text.includes('Claude Code') && text.includes('write a note') ? text : null;
      }, 'the attached terminal to show Claude Code', 20000);
      expect(screen).toMatch(/❯/);
    } finally {
      tmux(outer, 'kill-server');
    }

    const killed = await api.post(`/sessions/${id}/kill`);
    expect(killed.body.session.status).toBe('terminated');
    expect(() => tmux(join(root, 'data', 'tmux.sock'), 'has-session', '-t', `=rl-${id}`)).toThrow();
  });
});
