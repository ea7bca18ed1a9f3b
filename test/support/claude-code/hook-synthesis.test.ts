import { parseTranscript, parseTranscriptFile } from '@runledger/infra/agents/claude-code/transcript-parser';
import { FIXTURE_TABLE as TABLE, fixture } from './fixtures';
import { ClaudeCodeHookInput, hookCallsFromTranscript } from './hook-synthesis';

describe('hookCallsFromTranscript', () => {
  it.each(TABLE)('$file replays as SessionStart, prompts, Pre/Post per call, Stop per run, SessionEnd', async (row) => {
    const parsed = await parseTranscriptFile(fixture(row.file));
    const hooks = hookCallsFromTranscript(parsed);
    const byName = (n: ClaudeCodeHookInput['hook_event_name']) => hooks.filter((h) => h.hook_event_name === n);
    expect(hooks[0]).toEqual({
      session_id: parsed.agentSessionId,
      transcript_path: fixture(row.file),
      cwd: parsed.cwd,
      hook_event_name: 'SessionStart',
      source: 'startup',
    });
    expect(hooks[hooks.length - 1].hook_event_name).toBe('SessionEnd');
    expect(byName('SessionStart')).toHaveLength(1);
    expect(byName('SessionEnd')).toHaveLength(1);
    expect(byName('UserPromptSubmit')).toHaveLength(parsed.runs.length);
    expect(byName('Stop')).toHaveLength(parsed.runs.length);
    expect(byName('PreToolUse')).toHaveLength(row.toolUses);
    expect(byName('PostToolUse')).toHaveLength(row.toolResults - row.errors);
    expect(byName('PostToolUseFailure')).toHaveLength(row.errors);
    for (const h of hooks) {
      expect(h.session_id).toBe(parsed.agentSessionId);
      expect(h.cwd).toBe(parsed.cwd);
      expect(h.transcript_path).toBe(fixture(row.file));
    }
    // Each call: Pre before its Post, inside its run (after its prompt, before that run's Stop).
    const index = new Map<string, number>();
    hooks.forEach((h, i) => {
      if (h.hook_event_name === 'PreToolUse') {
        expect(index.has(h.tool_use_id)).toBe(false);
        index.set(h.tool_use_id, i);
      }
      if (h.hook_event_name === 'PostToolUse' || h.hook_event_name === 'PostToolUseFailure') {
        expect(index.get(h.tool_use_id)).toBeLessThan(i);
      }
    });
    const prompts = hooks.flatMap((h, i) => (h.hook_event_name === 'UserPromptSubmit' ? [i] : []));
    const stops = hooks.flatMap((h, i) => (h.hook_event_name === 'Stop' ? [i] : []));
    prompts.forEach((p, k) => {
      expect(p).toBeLessThan(stops[k]);
      if (k + 1 < prompts.length) expect(stops[k]).toBeLessThan(prompts[k + 1]);
    });
    const pre = byName('PreToolUse')[0];
    const call = parsed.toolCalls[0];
    expect(pre).toMatchObject({ tool_name: call.tool, tool_input: call.input, tool_use_id: call.callId });
  });

  it('PostToolUse carries the structured toolUseResult; PostToolUseFailure the error text', async () => {
    const parsed = await parseTranscriptFile(fixture('short.jsonl'));
    const failures = hookCallsFromTranscript(parsed).filter((h) => h.hook_event_name === 'PostToolUseFailure');
    expect(failures.map((f) => f.hook_event_name === 'PostToolUseFailure' && f.error)).toEqual([
      expect.stringContaining("The user doesn't want to proceed with this tool use"),
      expect.stringContaining("The user doesn't want to proceed with this tool use"),
    ]);
    const heavy = await parseTranscriptFile(fixture('tool_heavy.jsonl'));
    const post = hookCallsFromTranscript(heavy).find((h) => h.hook_event_name === 'PostToolUse');
    const call = heavy.toolCalls.find((c) => post && 'tool_use_id' in post && c.callId === post.tool_use_id)!;
    expect(post).toMatchObject({ tool_response: call.result!.structured });
    expect(call.result!.structured).toBeDefined();
  });

  it('uses opts.transcriptPath for an in-memory parse', () => {
    const hooks = hookCallsFromTranscript(parseTranscript(''), { transcriptPath: '/t.jsonl' });
    expect(hooks).toEqual([
      { session_id: '', transcript_path: '/t.jsonl', cwd: '', hook_event_name: 'SessionStart', source: 'startup' },
      { session_id: '', transcript_path: '/t.jsonl', cwd: '', hook_event_name: 'SessionEnd', reason: 'other' },
    ]);
  });
});
