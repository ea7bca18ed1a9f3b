import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'claude-agent-token-0123456';

/**
 * A stand-in for the `claude` executable: a real child process that does what Claude Code does with the settings
 * runledger generated: reads `.claude/settings.local.json` in its cwd and runs its command hooks (the input on stdin)
 * around one tool call, then keeps running like an interactive agent.
 */
const FAKE_CLAUDE = `#!/usr/bin/env node
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const settings = JSON.parse(fs.readFileSync('.claude/settings.local.json', 'utf8'));
const prompt = process.argv[process.argv.indexOf('-p') + 1];
const post = async (event, extra) => {
  const hook = settings.hooks[event][0].hooks[0];
  const body = { hook_event_name: event, session_id: 'claude-fake-1', transcript_path: process.cwd() + '/t.jsonl', cwd: process.cwd(), ...extra };
  // A command hook, as Claude Code runs it: a shell command, the input on stdin, the answer on stdout.
  const run = spawnSync('/bin/sh', ['-c', hook.command], { input: JSON.stringify(body), encoding: 'utf8' });
  const answer = run.stdout.trim() ? JSON.parse(run.stdout) : {};
  fs.appendFileSync(process.env.FAKE_CLAUDE_LOG, JSON.stringify({ event, status: run.status, answer, stderr: run.stderr }) + '\\n');
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

describe('a claude-code session: generated hook settings, hooks posted by the agent process', () => {
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
    const settingsText = readFileSync(join(spawned.body.worktrees[0].path, '.claude/settings.local.json'), 'utf8');
    const settings = JSON.parse(settingsText);
    expect(Object.keys(settings.hooks)).toHaveLength(32); // every event of Claude Code 2.1.328 but MessageDisplay
    expect(settings.hooks.PreToolUse[0].hooks[0]).toMatchObject({ type: 'command', timeout: 60 });
    // The default runner: bash running the shim (no Node start), one command per event.
    expect(settings.hooks.PreToolUse[0].hooks[0].command).toMatch(
      new RegExp(`^/\\S+/bash /\\S+/bin/runledger-hook claude-code --event PreToolUse --url ${server.url.replace(/\./g, '\\.')} --session ${id} --hold 30 --failure closed$`),
    );
    expect(settingsText).not.toContain(TOKEN);

    const snapshot = await eventually(async () => {
      const s = (await api.get(`/sessions/${id}`)).body;
      return s.toolCalls.completed === 1 && s.runs?.open === 0 ? s : null;
    }, 'the agent to report its tool call and end its run', 30000);
    expect(snapshot).toMatchObject({ agent: 'claude-code', agentSessionId: 'claude-fake-1', status: 'running', lastCompletedToolCall: { callId: 'toolu_fake_1', tool: 'Bash' } });
    const logged = () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const answers = await eventually(() => (logged().length === 5 ? logged() : null), 'the agent to log the answer of its last hook');
    expect(answers.map((a) => [a.event, a.status])).toEqual([['SessionStart', 0], ['UserPromptSubmit', 0], ['PreToolUse', 0], ['PostToolUse', 0], ['Stop', 0]]);
    const types = (await api.get(`/sessions/${id}/events`)).body.events.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['AgentSessionLinked', 'AgentRunStarted', 'ToolCallDispatched', 'ToolCallCompleted', 'AgentRunCompleted']));

    // The agent holds its session's credential, never the admin token (invariant 16).
    const environ = readFileSync(`/proc/${snapshot.runtime.pid}/environ`, 'utf8').split('\0');
    expect(environ.join('\n')).not.toContain(TOKEN);
    const credential = environ.find((entry) => entry.startsWith('RUNLEDGER_TOKEN='))!.slice('RUNLEDGER_TOKEN='.length);
    expect(credential).toMatch(new RegExp(`^rls1\\.${id}\\.`));
    const agent = apiClient(server.url, credential);
    expect((await agent.get(`/sessions/${id}/tool-calls`)).status).toBe(200);
    const other = await api.post('/sessions', { projectId: 'cc', agent: 'command', command: ['sleep', '30'] });
    expect((await agent.get(`/sessions/${other.body.id}/tool-calls`)).status).toBe(403);
    expect((await agent.post(`/sessions/${other.body.id}/tool-calls`, { tool: 'Bash', input: {}, mode: 'observed' })).status).toBe(403);
    expect((await agent.post('/hooks/claude-code', { hook_event_name: 'Stop', session_id: 'x' }, { 'x-runledger-session': other.body.id })).status).toBe(403);
    expect((await agent.post(`/sessions/${other.body.id}/kill`)).status).toBe(403);
    expect((await agent.get('/sessions')).status).toBe(403);
    expect((await agent.get(`/sessions/${id}`)).status).toBe(403);
    await api.post(`/sessions/${other.body.id}/kill`);

    const killed = await api.post(`/sessions/${id}/kill`);
    expect(killed.body.freed).toBe(true); // .claude/settings.local.json is excluded from git: not dirty
    // Revoked with its session.
    expect(await eventually(async () => (await agent.get(`/sessions/${id}/tool-calls`)).status === 403, 'the credential to be revoked')).toBe(true);
  });
});
