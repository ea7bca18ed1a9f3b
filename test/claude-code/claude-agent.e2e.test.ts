import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'claude-agent-token-0123456';

/**
 * A stand-in for the `claude` executable: a real child process that does what Claude Code does with the settings
 * runledger generated: reads `.claude/settings.local.json` in its cwd and posts its hooks (URL and headers from the
 * file) around one tool call, then keeps running like an interactive agent.
 */
const FAKE_CLAUDE = `#!/usr/bin/env node
const fs = require('node:fs');
const settings = JSON.parse(fs.readFileSync('.claude/settings.local.json', 'utf8'));
const prompt = process.argv[process.argv.indexOf('-p') + 1];
const post = async (event, extra) => {
  const hook = settings.hooks[event][0].hooks[0];
  const body = { hook_event_name: event, session_id: 'claude-fake-1', transcript_path: process.cwd() + '/t.jsonl', cwd: process.cwd(), ...extra };
  const r = await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json', ...hook.headers }, body: JSON.stringify(body) });
  const answer = await r.json();
  fs.appendFileSync(process.env.FAKE_CLAUDE_LOG, JSON.stringify({ event, status: r.status, answer }) + '\\n');
  return answer;
};
(async () => {
  await post('SessionStart', { source: 'startup' });
  await post('UserPromptSubmit', { prompt });
  const pre = await post('PreToolUse', { tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'toolu_fake_1' });
  if (pre.hookSpecificOutput?.permissionDecision !== 'allow') process.exit(3);
  await post('PostToolUse', { tool_name: 'Bash', tool_input: { command: 'ls' }, tool_response: { stdout: 'README.md' }, tool_use_id: 'toolu_fake_1' });
  await post('Stop', { stop_hook_active: false });
  setInterval(() => {}, 1000);
})();
`;

describe('a claude-code session: generated hook settings, hooks posted by the agent process (issue 3, issue 4)', () => {
  let root: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let log: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-claude-agent-'));
    const bin = join(root, 'fake-claude');
    writeFileSync(bin, FAKE_CLAUDE);
    chmodSync(bin, 0o755);
    log = join(root, 'hooks.log');
    writeFileSync(log, '');
    server = await startServerProcess({
      RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', RUNLEDGER_CLAUDE_BIN: bin, FAKE_CLAUDE_LOG: log,
    });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'cc', repoPath: makeRepo(join(root, 'repo')) })).status).toBe(201);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('records the run and the tool call the agent reports, and the settings file leaves the worktree clean', async () => {
    const spawned = await api.post('/sessions', { projectId: 'cc', agent: 'claude-code', prompt: 'list the files' });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id;
    const settings = JSON.parse(readFileSync(join(spawned.body.worktrees[0].path, '.claude/settings.local.json'), 'utf8'));
    expect(settings.hooks.PreToolUse[0].hooks[0]).toMatchObject({ type: 'http', url: `${server.url}/api/v1/hooks/claude-code`, headers: { 'X-Runledger-Session': id } });

    const snapshot = await eventually(async () => {
      const s = (await api.get(`/sessions/${id}`)).body;
      return s.toolCalls.completed === 1 && s.runs?.open === 0 ? s : null;
    }, 'the agent to report its tool call and end its run', 30000);
    expect(snapshot).toMatchObject({ agent: 'claude-code', agentSessionId: 'claude-fake-1', status: 'running', lastCompletedToolCall: { callId: 'toolu_fake_1', tool: 'Bash' } });
    const answers = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(answers.map((a) => [a.event, a.status])).toEqual([['SessionStart', 200], ['UserPromptSubmit', 200], ['PreToolUse', 200], ['PostToolUse', 200], ['Stop', 200]]);
    const types = (await api.get(`/sessions/${id}/events`)).body.events.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['AgentSessionLinked', 'AgentRunStarted', 'ToolCallDispatched', 'ToolCallCompleted', 'AgentRunCompleted']));

    const killed = await api.post(`/sessions/${id}/kill`);
    expect(killed.body.freed).toBe(true); // .claude/settings.local.json is excluded from git: not dirty
  });
});
