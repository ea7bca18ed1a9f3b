import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { codexToolName, parseRollout, parseRolloutFile } from './rollout-parser';

/** The real Codex fixtures (test/fixtures/codex, codex-cli 0.171.0; see its NOTICE). */
const FIXTURES = path.resolve(__dirname, '../../../../../test/fixtures/codex');
const fixture = (name: string): string => path.join(FIXTURES, name);
const text = (name: string): string => readFileSync(fixture(name), 'utf8');
/** The recorded hook payloads of a fixture run, in order. */
const hooks = (name: string): Array<Record<string, any>> => text(`hooks/${name}`).trim().split('\n').map((l) => JSON.parse(l));

describe('parseRolloutFile on the real Codex fixtures', () => {
  it('session-tools: thread id, cwd, one completed run, four calls equal to the hooks call for call', async () => {
    const parsed = await parseRolloutFile(fixture('session-tools.rollout.jsonl'));
    const recorded = hooks('session-tools.hooks.jsonl');
    const start = recorded.find((h) => h.hook_event_name === 'SessionStart')!;
    expect(parsed.agentSessionId).toBe(start.session_id);
    expect(parsed.cwd).toBe(start.cwd);
    expect(parsed.lineCount).toBe(38);
    expect(parsed.skippedLines).toEqual([]);
    expect(parsed.transcriptPath).toBe(fixture('session-tools.rollout.jsonl'));

    const prompt = recorded.find((h) => h.hook_event_name === 'UserPromptSubmit')!;
    expect(parsed.runs).toHaveLength(1);
    expect(parsed.runs[0]).toMatchObject({ runId: prompt.turn_id, prompt: prompt.prompt, line: 2 });
    expect(parsed.runs[0].endedAt).not.toBeNull();

    const pre = recorded.filter((h) => h.hook_event_name === 'PreToolUse');
    const post = recorded.filter((h) => h.hook_event_name === 'PostToolUse');
    expect(parsed.toolCalls.map((c) => ({ callId: c.callId, tool: c.tool, input: c.input, runId: c.runId }))).toEqual(
      pre.map((h) => ({ callId: h.tool_use_id, tool: h.tool_name, input: h.tool_input, runId: h.turn_id })),
    );
    expect(parsed.toolCalls.map((c) => c.tool)).toEqual(['Bash', 'Bash', 'apply_patch', 'mcp__echo__echo']);
    expect(parsed.toolCalls.map((c) => c.result?.output)).toEqual(post.map((h) => h.tool_response));
    expect(parsed.toolCalls.map((c) => c.result?.status)).toEqual(['completed', 'failed', 'completed', 'completed']);
    expect(parsed.toolCalls[1].result?.structured).toMatchObject({ type: 'CommandExecution', exit_code: 3 });
  });

  it('killed mid-exec: the run never ended and the call has no result', async () => {
    const parsed = await parseRolloutFile(fixture('killed-mid-exec.rollout.jsonl'));
    const [pre] = hooks('killed-and-resumed.hooks.jsonl').filter((h) => h.hook_event_name === 'PreToolUse');
    expect(parsed.runs).toHaveLength(1);
    expect(parsed.runs[0].endedAt).toBeNull();
    expect(parsed.toolCalls).toEqual([
      expect.objectContaining({ callId: pre.tool_use_id, tool: 'Bash', input: pre.tool_input, runId: pre.turn_id, result: null }),
    ]);
  });

  it('resumed: the same file goes on with a second run that completes; the killed call stays without a result', async () => {
    const killed = await parseRolloutFile(fixture('killed-mid-exec.rollout.jsonl'));
    const parsed = await parseRolloutFile(fixture('resumed.rollout.jsonl'));
    const prompts = hooks('killed-and-resumed.hooks.jsonl').filter((h) => h.hook_event_name === 'UserPromptSubmit');
    expect(parsed.agentSessionId).toBe(killed.agentSessionId);
    expect(parsed.runs.map((r) => [r.runId, r.prompt])).toEqual(prompts.map((h) => [h.turn_id, h.prompt]));
    expect(parsed.runs[0].endedAt).toBeNull();
    expect(parsed.runs[1].endedAt).not.toBeNull();
    expect(parsed.toolCalls.map((c) => [c.callId, c.result])).toEqual([[killed.toolCalls[0].callId, null]]);
  });

  it('denied by a PreToolUse hook: both calls failed with the block message, no PostToolUse', async () => {
    const parsed = await parseRolloutFile(fixture('denied-by-hook.rollout.jsonl'));
    const pre = hooks('denied-by-hook.hooks.jsonl');
    expect(parsed.toolCalls.map((c) => [c.callId, c.tool])).toEqual(pre.map((h) => [h.tool_use_id, h.tool_name]));
    for (const call of parsed.toolCalls) {
      expect(call.result?.status).toBe('failed');
      expect(call.result?.output).toMatch(/^Command blocked by PreToolUse hook: denied by exit 2\. Command: /);
    }
  });
});

