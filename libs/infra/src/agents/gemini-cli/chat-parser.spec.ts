import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { geminiCallOutcome, parseGeminiChat, shellExitCode } from './chat-parser';

const fixture = readFileSync(join(__dirname, 'testdata', 'chat-five-calls.jsonl'), 'utf8');

describe('Gemini CLI chat file parser (0.61.0)', () => {
  it('reads the calls of a real chat file once each, with their ids, inputs and how they ended', () => {
    const parsed = parseGeminiChat(fixture);
    expect(parsed.agentSessionId).toBe('55623aaa-04b5-454b-aead-66b619036353');
    expect(parsed.skippedLines).toEqual([]);
    expect(parsed.toolCalls.map((c) => [c.callId, c.tool, c.result?.status, c.result?.exitCode])).toEqual([
      ['run_shell_command__call_fa3bccbdfabdeb90311d', 'run_shell_command', 'failed', 3],
      ['write_file__call_09909cf3df80dab2168c', 'write_file', 'completed', undefined],
      ['run_shell_command__call_4d0500ccf49322009b88', 'run_shell_command', 'completed', undefined],
      ['replace__call_013385d8d6aff3a6ec1e', 'replace', 'completed', undefined],
      ['read_file__call_ceb3b63528a02618e1c3', 'read_file', 'completed', undefined],
    ]);
    expect(parsed.toolCalls[0]).toMatchObject({ input: { command: 'echo hi; exit 3' }, result: { output: expect.stringContaining('Exit Code: 3') } });
    expect(parsed.toolCalls[4].result?.output).toBe('ONE\n');
  });

  it('one run for the prompt (not the session context), ended by the final answer; usage once per model message', () => {
    const parsed = parseGeminiChat(fixture);
    expect(parsed.runs).toEqual([expect.objectContaining({ prompt: 'do it [script:exp]', endedAt: '2026-12-07T11:05:27.272Z' })]);
    expect(parsed.toolCalls.every((c) => c.runId === parsed.runs[0].runId)).toBe(true);
    expect(parsed.usage).toHaveLength(5);
    expect(parsed.usage?.[0]).toMatchObject({ model: 'gemini-3.8-flash', inputTokens: 120, outputTokens: 30, cacheReadTokens: 0, complete: true });
  });

  it('a turn cut short (its gemini record written before its calls completed) has no call and an open run', () => {
    const lines = fixture.split('\n').slice(0, 6).join('\n'); // header, context, prompt, the first gemini record without toolCalls
    const parsed = parseGeminiChat(`${lines}\n`);
    expect(parsed.toolCalls).toEqual([]);
    expect(parsed.runs).toEqual([expect.objectContaining({ endedAt: null })]);
  });

  it('skips a line that is not JSON, or not a record it knows, naming it; never throws', () => {
    const parsed = parseGeminiChat(`${fixture}not json\n[1]\n{"foo":1}\n`);
    const total = fixture.split('\n').length - 1;
    expect(parsed.skippedLines).toEqual([{ line: total + 1, reason: 'invalid_json' }, { line: total + 2, reason: 'unknown_shape' }, { line: total + 3, reason: 'unknown_shape' }]);
    expect(parsed.toolCalls).toHaveLength(5);
  });

  it('a shell call is failed with the exit code its output names; an error or cancelled call is failed; other tools by status', () => {
    expect(shellExitCode('Output: x\nExit Code: 127\n')).toBe(127);
    expect(shellExitCode('Output: x')).toBeUndefined();
    expect(geminiCallOutcome('run_shell_command', 'success', 'Exit Code: 2')).toEqual({ status: 'failed', exitCode: 2 });
    expect(geminiCallOutcome('run_shell_command', 'success', 'Exit Code: 0')).toEqual({ status: 'completed', exitCode: 0 });
    expect(geminiCallOutcome('write_file', 'success', 'Exit Code: 2')).toEqual({ status: 'completed' });
    expect(geminiCallOutcome('write_file', 'error', 'denied')).toEqual({ status: 'failed' });
    expect(geminiCallOutcome('read_file', 'cancelled', null)).toEqual({ status: 'failed' });
  });
});
