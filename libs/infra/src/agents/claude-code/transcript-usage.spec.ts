import * as path from 'node:path';
import { parseRolloutFile } from '../codex/rollout-parser';
import { parseTranscript, parseTranscriptFile } from './transcript-parser';

/** The real transcripts of test/fixtures (see their README and NOTICE). */
const FIXTURES = path.resolve(__dirname, '../../../../../test/fixtures');
const sum = (calls: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number }[]) =>
  calls.reduce((s, c) => [s[0] + c.inputTokens, s[1] + c.outputTokens, s[2] + c.cacheReadTokens, s[3] + c.cacheCreationTokens], [0, 0, 0, 0]);

const line = (o: Record<string, unknown>): string => JSON.stringify({ sessionId: 's', cwd: '/w', timestamp: '2025-01-01T00:00:00.000Z', ...o });
const assistant = (id: string, output: number, content: unknown[] = [{ type: 'text', text: 'x' }], model = 'claude-sonnet-4-5') =>
  line({ type: 'assistant', uuid: `${id}-${output}`, message: { id, model, role: 'assistant', content, usage: { input_tokens: 3, output_tokens: output, cache_read_input_tokens: 5, cache_creation_input_tokens: 7 } } });

describe('usage from a Claude Code transcript (docs/ARCHITECTURE.md §4g)', () => {
  it('one model call per message id, the figures of its last line (Claude Code writes a message over several lines)', () => {
    const parsed = parseTranscript([
      line({ type: 'user', uuid: 'p1', message: { role: 'user', content: 'go' } }),
      assistant('msg_a', 1, [{ type: 'thinking', thinking: '…' }]),
      line({ type: 'progress', data: {} }),
      assistant('msg_a', 42, [{ type: 'tool_use', id: 'tu1', name: 'Bash', input: { command: 'ls' } }]),
      line({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: 'ok' }] } }),
      assistant('msg_b', 9),
    ].join('\n'));
    expect(parsed.usage).toEqual([
      { key: 'msg_a', model: 'claude-sonnet-4-5', runId: 'p1', inputTokens: 3, outputTokens: 42, cacheReadTokens: 5, cacheCreationTokens: 7, at: '2025-01-01T00:00:00.000Z', complete: true },
      // The transcript's last message may still grow: complete only once something else follows it.
      expect.objectContaining({ key: 'msg_b', outputTokens: 9, complete: false }),
    ]);
  });

  it('leaves out the synthetic lines of an API error (no model call was made)', () => {
    const parsed = parseTranscript([line({ type: 'user', uuid: 'p1', message: { role: 'user', content: 'go' } }), assistant('e1', 0, [{ type: 'text', text: 'API Error' }], '<synthetic>')].join('\n'));
    expect(parsed.usage).toEqual([]);
  });

  it('the real transcript: 152 model calls, token sums equal to the last line of each message', async () => {
    const parsed = await parseTranscriptFile(path.join(FIXTURES, 'claude-code/258c7280-ae70-4798-800f-63464d01a85d.jsonl'));
    expect(parsed.usage).toHaveLength(152);
    expect(sum(parsed.usage!)).toEqual([180, 38899, 14771617, 349474]);
    expect(parsed.usage!.every((u) => u.model === 'claude-opus-4-6' && u.complete)).toBe(true);
    const sub = await parseTranscriptFile(path.join(FIXTURES, 'claude-code/258c7280-ae70-4798-800f-63464d01a85d/subagents/agent-a881341.jsonl'));
    expect(sum(sub.usage!)).toEqual([15, 3, 34159, 42176]);
  });
});

describe('usage from a Codex rollout (token_usage_record)', () => {
  it('one model call per response_id, the cached part of the input counted as cache read, the model from turn_context', async () => {
    const parsed = await parseRolloutFile(path.join(FIXTURES, 'codex/session-tools.rollout.jsonl'));
    expect(parsed.usage).toHaveLength(6);
    expect(sum(parsed.usage!)).toEqual([600, 60, 0, 0]);
    expect(parsed.usage![0]).toMatchObject({ key: expect.stringMatching(/^resp_/), model: 'gpt-5.5', runId: parsed.runs[0].runId, complete: true });
  });

  it('a resumed thread: each turn keeps its own calls (token_count totals restart on resume; response ids do not repeat)', async () => {
    const parsed = await parseRolloutFile(path.join(FIXTURES, 'codex/resumed.rollout.jsonl'));
    expect(parsed.usage!.map((u) => u.runId)).toEqual(parsed.runs.map((r) => r.runId));
    expect(new Set(parsed.usage!.map((u) => u.key)).size).toBe(2);
  });
});
