import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithClaude, prepareClaudeHome, ClaudeHome } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, ScriptedTurn, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { OtlpReceiver, ReceivedSpan, startOtlpReceiver } from '../support/otel/otlp-receiver';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'otel-export-e2e-admin-token-0123456789';

/** What the log says each span must be: one per ended run and per ended call attempt, with its times from the events. */
interface ExpectedSpan {
  kind: 'run' | 'call';
  id: string;
  parentRunId?: string;
  runId?: string;
  tool?: string;
  attempt?: number;
  startMs: number;
  endMs: number;
  error: boolean;
}

const expectedSpans = (events: Array<{ type: string; data: any }>): ExpectedSpan[] => {
  const starts = new Map<string, { data: any }>();
  const out: ExpectedSpan[] = [];
  for (const e of events) {
    const d = e.data;
    if (e.type === 'AgentRunStarted') starts.set(`run:${d.runId}`, e);
    if (e.type === 'ToolCallDispatched') starts.set(`call:${d.callId}#${d.attempt}`, e);
    if (['AgentRunCompleted', 'AgentRunFailed', 'AgentRunInterrupted'].includes(e.type)) {
      const s = starts.get(`run:${d.runId}`);
      if (!s) continue;
      starts.delete(`run:${d.runId}`);
      out.push({ kind: 'run', id: d.runId, parentRunId: s.data.parentRunId, startMs: Date.parse(s.data.at), endMs: Date.parse(d.at), error: e.type !== 'AgentRunCompleted' });
    }
    if (['ToolCallCompleted', 'ToolCallFailed', 'ToolCallInterrupted'].includes(e.type)) {
      const s = starts.get(`call:${d.callId}#${d.attempt}`);
      if (!s) continue;
      starts.delete(`call:${d.callId}#${d.attempt}`);
      out.push({ kind: 'call', id: d.callId, runId: s.data.runId, tool: s.data.tool, attempt: d.attempt, startMs: Date.parse(s.data.at), endMs: Date.parse(d.at), error: e.type !== 'ToolCallCompleted' });
    }
  }
  return out;
};

const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();

/**
 * docs/ARCHITECTURE.md §4g with the real Claude Code CLI (scripted Messages API stand-in) and a loopback OTLP/HTTP
 * receiver of our own: a session with a sub-agent and a failing call gives exactly one span per call and per run, with
 * the right parent, trace, status and times; with the receiver down for 20 s and runledger killed and started again
 * meanwhile, the spans of a session run during the outage all arrive afterwards, none twice.
 */
