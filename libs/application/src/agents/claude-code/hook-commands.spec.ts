import { replay, Session, sessionDecider, SessionEvent, SessionState } from '@runledger/domain';
import { parseHookInput } from '@runledger/infra/agents/claude-code/hook-protocol';
import { decideAll } from '../../sessions/session-streams';
import { hookCommands, joinByToolAndInput, subagentRunId } from './hook-commands';

const T = (s: number): string => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000Z`;
const common = { session_id: 'cc-1', transcript_path: '/t/cc-1.jsonl', cwd: '/w' };
const history: SessionEvent[] = [
  { type: 'SessionStarted', data: { sessionId: 'p-1', projectId: 'p', kind: 'worker', agent: 'claude-code', branch: 'runledger/p-1', baseRef: 'main', at: T(0) } },
  { type: 'SessionRuntimeLaunched', data: { runtime: { type: 'process', pid: 1, startTime: '1', command: ['claude'], logPath: '/l' }, at: T(1) } },
  { type: 'AgentSessionLinked', data: { agentSessionId: 'cc-1', transcriptPath: '/t/cc-1.jsonl', at: T(1) } },
];
const facts = { at: T(9), newRunId: () => 'run-new', redact: <V>(v: V): V => v };

/** Applies the commands a sequence of hook inputs implies, in order, and returns the final state and all events. */
const hooks = (...inputs: Record<string, unknown>[]): { state: Session; events: SessionEvent[] } => {
  let state = replay(sessionDecider, history) as SessionState;
  const events: SessionEvent[] = [];
  for (const input of inputs) {
    const produced = decideAll(state, hookCommands(parseHookInput({ ...common, ...input }), state as Session, facts));
    events.push(...produced);
    state = produced.reduce(sessionDecider.evolve, state);
  }
  return { state: state as Session, events };
};
const pre = (id: string, command = 'ls', extra = {}) => ({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command }, tool_use_id: id, ...extra });

describe('hookCommands: what each Claude Code hook event changes', () => {
  it('a prompt opens a run named by prompt_id; tool calls join on tool_use_id; Stop ends the turn idle', () => {
    const { state, events } = hooks(
      { hook_event_name: 'UserPromptSubmit', prompt: 'go', prompt_id: 'p-uuid' },
      pre('toolu_1'),
      pre('toolu_1'), // a hook retried after a restart appends nothing
      { hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'toolu_1', tool_response: { stdout: 'a' } },
      { hook_event_name: 'PostToolUseFailure', tool_name: 'Bash', tool_input: { command: 'false' }, tool_use_id: 'toolu_2', error: 'exit 1' },
      { hook_event_name: 'Stop', stop_hook_active: false },
    );
    expect(state.runs['p-uuid']).toMatchObject({ status: 'completed' });
    expect(state.toolCalls.get('toolu_1')!).toMatchObject({ status: 'completed', runId: 'p-uuid' });
    expect(state.toolCalls.get('toolu_2')!).toMatchObject({ status: 'failed', result: { error: 'exit 1', source: 'hook' } });
    expect(state.activity).toBe('idle');
    expect(events.filter((e) => e.type === 'ToolCallDispatched')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'AgentHookReceived').map((e) => (e.data as { hook: string }).hook)).toEqual(['Stop']);
  });

  it('a result for an interrupted call is kept once as a late result, however often the hook is delivered', () => {
    const post = { hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'toolu_i', tool_response: { stdout: 'late' } };
    let state = replay(sessionDecider, history) as SessionState;
    const apply = (input: Record<string, unknown>) => {
      const produced = decideAll(state, hookCommands(parseHookInput({ ...common, ...input }), state as Session, facts));
      state = produced.reduce(sessionDecider.evolve, state);
      return produced;
    };
    apply(pre('toolu_i'));
    state = sessionDecider.evolve(state, { type: 'ToolCallInterrupted', data: { callId: 'toolu_i', attempt: 1, reason: 'runtime gone', at: T(5) } });
    expect(apply(post).map((e) => e.type)).toEqual(['ToolCallLateResultRecorded']);
    expect(apply(post)).toEqual([]);
    expect((state as Session).toolCalls.get('toolu_i')!).toMatchObject({ status: 'interrupted', lateResults: [{ status: 'completed', source: 'hook' }] });
  });

  it('a PermissionRequest (no tool_use_id) is joined to the dispatched call with the same tool and input', () => {
    const { state, events } = hooks(pre('toolu_a', 'rm x'), pre('toolu_b', 'ls'), {
      hook_event_name: 'PermissionRequest', tool_name: 'Bash', tool_input: { command: 'ls' },
    });
    expect(joinByToolAndInput(state, 'Bash', { command: 'ls' })?.callId).toBe('toolu_b');
    expect(events.at(-2)).toMatchObject({ type: 'AgentHookReceived', data: { hook: 'PermissionRequest', detail: { tool_name: 'Bash', tool_use_id: 'toolu_b' } } });
    expect(state.activity).toBe('waiting_input');
  });

  it('a sub-agent is a child run with its transcript; its calls belong to it', () => {
    const { state } = hooks(
      { hook_event_name: 'UserPromptSubmit', prompt: 'go', prompt_id: 'main' },
      { hook_event_name: 'SubagentStart', agent_id: 'a1', agent_type: 'Explore' },
      pre('toolu_s', 'ls', { agent_id: 'a1', agent_type: 'Explore' }),
      { hook_event_name: 'SubagentStop', agent_id: 'a1', agent_type: 'Explore', agent_transcript_path: '/t/cc-1/subagents/agent-a1.jsonl', stop_hook_active: false },
    );
    expect(state.runs[subagentRunId('a1')]).toMatchObject({ status: 'completed', parentRunId: 'main', agentType: 'Explore', transcriptPath: '/t/cc-1/subagents/agent-a1.jsonl' });
    expect(state.toolCalls.get('toolu_s')!.runId).toBe(subagentRunId('a1'));
    expect(state.runs.main.status).toBe('started');
  });

  it('a failing turn fails its run with the reason; the session end keeps its reason', () => {
    const { state } = hooks(
      { hook_event_name: 'UserPromptSubmit', prompt: 'go', prompt_id: 'r1' },
      { hook_event_name: 'StopFailure', error: 'rate_limit', error_details: '429 Too Many Requests' },
      { hook_event_name: 'SessionEnd', reason: 'prompt_input_exit' },
    );
    expect(state.runs.r1).toMatchObject({ status: 'failed', error: 'rate_limit: 429 Too Many Requests' });
    expect(state.agentEnded).toEqual({ reason: 'prompt_input_exit', at: T(9) });
    expect(state.activity).toBe('idle');
  });

  it('a StopFailure without details names the message the turn ended on, as the transcript does', () => {
    const { state } = hooks(
      { hook_event_name: 'UserPromptSubmit', prompt: 'go', prompt_id: 'r1' },
      { hook_event_name: 'StopFailure', error: 'unknown', last_assistant_message: 'API Error: 400 scripted failure' },
    );
    expect(state.runs.r1).toMatchObject({ status: 'failed', error: 'unknown: API Error: 400 scripted failure' });
  });

  it('a one-shot agent whose StopFailure never arrived: SessionEnd fails the open run with the transcript\'s API error', () => {
    const state0 = replay(sessionDecider, history) as SessionState;
    const prompt = decideAll(state0, hookCommands(parseHookInput({ ...common, hook_event_name: 'UserPromptSubmit', prompt: 'go', prompt_id: 'r1' }), state0 as Session, facts));
    const state1 = prompt.reduce(sessionDecider.evolve, state0);
    const end = parseHookInput({ ...common, hook_event_name: 'SessionEnd', reason: 'other' });
    const events = decideAll(state1, hookCommands(end, state1 as Session, { ...facts, turnFailure: 'unknown: API Error: 400 bad' }));
    expect(events.filter((e) => e.type === 'AgentRunFailed').map((e) => e.data)).toEqual([{ runId: 'r1', error: 'unknown: API Error: 400 bad', at: T(9) }]);
    expect(events.some((e) => e.type === 'AgentRunCompleted')).toBe(false);
  });

  it('keeps a notification, a compaction and an event this version does not know, with their own fields', () => {
    const { events, state } = hooks(
      { hook_event_name: 'Notification', message: 'Claude needs your permission', notification_type: 'permission_prompt' },
      { hook_event_name: 'PreCompact', trigger: 'auto', custom_instructions: null },
      { hook_event_name: 'SomethingNew', payload: { n: 1 } },
    );
    const kept = events.filter((e) => e.type === 'AgentHookReceived').map((e) => e.data);
    expect(kept).toEqual([
      { hook: 'Notification', detail: { message: 'Claude needs your permission', notification_type: 'permission_prompt' }, at: T(9) },
      { hook: 'PreCompact', detail: { trigger: 'auto', custom_instructions: null }, at: T(9) },
      { hook: 'SomethingNew', detail: { payload: { n: 1 } }, at: T(9) },
    ]);
    expect(state.activity).toBe('working');
  });

  it('links a new agent session id or transcript once', () => {
    const { events } = hooks({ ...common, session_id: 'cc-2', hook_event_name: 'SessionStart', source: 'resume' }, { session_id: 'cc-2', hook_event_name: 'Stop' });
    expect(events.filter((e) => e.type === 'AgentSessionLinked')).toHaveLength(1);
  });
});
