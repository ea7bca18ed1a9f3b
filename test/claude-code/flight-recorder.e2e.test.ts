import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';
import { describeWithClaude, prepareClaudeHome, runClaude, transcriptsOf, transcriptToolUses } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';

describeWithClaude('flight-recorder mode: a claude -p started by hand, not by runledger, is recorded through the installed hooks', () => {
  let root: string;
  let server: ServerProcess;
  let anthropic: FakeAnthropicApi;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-flight-'));
    // The token is generated into the data directory: the CLI, and so the installed hooks, read it from there.
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: '', DATABASE_URL: '' });
  });

  afterAll(async () => {
    await anthropic?.close();
    await server?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('install-hooks merges into the user\'s settings, every call of the session is recorded, import --all is idempotent, uninstall restores the file exactly', async () => {
    const repo = makeRepo(join(root, 'app'));
    const userLog = join(root, 'user-hook.log');
    const userSettings = `{\n  "hooks": {"PostToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo mine >> ${userLog}"}]}]},\n  "env": {"MY_SETTING": "1"}\n}\n`;
    mkdirSync(join(repo, '.claude'));
    writeFileSync(join(repo, '.claude', 'settings.local.json'), userSettings);
    const cli = { RUNLEDGER_URL: server.url, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: '' };
    const token = readFileSync(join(root, 'data', 'token'), 'utf8').trim();
    const api = apiClient(server.url, token);

    expect((await runCli(['project', 'add', '--id', 'app'], cli, repo)).code).toBe(0);
    const installed = await runCli(['claude', 'install-hooks', '--json'], cli, repo);
    expect(installed.stderr).toBe('');
    expect(JSON.parse(installed.stdout)).toMatchObject({ changes: [{ file: join(repo, '.claude', 'settings.local.json'), action: 'installed' }], roots: [repo] });
    expect(JSON.parse((await runCli(['claude', 'install-hooks', '--json'], cli, repo)).stdout).changes[0].action).toBe('unchanged');
    const settingsAfterInstall = readFileSync(join(repo, '.claude', 'settings.local.json'), 'utf8');
    expect(settingsAfterInstall).not.toContain(token); // the token stays in the data directory

    // A person runs Claude Code by hand in the repository: no runledger session, no --allowedTools.
    anthropic = await startFakeAnthropicApi({
      script: [
        { tools: [{ name: 'Bash', input: { command: 'echo by-hand > by-hand.txt', description: 'write a file' } }] },
        { tools: [{ name: 'Read', input: { file_path: join(repo, 'README.md') } }] },
        { text: 'Done by hand.' },
      ],
    });
    const home = prepareClaudeHome(join(root, 'home'), { apiUrl: anthropic.url });
    const run = await runClaude(['-p', 'write by-hand.txt, then read the README'], { cwd: repo, home, timeoutMs: 120_000 });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(join(repo, 'by-hand.txt'), 'utf8')).toBe('by-hand\n'); // runledger's PreToolUse answered allow
    expect(readFileSync(userLog, 'utf8')).toBe('mine\n'); // the user's own hook still ran

    const [transcript] = transcriptsOf(home.home, repo);
    const uses = transcriptToolUses(transcript);
    expect(uses.map((u) => u.name)).toEqual(['Bash', 'Read']);
    const session = await eventually(async () => {
      const sessions = (await api.get('/sessions?projectId=app')).body.sessions;
      return sessions.length === 1 && sessions[0].toolCalls.completed === 2 ? sessions[0] : null;
    }, 'the external session with both calls completed', 30_000);
    expect(session).toMatchObject({ agent: 'external', projectId: 'app', agentSessionId: transcript.split('/').at(-1)!.replace('.jsonl', '') });
    const calls = (await api.get(`/sessions/${session.id}/tool-calls`)).body.toolCalls;
    expect(calls.map((c: any) => [c.callId, c.tool, c.status, c.source])).toEqual(uses.map((u) => [u.id, u.name, 'completed', 'hook']));
    expect(calls[0].input).toMatchObject({ command: 'echo by-hand > by-hand.txt' });

    const status = await runCli(['claude', 'status', '--json'], cli, repo);
    const report = JSON.parse(status.stdout);
    // Installed with the shim (bash is on PATH and the server is on loopback): status says which runner the hooks use.
    expect(report.settings).toEqual(expect.arrayContaining([{ scope: 'local', file: join(repo, '.claude', 'settings.local.json'), installed: true, runner: 'shim', records: { url: server.url } }]));
    expect((await runCli(['claude', 'status'], cli, repo)).stdout).toContain(`local   ${join(repo, '.claude', 'settings.local.json')}: runledger hooks installed (shim: bin/runledger-hook`);
    expect(report.sessions).toEqual([expect.objectContaining({ id: session.id, agent: 'external', lastEvent: expect.objectContaining({ type: expect.any(String) }) })]);
    expect((await runCli(['claude', 'status'], cli, repo)).stdout).toMatch(new RegExp(`│ ${session.id} +│ app +│ external`));

    // The same transcript through import --all: the log already has it; a second import appends nothing.
    const env = { ...cli, HOME: home.home };
    const first = JSON.parse((await runCli(['import', 'claude-code', '--all', '--project', 'app', '--json'], env, root)).stdout);
    expect(first.imported).toEqual([expect.objectContaining({ transcriptPath: transcript, projectId: 'app', sessionId: session.id, toolCalls: 2, completed: 2 })]);
    const again = JSON.parse((await runCli(['import', 'claude-code', '--all', '--json'], env, root)).stdout);
    expect(again.imported).toEqual([expect.objectContaining({ sessionId: session.id, appended: 0 })]);
    expect((await api.get(`/sessions/${session.id}/tool-calls`)).body.toolCalls).toHaveLength(2);

    const removed = await runCli(['claude', 'uninstall-hooks', '--json'], cli, repo);
    expect(JSON.parse(removed.stdout).changes).toEqual([{ file: join(repo, '.claude', 'settings.local.json'), action: 'restored' }]);
    expect(readFileSync(join(repo, '.claude', 'settings.local.json'), 'utf8')).toBe(userSettings);
    expect(readdirSync(join(repo, '.claude'))).toEqual(['settings.local.json']);
    expect(existsSync(join(root, 'home', '.claude', 'settings.json'))).toBe(false); // the user scope was never touched

    // --scope user: the user's settings (created here), recording the project's repositories wherever Claude starts.
    const claudeDirBefore = readdirSync(join(home.home, '.claude')).sort();
    const userScope = JSON.parse((await runCli(['claude', 'install-hooks', '--scope', 'user', '--project', 'app', '--json'], env, root)).stdout);
    expect(userScope).toEqual({ changes: [{ file: join(home.home, '.claude', 'settings.json'), action: 'installed' }], roots: [repo] });
    const userHook = JSON.parse(readFileSync(join(home.home, '.claude', 'settings.json'), 'utf8')).hooks.PreToolUse[0].hooks[0].command;
    expect(userHook).toContain(`case "$PWD/" in ${repo}/*)`);
    expect(JSON.parse((await runCli(['claude', 'uninstall-hooks', '--scope', 'user', '--json'], env, root)).stdout).changes[0].action).toBe('removed-file');
    expect(readdirSync(join(home.home, '.claude')).sort()).toEqual(claudeDirBefore); // back to what Claude Code itself wrote
  });
});
