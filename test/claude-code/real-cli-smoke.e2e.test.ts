import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { startServerProcess } from '../support/server-process';
import { CLAUDE_BIN, describeWithClaude, prepareClaudeHome, runClaude, transcriptsOf, transcriptToolUses } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';

describeWithClaude('the real Claude Code CLI against the scripted Messages API stand-in', () => {
  let root: string;
  let api: FakeAnthropicApi;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rl-claude-smoke-'));
  });
  afterAll(async () => {
    await api?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }); // the agent may still be writing its transcript
  });

  it('runs a scripted Bash call, sends its result back, and writes a transcript with the same tool_use id', async () => {
    api = await startFakeAnthropicApi({
      script: [
        { tools: [{ name: 'Bash', input: { command: 'echo scripted > out.txt && cat out.txt', description: 'write a file' } }] },
        { text: 'All done.' },
      ],
    });
    const repo = makeRepo(join(root, 'repo'));
    const home = prepareClaudeHome(join(root, 'home'), { apiUrl: api.url });
    const run = await runClaude(['-p', 'write a file', '--allowedTools', 'Bash', '--output-format', 'json'], { cwd: repo, home });

    expect(run.code).toBe(0);
    expect(readFileSync(join(repo, 'out.txt'), 'utf8')).toBe('scripted\n');
    expect(JSON.parse(run.stdout)).toMatchObject({ is_error: false, result: 'All done.' });
    const [transcript] = transcriptsOf(home.home, repo);
    expect(transcriptToolUses(transcript)).toEqual([{ id: api.toolUseIds[0], name: 'Bash', input: expect.objectContaining({ command: 'echo scripted > out.txt && cat out.txt' }) }]);
    const followUp = api.requests.filter((r) => r.kind === 'main')[1].body.messages!.at(-1)!.content as Array<Record<string, any>>;
    expect(followUp).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'tool_result', tool_use_id: api.toolUseIds[0] })]));
  });

  it('runs under runledger: the session launched with the generated hook settings records the Bash call live, and no hook starts Node', async () => {
    await api?.close();
    api = await startFakeAnthropicApi({ script: [{ tools: [{ name: 'Bash', input: { command: 'echo via-runledger > hooked.txt' } }] }, { text: 'Finished.' }] });
    const home = prepareClaudeHome(join(root, 'home-2'), { apiUrl: api.url });
    const token = 'claude-smoke-token-0123456789';
    // Every Node process started below the agent (its hooks included, whatever path they run node by) appends its argv
    // to node-starts.log: the real CLI is a native binary, so NODE_OPTIONS reaches only the Node processes it starts.
    const nodeStarts = join(root, 'node-starts.log');
    const preload = join(root, 'log-node-start.js');
    writeFileSync(preload, `require('node:fs').appendFileSync(${JSON.stringify(nodeStarts)}, JSON.stringify(process.argv) + '\\n');\n`);
    const claude = join(root, 'claude-watched');
    writeFileSync(claude, `#!/bin/sh\nNODE_OPTIONS='--require ${preload}' exec '${CLAUDE_BIN}' "$@"\n`, { mode: 0o755 });
    // The watch works: a Node process started with that environment is logged.
    expect(spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: `--require ${preload}` } }).status).toBe(0);
    expect(readFileSync(nodeStarts, 'utf8')).toContain(JSON.stringify([process.execPath]));
    rmSync(nodeStarts);
    const server = await startServerProcess({ ...home.env, RUNLEDGER_CLAUDE_BIN: claude, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: token, DATABASE_URL: '' });
    try {
      const client = apiClient(server.url, token);
      expect((await client.post('/projects', { name: 'smoke', repoPath: makeRepo(join(root, 'repo-2')) })).status).toBe(201);
      const spawned = await client.post('/sessions', { projectId: 'smoke', agent: 'claude-code', prompt: 'write hooked.txt' });
      expect(spawned.status).toBe(201);
      const calls = await eventually(async () => {
        const items = (await client.get(`/sessions/${spawned.body.id}/tool-calls`)).body.toolCalls;
        return items.length === 1 && items[0].status === 'completed' ? items : null;
      }, 'the Bash call to be recorded as completed', 30000);
      expect(calls[0]).toMatchObject({ callId: api.toolUseIds[0], tool: 'Bash', input: { command: 'echo via-runledger > hooked.txt' } });
      expect(readFileSync(join(spawned.body.worktrees[0].path, 'hooked.txt'), 'utf8')).toBe('via-runledger\n');
      await eventually(async () => (await client.get(`/sessions/${spawned.body.id}`)).body.status === 'exited' || null, 'the agent to end its run and exit', 30000);
      expect(existsSync(nodeStarts) ? readFileSync(nodeStarts, 'utf8') : '').toBe('');
      const settings = JSON.parse(readFileSync(join(spawned.body.worktrees[0].path, '.claude/settings.local.json'), 'utf8'));
      expect(settings.hooks.PreToolUse[0].hooks[0].command).toContain('/bin/runledger-hook claude-code --event PreToolUse ');
    } finally {
      await server.stop();
    }
  });
});
