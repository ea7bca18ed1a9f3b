import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHookInput } from '../claude-code/hook-protocol';
import { mapOpencodeHook, OpencodeHookError } from './hook-mapping';

/** What the real plugin hooks received in a five-call run (testdata/README.md), as the runledger plugin posts it. */
const received = (): Array<Record<string, unknown>> =>
  readFileSync(join(__dirname, 'testdata', 'plugin-hooks.jsonl'), 'utf8').trim().split('\n').map((line) => {
    const hook = JSON.parse(line);
    const common = { directory: '/tmp/oc/ws', databasePath: '/x/opencode/opencode.db' };
    if (hook.before) return { event: 'tool.execute.before', sessionID: hook.before.sessionID, callID: hook.before.callID, tool: hook.before.tool, args: hook.output.args, ...common };
    return { event: 'tool.execute.after', sessionID: hook.after.sessionID, callID: hook.after.callID, tool: hook.after.tool, args: hook.after.args, title: hook.output.title, output: hook.output.output, metadata: hook.output.metadata, ...common };
  });

describe('OpenCode plugin payload → the shared hook input (docs/ARCHITECTURE.md §4d)', () => {
  it('maps tool.execute.before to a PreToolUse Claude Code\'s protocol accepts, keyed by callID', () => {
    const before = mapOpencodeHook(received()[0]);
    expect(before.toolResult).toBeUndefined();
    expect(parseHookInput(before.input)).toMatchObject({
      known: true,
      input: { hook_event_name: 'PreToolUse', session_id: 'ses_dafd20b97ffeEEaXbZ39aVxthE', tool_use_id: 'call_4ho477tg7n', tool_name: 'bash', tool_input: { command: 'echo hi > a.txt; cat a.txt' }, cwd: '/tmp/oc/ws', transcript_path: '/x/opencode/opencode.db' },
    });
  });

  it('maps tool.execute.after to a PostToolUse whose result is failed with the exit code when bash exits non-zero', () => {
    const results = received().filter((h) => h.event === 'tool.execute.after').map((h) => mapOpencodeHook(h));
    expect(results.map((r) => [r.input.tool_name, r.toolResult?.status, r.toolResult?.exitCode])).toEqual([
      ['bash', 'completed', 0], ['bash', 'failed', 3], ['write', 'completed', undefined], ['edit', 'completed', undefined], ['read', 'completed', undefined],
    ]);
    expect(results[1].toolResult).toMatchObject({ error: 'exit code 3', output: '(no output)' });
    expect(parseHookInput(results[1].input).known).toBe(true);
  });

  it('maps the prompt, the idle session and an error; keeps any other event under its own name', () => {
    expect(mapOpencodeHook({ event: 'chat.message', sessionID: 's', messageID: 'msg_1', text: 'hi' }).input).toMatchObject({ hook_event_name: 'UserPromptSubmit', prompt: 'hi', prompt_id: 'msg_1' });
    expect(mapOpencodeHook({ event: 'session.idle', sessionID: 's' }).input).toMatchObject({ hook_event_name: 'Stop' });
    expect(mapOpencodeHook({ event: 'session.error', sessionID: 's', error: 'APIError: boom' }).input).toMatchObject({ hook_event_name: 'StopFailure', error: 'APIError: boom' });
    expect(mapOpencodeHook({ event: 'file.edited', sessionID: 's', properties: { file: 'a' } }).input).toMatchObject({ hook_event_name: 'opencode.file.edited', detail: { file: 'a' } });
  });

  it('refuses a payload without event, sessionID or callID, naming the field', () => {
    const field = (body: unknown) => {
      try {
        mapOpencodeHook(body);
      } catch (error) {
        return (error as OpencodeHookError).field;
      }
      return 'accepted';
    };
    expect(field([])).toBe('body');
    expect(field({ sessionID: 's' })).toBe('event');
    expect(field({ event: 'session.idle' })).toBe('sessionID');
    expect(field({ event: 'tool.execute.before', sessionID: 's', tool: 'bash' })).toBe('callID');
  });
});
