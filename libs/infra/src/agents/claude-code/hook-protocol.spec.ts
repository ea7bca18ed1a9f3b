import { activityAfter, HookInputError, hookEventOf, KNOWN_HOOK_EVENTS, parseHookInput, preToolUseDecision } from './hook-protocol';

const common = { session_id: 's-1', transcript_path: '/t.jsonl', cwd: '/w' };
const refusal = (value: unknown): unknown => {
  try {
    parseHookInput(value);
  } catch (error) {
    return (error as HookInputError).problem;
  }
  return 'accepted';
};

describe('the Claude Code hook protocol model', () => {
  it('knows the 33 events of Claude Code 2.1.328 (its compiled union of hook inputs)', () => {
    expect(KNOWN_HOOK_EVENTS).toHaveLength(33);
    expect(new Set(KNOWN_HOOK_EVENTS).size).toBe(33);
  });

  it('accepts every known event with its fields, and an unknown event as it is', () => {
    expect(parseHookInput({ ...common, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'toolu_1' })).toMatchObject({ known: true });
    expect(parseHookInput({ ...common, hook_event_name: 'Notification', message: 'waiting', notification_type: 'idle_prompt' })).toMatchObject({ known: true });
    const future = { ...common, hook_event_name: 'SomethingNew', whatever: [1, 2] };
    expect(parseHookInput(future)).toEqual({ known: false, input: future });
  });

  it('refuses a broken input naming the field', () => {
    expect(refusal([])).toEqual({ field: 'body', message: 'the hook input must be a JSON object' });
    expect(refusal({ ...common })).toMatchObject({ field: 'hook_event_name' });
    expect(refusal({ hook_event_name: 'Stop' })).toMatchObject({ field: 'session_id' });
    expect(refusal({ ...common, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: {} })).toMatchObject({ field: 'tool_use_id', message: 'tool_use_id is required for PreToolUse' });
    expect(refusal({ ...common, hook_event_name: 'SubagentStart', agent_id: 7 })).toMatchObject({ field: 'agent_id' });
    expect(refusal({ ...common, hook_event_name: 'PostToolBatch', tool_calls: 'x' })).toMatchObject({ field: 'tool_calls', message: 'tool_calls must be an array for PostToolBatch' });
  });

  it('reads the event name of raw text without throwing', () => {
    expect(hookEventOf('{"hook_event_name":"Stop"}')).toBe('Stop');
    expect(hookEventOf('not json')).toBeUndefined();
    expect(hookEventOf('null')).toBeUndefined();
  });

  it('derives the activity: working, waiting for input, idle', () => {
    const at = (hook_event_name: string, extra = {}) => activityAfter({ ...common, hook_event_name, ...extra });
    expect(at('PreToolUse')).toBe('working');
    expect(at('PermissionRequest')).toBe('waiting_input');
    expect(at('Notification', { notification_type: 'idle_prompt' })).toBe('waiting_input');
    expect(at('Notification', { notification_type: 'auth_success' })).toBeUndefined();
    expect(at('Stop')).toBe('idle');
    expect(at('StopFailure')).toBe('idle');
    expect(at('SomethingNew')).toBeUndefined();
  });

  it('builds the PreToolUse decision JSON', () => {
    expect(preToolUseDecision('allow')).toEqual({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow' } });
    expect(preToolUseDecision('deny', 'no')).toEqual({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: 'no' } });
  });
});