describe('parseRollout', () => {
  it('skips lines it cannot read, counts every line, and never throws', () => {
    const good = text('session-tools.rollout.jsonl').trim().split('\n');
    const input = [good[0], '{not json', '', '{"type":"mystery","payload":{}}', '[1,2]', '{"type":"event_msg"}', ...good.slice(1)].join('\n');
    const parsed = parseRollout(input);
    expect(parsed.skippedLines).toEqual([
      { line: 2, reason: 'invalid_json' },
      { line: 4, reason: 'unknown_shape' },
      { line: 5, reason: 'unknown_shape' },
      { line: 6, reason: 'unknown_shape' },
    ]);
    expect(parsed.lineCount).toBe(good.length + 5);
    expect(parsed.toolCalls).toHaveLength(4);
  });

  it('an empty input has no runs, no calls, no lines', () => {
    expect(parseRollout('')).toEqual({ agentSessionId: null, cwd: null, runs: [], toolCalls: [], skippedLines: [], lineCount: 0, usage: [] });
  });

  it('a completed item whose output line is missing still gives the result', () => {
    const lines = text('session-tools.rollout.jsonl').trim().split('\n');
    const withoutFirstOutput = lines.filter((l) => !(l.includes('"function_call_output"') && l === lines.find((x) => x.includes('"function_call_output"'))));
    const parsed = parseRollout(withoutFirstOutput.join('\n'));
    expect(parsed.toolCalls[0].result).toMatchObject({ status: 'completed', output: 'hello\n', line: 12 });
  });

  it('names tools as the hooks do', () => {
    expect(codexToolName('exec_command')).toBe('Bash');
    expect(codexToolName('apply_patch')).toBe('apply_patch');
    expect(codexToolName('echo', 'mcp__echo')).toBe('mcp__echo__echo');
    expect(codexToolName('view_image')).toBe('view_image');
  });
});

describe('parseRolloutFile on a yielded exec', () => {
  it('takes the result of an exec that yielded from its later item, and leaves out the write_stdin polls (no hook sees them)', async () => {
    const parsed = await parseRolloutFile(fixture('yielded-exec.rollout.jsonl'));
    const recorded = hooks('yielded-exec.hooks.jsonl');
    const pre = recorded.filter((h) => h.hook_event_name === 'PreToolUse');
    const post = recorded.filter((h) => h.hook_event_name === 'PostToolUse');
    expect(parsed.toolCalls.map((c) => [c.callId, c.tool, c.input])).toEqual(pre.map((h) => [h.tool_use_id, h.tool_name, h.tool_input]));
    expect(parsed.toolCalls.map((c) => [c.callId, c.result?.status, c.result?.output])).toEqual(post.map((h) => [h.tool_use_id, 'completed', h.tool_response]));
    expect(parsed.toolCalls[1].result?.output).toBe('late\n');
    expect(parsed.toolCalls[1].result?.line).toBe(21); // the CommandExecution item (ordinal 20), after the write_stdin call
  });

  it('a yielded exec whose command never ended has no result', async () => {
    const lines = text('yielded-exec.rollout.jsonl').trim().split('\n').slice(0, 19);
    const parsed = parseRollout(lines.join('\n'));
    expect(parsed.toolCalls.map((c) => c.result === null)).toEqual([false, true]);
  });
});

describe('parseRolloutFile on a patch that does not apply', () => {
  it('is a failed call (an output and no FileChange item), with the id and input its PreToolUse had', async () => {
    const parsed = await parseRolloutFile(fixture('failed-patch.rollout.jsonl'));
    const [pre] = hooks('failed-patch.hooks.jsonl');
    expect(parsed.toolCalls).toEqual([expect.objectContaining({ callId: pre.tool_use_id, tool: 'apply_patch', input: pre.tool_input })]);
    expect(parsed.toolCalls[0].result).toMatchObject({ status: 'failed', output: expect.stringMatching(/^apply_patch verification failed: /) });
  });
});

describe('parseRolloutFile on an MCP tool error', () => {
  it('is a failed call whose output is the MCP result', async () => {
    const parsed = await parseRolloutFile(fixture('mcp-tool-error.rollout.jsonl'));
    const [pre] = hooks('mcp-tool-error.hooks.jsonl');
    expect(parsed.toolCalls.map((c) => [c.callId, c.tool, c.input])).toEqual([[pre.tool_use_id, 'mcp__echo__fail', { text: 'it broke' }]]);
    expect(parsed.toolCalls[0].result).toMatchObject({ status: 'failed', output: { content: [{ type: 'text', text: 'it broke' }], isError: true } });
  });
});