describeWithClaude('OTLP span export of the log', () => {
  let root: string;
  let fake: FakeAnthropicApi;
  let receiver: OtlpReceiver;
  let home: ClaudeHome;
  let server: ServerProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-otel-'));
    receiver = await startOtlpReceiver();
    fake = await startFakeAnthropicApi();
    home = prepareClaudeHome(join(root, 'home'), { apiUrl: fake.url });
    env = { ...home.env, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'runledger-e2e' };
    server = await startServerProcess(env);
    const api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { id: 'ot', name: 'ot', repoPath: makeRepo(join(root, 'repo')) })).status).toBe(201);
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await fake?.close();
    await receiver?.close();
    if (root) rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  /** Spawns a Claude Code session on `turns` and waits for its agent to exit; returns the session id. */
  const runSession = async (turns: ScriptedTurn[], prompt: string): Promise<string> => {
    const api = apiClient(server.url, TOKEN);
    fake.push(...turns);
    const spawned = await api.post('/sessions', { projectId: 'ot', agent: 'claude-code', prompt });
    expect(spawned.status).toBe(201);
    await eventually(async () => (await api.get(`/sessions/${spawned.body.id}`)).body.status === 'exited' || null, 'the agent to finish', 120_000, 200);
    return spawned.body.id;
  };

  const eventsOf = async (sessionId: string) => (await apiClient(server.url, TOKEN).get(`/sessions/${sessionId}/events?limit=1000`)).body.events as Array<{ type: string; data: any }>;

  /** Checks the received spans of `sessionId` against its log, span for span; returns them. */
  const checkSession = async (sessionId: string): Promise<ReceivedSpan[]> => {
    const expected = expectedSpans(await eventsOf(sessionId));
    const mine = await eventually(() => {
      const got = receiver.spans.filter((s) => s.attributes['runledger.session.id'] === sessionId);
      return got.length >= expected.length ? got : null;
    }, `the ${expected.length} spans of ${sessionId}`, 60_000, 100);
    expect(mine).toHaveLength(expected.length);
    expect(new Set(mine.map((s) => s.spanId)).size).toBe(mine.length);
    expect(new Set(mine.map((s) => s.traceId))).toEqual(new Set([mine[0].traceId]));
    const runSpan = new Map(mine.filter((s) => s.attributes['gen_ai.operation.name'] === 'invoke_agent').map((s) => [s.attributes['gen_ai.agent.id'] as string, s]));
    for (const want of expected) {
      const span = want.kind === 'run'
        ? runSpan.get(want.id)
        : mine.find((s) => s.attributes['gen_ai.tool.call.id'] === want.id && s.attributes['runledger.tool_call.attempt'] === want.attempt);
      expect(span).toBeDefined();
      expect({ start: span!.startTimeUnixNano, end: span!.endTimeUnixNano }).toEqual({ start: ns(want.startMs), end: ns(want.endMs) });
      expect(span!.status.code).toBe(want.error ? 2 : 1);
      expect(span!.resource['service.name']).toBe('runledger-e2e');
      const parentRun = want.kind === 'run' ? want.parentRunId : want.runId;
      expect(span!.parentSpanId).toBe(parentRun ? runSpan.get(parentRun)!.spanId : undefined);
      if (want.kind === 'call') {
        expect(span!.name).toBe(`execute_tool ${want.tool}`);
        expect(span!.attributes).toMatchObject({ 'gen_ai.tool.name': want.tool, 'gen_ai.provider.name': 'anthropic' });
        expect(span!.attributes['gen_ai.tool.call.arguments']).toBeUndefined(); // RUNLEDGER_OTEL_CONTENT defaults to none
      } else expect(span!.name).toMatch(/^invoke_agent /);
    }
    return mine;
  };

  it('exports one span per run and per call of a real Claude Code session, sub-agent nested, failed call in error', async () => {
    const sessionId = await runSession([
      { tools: [{ name: 'Bash', input: { command: 'echo otel-main', description: 'main agent call' } }] },
      { tools: [{ name: 'Bash', input: { command: 'exit 3', description: 'a failing call' } }] },
      { tools: [{ name: 'Agent', input: { description: 'look around', prompt: 'echo once', subagent_type: 'general-purpose' } }] },
      { tools: [{ name: 'Bash', input: { command: 'echo otel-sub-agent', description: 'sub-agent call' } }] },
      { text: 'Sub-agent done.' },
      { text: 'All done.' },
    ], 'use a sub-agent');
    const spans = await checkSession(sessionId);
    const events = await eventsOf(sessionId);
    const agentSessionId = events.find((e) => e.type === 'AgentSessionLinked')!.data.agentSessionId;
    expect(spans.every((s) => s.attributes['gen_ai.conversation.id'] === agentSessionId)).toBe(true);
    // The sub-agent's run hangs under the main run, its Bash call under the sub-agent; the failing call is in error.
    const sub = spans.find((s) => String(s.attributes['gen_ai.agent.id']).startsWith('subagent:'))!;
    const main = spans.find((s) => s.spanId === sub.parentSpanId)!;
    expect(main.attributes['gen_ai.operation.name']).toBe('invoke_agent');
    expect(spans.filter((s) => s.parentSpanId === sub.spanId).map((s) => s.name)).toEqual(['execute_tool Bash']);
    const failed = spans.filter((s) => s.attributes['runledger.tool_call.status'] === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ status: { code: 2 }, attributes: { 'error.type': 'tool_call_failed', 'gen_ai.tool.name': 'Bash' } });
    expect(spans.filter((s) => s.name === 'execute_tool Bash')).toHaveLength(3);
  });

  it('holds the export while the receiver is down for 20 s, across a runledger restart: nothing lost, nothing sent twice', async () => {
    const before = receiver.spans.length;
    await receiver.down();
    const downAt = Date.now();
    const sessionId = await runSession([
      { tools: [{ name: 'Bash', input: { command: 'echo during-outage', description: 'call during the outage' } }] },
      { tools: [{ name: 'Bash', input: { command: 'exit 4', description: 'failing during the outage' } }] },
      { text: 'Done during the outage.' },
    ], 'work while the collector is down');
    await server.stop('SIGKILL'); // no graceful flush: the checkpoint alone must carry the export
    server = await startServerProcess(env);
    await new Promise((r) => setTimeout(r, Math.max(0, 20_000 - (Date.now() - downAt))));
    expect(receiver.spans.length).toBe(before); // nothing reached a receiver that was down
    await receiver.up();
    await checkSession(sessionId);
    // Across both sessions and the restart, no span arrived twice.
    const ids = receiver.spans.map((s) => s.spanId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
