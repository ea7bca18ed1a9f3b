import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithClaude, prepareClaudeHome, ClaudeHome, runClaude, transcriptsOf, transcriptToolUses } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'otel-telemetry-e2e-admin-token-0123456789';

/**
 * docs/ARCHITECTURE.md §4g, Claude Code's own telemetry as the third source: the real CLI, launched by runledger (which
 * sets CLAUDE_CODE_ENABLE_TELEMETRY and the OTLP logs variables with the session's credential), posts its OTLP/HTTP JSON
 * logs to `/api/v1/otlp/v1/logs`, and its tool_decision and tool_result records join their calls by tool_use_id; and a
 * hand-run one recorded by `claude install-hooks --telemetry` whose hooks go off between its two calls, one real run.
 */
describeWithClaude('Claude Code telemetry joins its calls', () => {
  let root: string;
  let fake: FakeAnthropicApi;
  let home: ClaudeHome;
  let server: ServerProcess;
  let repo: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-otel-logs-'));
    fake = await startFakeAnthropicApi();
    home = prepareClaudeHome(join(root, 'home'), { apiUrl: fake.url });
    server = await startServerProcess({ ...home.env, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    repo = makeRepo(join(root, 'repo'));
    expect((await apiClient(server.url, TOKEN).post('/projects', { id: 'tl', name: 'tl', repoPath: repo })).status).toBe(201);
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await fake?.close();
    if (root) rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('a launched session\'s tool_decision and tool_result records are recorded on their calls, once each', async () => {
    const api = apiClient(server.url, TOKEN);
    fake.push(
      { tools: [{ name: 'Bash', input: { command: 'echo telemetry-ok', description: 'a call that succeeds' } }] },
      { tools: [{ name: 'Bash', input: { command: 'exit 5', description: 'a call that fails' } }] },
      { text: 'Done.' },
    );
    const spawned = await api.post('/sessions', { projectId: 'tl', agent: 'claude-code', prompt: 'two calls' });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id;
    await eventually(async () => (await api.get(`/sessions/${id}`)).body.status === 'exited' || null, 'the agent to finish', 120_000, 200);
    const calls = (await api.get(`/sessions/${id}/tool-calls`)).body.toolCalls as Array<{ callId: string; status: string }>;
    expect(calls.map((c) => c.status)).toEqual(['completed', 'failed']);
    // Claude Code flushes its logs on exit: they are in the log by the time the session has exited, or soon after.
    const telemetry = await eventually(async () => {
      const events = (await api.get(`/sessions/${id}/events?limit=1000`)).body.events as Array<{ type: string; data: any; metadata: any }>;
      const t = events.filter((e) => e.type === 'ToolCallTelemetryRecorded');
      return t.length >= 4 ? t : null;
    }, 'four telemetry records', 30_000, 200);
    expect(telemetry.map((e) => [e.data.callId, e.data.event, e.data.success])).toEqual([
      [calls[0].callId, 'tool_decision', undefined],
      [calls[0].callId, 'tool_result', true],
      [calls[1].callId, 'tool_decision', undefined],
      [calls[1].callId, 'tool_result', false],
    ]);
    expect(telemetry[0].metadata).toMatchObject({ actor: `session:${id}`, via: 'otlp-logs' });
    const agentSessionId = (await api.get(`/sessions/${id}`)).body.agentSessionId;
    expect(telemetry.every((e) => e.data.agentSessionId === agentSessionId)).toBe(true);

    // The same records posted again (an exporter's retry) append nothing; a body that is not OTLP is a 400 naming the field.
    const again = await api.post('/otlp/v1/logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '1', attributes: [
      { key: 'event.name', value: { stringValue: 'tool_result' } }, { key: 'session.id', value: { stringValue: agentSessionId } },
      { key: 'tool_use_id', value: { stringValue: calls[0].callId } }, { key: 'success', value: { stringValue: 'true' } },
    ] }] }] }] });
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: {} });
    const bad = await api.post('/otlp/v1/logs', { resourceLogs: { not: 'an array' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'TELEMETRY.INVALID', details: { field: 'resourceLogs' } });
    const unknown = await api.post('/otlp/v1/logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '1', attributes: [
      { key: 'event.name', value: { stringValue: 'tool_result' } }, { key: 'session.id', value: { stringValue: 'no-such-agent-session' } },
      { key: 'tool_use_id', value: { stringValue: 'toolu_x' } },
    ] }] }] }] });
    expect(unknown.body).toEqual({ partialSuccess: { rejectedLogRecords: 1, errorMessage: 'session.id: no runledger session is linked to agent session no-such-agent-session' } });
    const after = (await api.get(`/sessions/${id}/events?limit=1000`)).body.events.filter((e: { type: string }) => e.type === 'ToolCallTelemetryRecorded');
    expect(after).toHaveLength(4);

    // Every call seen by all three sources: completeness 1, nothing missed, no call on one source alone.
    const { completeness } = (await api.get(`/sessions/${id}`)).body;
    expect(completeness).toMatchObject({ sources: ['hooks', 'transcript', 'telemetry'], figure: 1, calls: 2, seenBy: { hooks: 2, transcript: 2, telemetry: 2 }, missed: [], singleSource: [], transcript: 'read' });
    const history = await runCli(['history', id], { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN });
    expect(history.stdout).toContain('completeness 100.0% over hooks, transcript, telemetry: 2 calls; hooks 2, transcript 2, telemetry 2');
    expect(history.stdout).toMatch(/ToolCallTelemetryRecorded .*telemetry tool_result Bash \S+ FAILED/);
  });

  it('hooks turned off mid-run: completeness names the later call as seen by the transcript and telemetry only', async () => {
    const api = apiClient(server.url, TOKEN);
    const cli = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN, HOME: home.home };
    // A person's Claude Code in the project's repository, recorded by the hooks and telemetry `install-hooks --telemetry`
    // writes into the user's settings (Claude Code 2.1.328 takes its telemetry variables from there, not from a repository's).
    const installed = await runCli(['claude', 'install-hooks', '--scope', 'user', '--project', 'tl', '--telemetry', '--json'], cli, repo);
    expect(installed.code).toBe(0);
    // Each hook command first checks a file: once it exists, the hook reads its input and answers nothing (exit 0), as an
    // uninstalled hook would. Claude Code runs the command anew for every hook, so the switch takes effect at a known
    // point of the run; a settings file changed mid-run is re-read when Claude Code notices, not at a known point.
    const off = join(root, 'hooks-off');
    const settingsFile = join(home.home, '.claude', 'settings.json');
    const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as { hooks: Record<string, Array<{ hooks: Array<{ command: string }> }>> };
    for (const groups of Object.values(settings.hooks)) for (const group of groups) for (const hook of group.hooks) hook.command = `[ -e '${off}' ] && { cat >/dev/null; exit 0; }; ${hook.command}`;
    writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
    fake.push(
      { tools: [{ name: 'Bash', input: { command: 'echo hooks-on', description: 'first, with hooks' } }] },
      // The model's second turn is asked for after the first call's PostToolUse hook answered: the hooks go off here.
      () => (writeFileSync(off, ''), { tools: [{ name: 'Bash', input: { command: 'echo hooks-off', description: 'second, hooks off' } }] }),
      { text: 'Done, half with hooks.' },
    );
    const run = await runClaude(['-p', 'two calls, hooks off after the first', '--allowedTools', 'Bash'], { cwd: repo, home, env: { RUNLEDGER_TOKEN: TOKEN }, timeoutMs: 120_000 });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const [transcript] = transcriptsOf(home.home, repo);
    const uses = transcriptToolUses(transcript);
    expect(uses).toHaveLength(2);
    const agentSessionId = transcript.split('/').at(-1)!.replace('.jsonl', '');
    const [session] = (await api.get(`/sessions?agentSessionId=${agentSessionId}`)).body.sessions;
    expect(session).toMatchObject({ agent: 'external', projectId: 'tl' }); // made by its SessionStart hook
    expect((await api.get(`/sessions/${session.id}/tool-calls`)).body.toolCalls.map((c: { callId: string; source: string }) => [c.callId, c.source])).toEqual([[uses[0].id, 'hook']]);
    await eventually(async () => (await api.get(`/sessions/${session.id}`)).body.completeness.seenBy.telemetry === 2 || null, 'telemetry of both calls', 30_000, 200);
    const imported = await runCli(['import', 'claude-code', transcript, '--json'], cli);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ sessionId: session.id });
    const calls = (await api.get(`/sessions/${session.id}/tool-calls`)).body.toolCalls as Array<{ callId: string; source: string }>;
    expect(calls.map((c) => [c.callId, c.source])).toEqual([[uses[0].id, 'hook'], [uses[1].id, 'import']]);

    const { completeness } = (await api.get(`/sessions/${session.id}`)).body;
    expect(completeness).toMatchObject({ sources: ['hooks', 'transcript', 'telemetry'], calls: 2, seenBy: { hooks: 1, transcript: 2, telemetry: 2 }, singleSource: [], transcript: 'read' });
    expect(completeness.figure).toBeCloseTo(5 / 6, 3);
    expect(completeness.missed).toEqual([{ callId: uses[1].id, tool: 'Bash', seenBy: ['transcript', 'telemetry'], missedBy: ['hooks'] }]);
    const history = await runCli(['history', session.id], cli);
    expect(history.stdout).toContain('completeness 83.3% over hooks, transcript, telemetry: 2 calls; hooks 1, transcript 2, telemetry 2');
    expect(history.stdout).toContain(`Bash ${uses[1].id}: seen by transcript and telemetry only, missed by hooks`);
    expect(history.stdout).not.toContain(`${uses[0].id}: seen by`);
  });
});
