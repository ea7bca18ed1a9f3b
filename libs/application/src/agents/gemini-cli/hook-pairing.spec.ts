import { replay, Session, sessionDecider, SessionEvent, SessionState, TranscriptCallFact } from '@runledger/domain';
import { parseHookInput } from '@runledger/infra/agents/claude-code/hook-protocol';
import { decideAll } from '../../sessions/session-streams';
import { hookCommands } from '../claude-code/hook-commands';
import { geminiHookAnswer, geminiHookPayload, geminiHookResult, hookCallId, pairTranscriptCalls, PENDING_CALL_ID } from './hook-pairing';

const T = (s: number): string => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000Z`;
const AGENT = '55623aaa-04b5-454b-aead-66b619036353';
const common = { session_id: AGENT, transcript_path: '/h/.gemini/tmp/ws/chats/session-x.jsonl', cwd: '/w', timestamp: T(2) };
const history: SessionEvent[] = [
  { type: 'SessionStarted', data: { sessionId: 'g-1', projectId: 'g', kind: 'worker', agent: 'gemini-cli', branch: 'runledger/g-1', baseRef: 'main', at: T(0) } },
  { type: 'SessionRuntimeLaunched', data: { runtime: { type: 'process', pid: 1, startTime: '1', command: ['gemini'], logPath: '/l' }, at: T(1) } },
];
const redact = <V>(v: V): V => v;
const facts = { at: T(9), newRunId: () => 'run-new', redact };
const id = (tool: string, n: number) => `gemini:${AGENT}:${tool}:${n}`;

/** Gemini hook payloads through the dialect and the shared mapping, in order, as AgentHooks records them, from `start`. */
const hooksFrom = (start: SessionState, ...payloads: Record<string, unknown>[]): Session => {
  let state = start;
  for (const payload of payloads) {
    const parsed = parseHookInput(geminiHookPayload({ ...common, ...payload }));
    const input = parsed.input as Record<string, any>;
    const tool = input.hook_event_name === 'PreToolUse' || input.hook_event_name === 'PostToolUse';
    const paired = tool ? { ...parsed, input: { ...parsed.input, tool_use_id: hookCallId(input as never, state as Session, redact) } } : parsed;
    const toolResult = input.hook_event_name === 'PostToolUse' ? geminiHookResult(input as never) : undefined;
    const produced = decideAll(state, hookCommands(paired as typeof parsed, state as Session, { ...facts, ...(toolResult ? { toolResult } : {}) }));
    state = produced.reduce(sessionDecider.evolve, state);
  }
  return state as Session;
};
/** hooksFrom a session that has just launched its Gemini. */
const hooks = (...payloads: Record<string, unknown>[]): Session => hooksFrom(replay(sessionDecider, history) as SessionState, ...payloads);
const before = (command: string) => ({ hook_event_name: 'BeforeTool', tool_name: 'run_shell_command', tool_input: { command } });
const after = (command: string, llmContent: string) => ({ hook_event_name: 'AfterTool', tool_name: 'run_shell_command', tool_input: { command }, tool_response: { llmContent, returnDisplay: command } });
const chatCall = (callId: string, command: string, status: 'completed' | 'failed' = 'completed'): TranscriptCallFact => ({ callId, tool: 'run_shell_command', input: { command }, result: { status, output: 'x' } });

describe('Gemini CLI hooks: pairing by order per tool (no call id in the payload)', () => {
  it('maps the events into the recorded ones; a tool hook carries the pending id until paired', () => {
    expect(geminiHookPayload({ ...common, ...before('ls') })).toMatchObject({ hook_event_name: 'PreToolUse', tool_use_id: PENDING_CALL_ID });
    expect(geminiHookPayload({ ...common, hook_event_name: 'BeforeAgent', prompt: 'go' })).toMatchObject({ hook_event_name: 'UserPromptSubmit', prompt: 'go' });
    expect(geminiHookPayload({ ...common, hook_event_name: 'AfterAgent', prompt_response: 'done' })).toMatchObject({ hook_event_name: 'Stop', last_assistant_message: 'done' });
    expect(geminiHookPayload({ ...common, hook_event_name: 'PreCompress' })).toMatchObject({ hook_event_name: 'PreCompress' });
  });

  it('two calls of one tool back to back: each After is paired with its own Before; a non-zero exit is failed with its code', () => {
    const state = hooks(
      { hook_event_name: 'BeforeAgent', prompt: 'go' },
      before('echo one; exit 3'), after('echo one; exit 3', 'Output: one\nExit Code: 3'),
      before('echo two'), after('echo two', 'Output: two'),
    );
    expect(state.toolCalls.get(id('run_shell_command', 1))).toMatchObject({ status: 'failed', input: { command: 'echo one; exit 3' }, result: { exitCode: 3, source: 'hook' } });
    expect(state.toolCalls.get(id('run_shell_command', 2))).toMatchObject({ status: 'completed', input: { command: 'echo two' } });
    expect(state.toolCalls.size).toBe(2);
  });

  it('parallel calls whose Afters come in the other order are paired by input; the same Before delivered twice is one call', () => {
    const state = hooks(before('a'), before('a'), before('b'), after('b', 'Output: b'), after('a', 'Output: a\nExit Code: 1'));
    expect(state.toolCalls.get(id('run_shell_command', 1))).toMatchObject({ input: { command: 'a' }, status: 'failed', result: { exitCode: 1 } });
    expect(state.toolCalls.get(id('run_shell_command', 2))).toMatchObject({ input: { command: 'b' }, status: 'completed' });
    expect(state.toolCalls.size).toBe(2);
  });

  it('the same After delivered again (its answer lost with a killed server) is the call it completed, not a new one', () => {
    const state = hooks(before('a'), after('a', 'Output: a'), after('a', 'Output: a'), before('a'), after('a', 'Output: a'), after('a', 'Output: a'));
    expect([...state.toolCalls.values()].map((c) => [c.callId, c.status])).toEqual([[id('run_shell_command', 1), 'completed'], [id('run_shell_command', 2), 'completed']]);
  });

  it('an After whose Before was never recorded gets the next hook id; other tools count apart', () => {
    const state = hooks(before('a'), after('a', 'Output: a'), { hook_event_name: 'AfterTool', tool_name: 'read_file', tool_input: { file_path: 'x' }, tool_response: { llmContent: 'x' } }, after('c', 'Output: c'));
    expect(state.toolCalls.get(id('read_file', 1))).toMatchObject({ status: 'completed' });
    expect(state.toolCalls.get(id('run_shell_command', 2))).toMatchObject({ status: 'completed', input: { command: 'c' } });
  });

  it('the chat file is paired with the hook ids by order per tool and input; unpaired calls keep their chat ids', () => {
    const state = hooks(before('one'), after('one', 'Output: one'), before('two'));
    const chat = [chatCall('run_shell_command__call_1', 'one'), chatCall('run_shell_command__call_2', 'two'), chatCall('run_shell_command__call_3', 'blocked', 'failed')];
    expect(pairTranscriptCalls(chat, state, redact, AGENT).map((c) => c.callId)).toEqual([id('run_shell_command', 1), id('run_shell_command', 2), 'run_shell_command__call_3']);
    // Order alone is not enough: a chat call whose input differs from the next hook call's is not paired with it.
    expect(pairTranscriptCalls([chatCall('c9', 'two')], state, redact, AGENT).map((c) => c.callId)).toEqual([id('run_shell_command', 2)]);
    expect(pairTranscriptCalls(chat, state, redact, 'another-conversation').map((c) => c.callId)).toEqual(chat.map((c) => c.callId));
  });

  it('a reconcile identifies each paired call with its chat id once; the next pairs it by that id, whatever the inputs', () => {
    const state = hooks(before('one'), after('one', 'Output: one'));
    const [paired] = pairTranscriptCalls([chatCall('run_shell_command__call_1', 'one')], state, redact, AGENT);
    expect(paired).toMatchObject({ callId: id('run_shell_command', 1), agentCallId: 'run_shell_command__call_1' });
    const identified = decideAll(state, [{ type: 'IdentifyToolCall', data: { callId: paired.callId, agentCallId: paired.agentCallId!, at: T(9) } }]);
    expect(identified).toEqual([{ type: 'ToolCallIdentified', data: { callId: id('run_shell_command', 1), agentCallId: 'run_shell_command__call_1', at: T(9) } }]);
    const after_ = identified.reduce(sessionDecider.evolve, state as SessionState) as Session;
    expect(after_.toolCalls.get(id('run_shell_command', 1))).toMatchObject({ status: 'completed', agentCallId: 'run_shell_command__call_1' });
    expect(decideAll(after_, [{ type: 'IdentifyToolCall', data: { callId: paired.callId, agentCallId: paired.agentCallId!, at: T(9) } }])).toEqual([]);
    expect(pairTranscriptCalls([chatCall('run_shell_command__call_1', 'edited')], after_, redact, AGENT)).toEqual([
      expect.objectContaining({ callId: id('run_shell_command', 1), agentCallId: 'run_shell_command__call_1' }),
    ]);
  });

  it('a call lost with its killed Gemini is never paired: the resumed Gemini ran the same command again, and that call is the chat file\'s', () => {
    const killed = hooks(before('sleep 1'));
    const lost = decideAll(killed, [
      { type: 'RecordDivergence', data: { callId: id('run_shell_command', 1), kind: 'call_only_in_log', detail: 'run_shell_command: in the log, not in the agent\'s transcript', at: T(5) } },
      { type: 'InterruptToolCall', data: { callId: id('run_shell_command', 1), reason: 'session interrupted: runtime gone', at: T(5) } },
    ]).reduce(sessionDecider.evolve, killed as SessionState) as Session;
    expect(lost.toolCalls.get(id('run_shell_command', 1))).toMatchObject({ status: 'interrupted' });
    const resumed = hooksFrom(lost as SessionState, before('sleep 1'), after('sleep 1', 'Output: ok'));
    expect(resumed.toolCalls.get(id('run_shell_command', 2))).toMatchObject({ status: 'completed' });
    expect(pairTranscriptCalls([chatCall('run_shell_command__call_9', 'sleep 1')], resumed, redact, AGENT).map((c) => c.callId)).toEqual([id('run_shell_command', 2)]);
    // Interrupted but never reported missing from the chat file (a reconcile that found it there): still a candidate.
    const interruptedOnly = decideAll(killed, [{ type: 'InterruptToolCall', data: { callId: id('run_shell_command', 1), reason: 'cut', at: T(5) } }])
      .reduce(sessionDecider.evolve, killed as SessionState) as Session;
    expect(pairTranscriptCalls([chatCall('c1', 'sleep 1')], interruptedOnly, redact, AGENT).map((c) => c.callId)).toEqual([id('run_shell_command', 1)]);
  });

  it("answers an allow with nothing to say and a deny in Gemini's words", () => {
    expect(geminiHookAnswer({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow' } })).toEqual({});
    expect(geminiHookAnswer({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: 'stale' } })).toEqual({ decision: 'deny', reason: 'stale' });
  });
});
