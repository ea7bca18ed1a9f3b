import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describeWithClaude, prepareClaudeHome, readTranscript, subagentFiles, transcriptDir, transcriptsOf } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';
import { killTmuxServer } from '../support/tmux';

const TOKEN = 'hook-events-admin-token-0123456789';

/**
 * The real Claude Code CLI launched by runledger, against the scripted Messages API: the hook events beyond tool calls
 * reach `runledger history` (a sub-agent's run, a turn that failed on an API error, a notification), and the transcript
 * archive gives back every transcript byte for byte after Claude Code's originals are gone (docs/ARCHITECTURE.md §4a).
 */
describeWithClaude('hook events and the transcript archive with the real Claude Code CLI', () => {
  let root: string;
  let fake: FakeAnthropicApi;
  let home: ReturnType<typeof prepareClaudeHome>;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let cli: Record<string, string>;
  const history = async (id: string): Promise<string> => {
    const run = await runCli(['history', id], cli);
    expect(run.code).toBe(0);
    return run.stdout;
  };
  const finished = (id: string) =>
    eventually(async () => {
      const s = (await api.get(`/sessions/${id}`)).body;
      return s.status === 'exited' ? s : null;
    }, 'the agent to finish and its exit to be recorded', 90_000, 200);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-hook-events-'));
    fake = await startFakeAnthropicApi();
    home = prepareClaudeHome(join(root, 'home'), { apiUrl: fake.url, interactive: true });
    // Interactive sessions say they wait for input after 1 s idle (Claude Code's messageIdleNotifThresholdMs, default 60 s).
    const config = JSON.parse(readFileSync(join(home.home, '.claude.json'), 'utf8'));
    writeFileSync(join(home.home, '.claude.json'), JSON.stringify({ ...config, messageIdleNotifThresholdMs: 1000 }, null, 2));
    server = await startServerProcess({ ...home.env, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', RUNLEDGER_KILL_GRACE_MS: '1000' });
    api = apiClient(server.url, TOKEN);
    cli = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN };
    expect((await api.post('/projects', { id: 'he', name: 'he', repoPath: makeRepo(join(root, 'repo')) })).status).toBe(201);
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    killTmuxServer(join(root, 'data', 'tmux.sock'));
    await fake?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('a sub-agent\'s run is in the history, and `export --transcript` gives back the main and sub-agent transcripts byte for byte after the originals are deleted', async () => {
    fake.push(
      { tools: [{ name: 'Bash', input: { command: 'echo main-call', description: 'main agent call' } }] },
      { tools: [{ name: 'Agent', input: { description: 'look around', prompt: 'echo once', subagent_type: 'general-purpose' } }] },
      { tools: [{ name: 'Bash', input: { command: 'echo from-the-sub-agent', description: 'sub-agent call' } }] },
      { text: 'Sub-agent done.' },
      { text: 'All done.' },
    );
    const spawned = await api.post('/sessions', { projectId: 'he', agent: 'claude-code', prompt: 'use a sub-agent' });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id as string;
    await finished(id);

    const [transcript] = transcriptsOf(home.home, spawned.body.worktrees[0].path);
    const subs = subagentFiles(transcript);
    expect(subs).toHaveLength(1);
    const originals = new Map([transcript, ...subs].map((f) => [f, readFileSync(f)]));
    rmSync(transcriptDir(home.home, spawned.body.worktrees[0].path), { recursive: true }); // Claude Code's retention sweep

    const out = join(root, 'exported.jsonl');
    const exported = await runCli(['export', id, '--transcript', '-o', out], cli);
    expect(exported.stderr).toContain(`transcript lines of session ${id}`);
    expect(exported.code).toBe(0);
    expect(readFileSync(out).equals(originals.get(transcript)!)).toBe(true);
    const subOut = join(root, 'exported-sub.jsonl');
    expect((await runCli(['export', id, '--transcript', '--subagent', basename(subs[0]), '-o', subOut], cli)).code).toBe(0);
    expect(readFileSync(subOut).equals(originals.get(subs[0])!)).toBe(true);
    // The archive is private to runledger's data directory.
    const copy = join(root, 'data', 'transcripts', id, basename(transcript));
    expect((statSync(copy).mode & 0o777).toString(8)).toBe('600');
    expect((statSync(join(root, 'data', 'transcripts', id)).mode & 0o777).toString(8)).toBe('700');
    const missing = await api.get(`/sessions/${id}/transcript?subagent=agent-none.jsonl`);
    expect(missing).toMatchObject({ status: 404, body: { code: 'TRANSCRIPT.NOT_FOUND' } });
    expect((await api.get(`/sessions/${id}/transcript?subagent=../x.jsonl`)).status).toBe(400);

    const lines = await history(id);
    const agentId = basename(subs[0], '.jsonl').replace(/^agent-/, '');
    expect(lines).toMatch(new RegExp(`AgentRunStarted  run subagent:agent-${agentId}`));
    expect(lines).toMatch(new RegExp(`AgentRunCompleted  run subagent:agent-${agentId}`));
    expect(lines).toContain('from-the-sub-agent');
  });

  it('a turn that fails on an API error is in the history as a failed run', async () => {
    const failure = { error: { status: 400, type: 'invalid_request_error', message: 'scripted failure' } };
    fake.push(...Array.from({ length: 12 }, () => failure)); // Claude Code retries a 400 a few times before it gives up
    const spawned = await api.post('/sessions', { projectId: 'he', agent: 'claude-code', prompt: 'this turn fails' });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id as string;
    const ended = await finished(id);
    expect(ended.runtime.exitCode).not.toBe(0);
    fake.clear(); // the failures Claude Code did not ask for
    const lines = await history(id);
    // Whichever comes first, the StopFailure hook or (a one-shot agent exiting first) the transcript's API error line, says the same.
    expect(lines).toMatch(/AgentRunFailed  run \S+: unknown: API Error: 400 scripted failure/);
    expect(lines).not.toMatch(/AgentRunCompleted/);
  });

  it('a notification (the interactive agent waits for input) is in the history', async () => {
    fake.push({ text: 'Hello there.' });
    const spawned = await api.post('/sessions', { projectId: 'he', agent: 'claude-code', runtime: 'tmux', prompt: 'say hello' });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id as string;
    const waiting = await eventually(async () => {
      const s = (await api.get(`/sessions/${id}`)).body;
      return s.activity === 'waiting_input' ? s : null;
    }, 'the idle notification to be recorded', 60_000, 200);
    expect(waiting.status).toBe('running');
    expect(await history(id)).toMatch(/AgentHookReceived  .*"hook":"Notification".*Claude is waiting for your input/);
    expect((await api.post(`/sessions/${id}/kill`)).body.session.status).toBe('terminated');
  });
});

/**
 * runledger gone longer than the hook hold: the command hook gives up and PreToolUse fails closed, so the tool does not
 * run and the agent reads why in its transcript (docs/ARCHITECTURE.md §4a).
 */
describeWithClaude('hold expiry with the real Claude Code CLI', () => {
  let root: string;
  let fake: FakeAnthropicApi | undefined;
  let server: ServerProcess | undefined;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rl-hold-expiry-'));
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await fake?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('blocks the next tool call with a reason the agent reads once the hold expires', async () => {
    fake = await startFakeAnthropicApi({
      script: [
        { tools: [{ name: 'Bash', input: { command: 'sleep 3 && echo first', description: 'a long first step' } }] },
        { tools: [{ name: 'Bash', input: { command: 'echo second > second.txt', description: 'the step runledger cannot record' } }] },
        { text: 'Stopping here.' },
      ],
    });
    const home = prepareClaudeHome(join(root, 'home'), { apiUrl: fake.url });
    server = await startServerProcess({ ...home.env, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    const api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { id: 'hx', name: 'hx', repoPath: makeRepo(join(root, 'repo')), hookHoldSeconds: 1 })).status).toBe(201);
    const spawned = await api.post('/sessions', { projectId: 'hx', agent: 'claude-code', prompt: 'two steps' });
    expect(spawned.status).toBe(201);
    const worktree = spawned.body.worktrees[0].path as string;
    await eventually(async () => ((await api.get(`/sessions/${spawned.body.id}/tool-calls`)).body.toolCalls as unknown[]).length === 1, 'the first call dispatched', 60_000, 100);
    await server.stop('SIGKILL'); // gone for longer than the 1 s hold
    server = undefined;

    const pid = spawned.body.runtime.pid as number;
    await eventually(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the agent to finish on its own', 60_000, 200);
    const [transcript] = transcriptsOf(home.home, worktree);
    const second = fake.toolUseIds[1];
    const result = readTranscript(transcript)
      .flatMap((l) => (l.type === 'user' && Array.isArray(l.message?.content) ? l.message.content : []))
      .find((b: Record<string, any>) => b.type === 'tool_result' && b.tool_use_id === second);
    expect(result).toMatchObject({ is_error: true });
    expect(JSON.stringify(result.content)).toContain('this tool call is blocked: it could not be recorded before it runs');
    expect(JSON.stringify(result.content)).toContain('did not answer for 1 s');
    expect(existsSync(join(worktree, 'second.txt'))).toBe(false);
  });
});
