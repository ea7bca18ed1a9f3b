import { callSpanIdOf, GEN_AI, runSpanIdOf, spansOfEvents, TraceState, traceIdOf } from './log-spans';

// The incubating entry point of the pinned package (1.45.0), resolved through its `exports` by jest.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const semconv = require('@opentelemetry/semantic-conventions/incubating') as Record<string, string>;

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const ev = (type: string, data: Record<string, unknown>, streamId = 'session-s-1') => ({ streamId, type, data });

describe('spansOfEvents (docs/ARCHITECTURE.md §4g)', () => {
  it('uses the GenAI attribute names of the pinned semantic conventions', () => {
    expect(GEN_AI).toMatchObject({
      operationName: semconv.ATTR_GEN_AI_OPERATION_NAME, agentId: semconv.ATTR_GEN_AI_AGENT_ID, agentName: semconv.ATTR_GEN_AI_AGENT_NAME,
      conversationId: semconv.ATTR_GEN_AI_CONVERSATION_ID, providerName: semconv.ATTR_GEN_AI_PROVIDER_NAME, toolName: semconv.ATTR_GEN_AI_TOOL_NAME,
      toolCallId: semconv.ATTR_GEN_AI_TOOL_CALL_ID, toolCallArguments: semconv.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, toolCallResult: semconv.ATTR_GEN_AI_TOOL_CALL_RESULT,
      inputTokens: semconv.ATTR_GEN_AI_USAGE_INPUT_TOKENS, outputTokens: semconv.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
      cacheReadTokens: semconv.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cacheCreationTokens: semconv.ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
      errorType: semconv.ATTR_ERROR_TYPE, invokeAgent: semconv.GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT, executeTool: semconv.GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
    });
  });

  it('gives a span per ended run and call attempt, nested by run, with the events\' times; a span only once its end arrives', () => {
    const traces = new Map<string, TraceState>();
    const first = spansOfEvents([
      ev('SessionStarted', { agent: 'claude-code', at: at(0) }),
      ev('AgentSessionLinked', { agentSessionId: 'conv-1', at: at(0) }),
      ev('AgentRunStarted', { runId: 'r1', at: at(1) }),
      ev('AgentRunStarted', { runId: 'subagent:agent-a', parentRunId: 'r1', agentType: 'general-purpose', at: at(2) }),
      ev('ToolCallDispatched', { callId: 'c1', tool: 'Bash', input: { command: 'x' }, attempt: 1, runId: 'subagent:agent-a', at: at(3) }),
    ], traces, 'none');
    expect(first.spans).toEqual([]);
    expect([...first.changed]).toEqual(['s-1']);
    // A later batch (after a restart, from the stored state) ends them.
    const restored = new Map([['s-1', JSON.parse(JSON.stringify(traces.get('s-1')))]]);
    const { spans } = spansOfEvents([
      ev('ToolCallFailed', { callId: 'c1', attempt: 1, error: 'exit 3', source: 'hook', at: at(4) }),
      ev('UsageRecorded', { runId: 'r1', inputTokens: 5, outputTokens: 7, cacheReadTokens: 1, cacheCreationTokens: 2, at: at(4) }),
      ev('AgentRunCompleted', { runId: 'subagent:agent-a', at: at(5) }),
      ev('AgentRunCompleted', { runId: 'r1', at: at(6) }),
      ev('AgentRunCompleted', { runId: 'r1', at: at(7) }), // a second end produces nothing
    ], restored, 'none');
    expect(spans.map((s) => [s.name, s.spanId, s.parentSpanId, s.startMs, s.endMs, s.status.code])).toEqual([
      ['execute_tool Bash', callSpanIdOf('s-1', 'c1', 1), runSpanIdOf('s-1', 'subagent:agent-a'), Date.parse(at(3)), Date.parse(at(4)), 'error'],
      ['invoke_agent general-purpose', runSpanIdOf('s-1', 'subagent:agent-a'), runSpanIdOf('s-1', 'r1'), Date.parse(at(2)), Date.parse(at(5)), 'ok'],
      ['invoke_agent claude-code', runSpanIdOf('s-1', 'r1'), undefined, Date.parse(at(1)), Date.parse(at(6)), 'ok'],
    ]);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceIdOf('s-1')]));
    expect(spans[0].attributes).toMatchObject({ 'gen_ai.tool.call.id': 'c1', 'gen_ai.conversation.id': 'conv-1', 'error.type': 'tool_call_failed', 'gen_ai.provider.name': 'anthropic' });
    expect(spans[0].attributes['gen_ai.tool.call.arguments']).toBeUndefined();
    expect(spans[2].attributes).toMatchObject({ 'gen_ai.usage.input_tokens': 5, 'gen_ai.usage.output_tokens': 7 });
    expect(traceIdOf('s-1')).toMatch(/^[0-9a-f]{32}$/);
    expect(callSpanIdOf('s-1', 'c1', 2)).not.toBe(callSpanIdOf('s-1', 'c1', 1));
  });

  it('marks interrupted and healed calls, and carries content only when set to redacted', () => {
    const traces = new Map<string, TraceState>();
    const { spans } = spansOfEvents([
      ev('ToolCallDispatched', { callId: 'c1', tool: 'Bash', input: { command: 'sleep 9' }, attempt: 1, at: at(1) }),
      ev('ToolCallInterrupted', { callId: 'c1', attempt: 1, reason: 'runtime gone', at: at(2) }),
      ev('ToolCallDispatched', { callId: 'c2', tool: 'Read', input: { file_path: '/a' }, attempt: 1, source: 'transcript', at: at(3) }),
      ev('ToolCallCompleted', { callId: 'c2', attempt: 1, output: 'text', source: 'transcript', at: at(3) }),
      ev('ToolCallCompleted', { callId: 'c3', attempt: 1, source: 'hook', at: at(3) }), // never dispatched here: no span
    ], traces, 'redacted');
    expect(spans).toHaveLength(2);
    expect(spans[0]).toMatchObject({ status: { code: 'error', message: 'runtime gone' }, attributes: { 'runledger.tool_call.interrupted': true, 'error.type': 'interrupted' } });
    expect(spans[1].attributes).toMatchObject({ 'runledger.tool_call.healed': true, 'gen_ai.tool.call.arguments': '{"file_path":"/a"}', 'gen_ai.tool.call.result': 'text' });
  });
});
