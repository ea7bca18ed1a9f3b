import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completedItemResult, ROLLOUT_TAIL_BYTES, rolloutToolResult } from './rollout-results';

const EXCERPT = join(__dirname, 'testdata', 'exec-failing.excerpt.jsonl');

describe('a Codex call\'s result from its rollout (the PostToolUse hook path)', () => {
  it('reads the failing exec of a real rollout: exit code 3 is failed, with the code', async () => {
    expect(await rolloutToolResult(EXCERPT, 'call_abc1')).toEqual({ status: 'failed', output: '', exitCode: 3, error: 'exit code 3' });
    expect(await rolloutToolResult(EXCERPT, 'call_unknown')).toBeUndefined();
    expect(await rolloutToolResult(join(tmpdir(), 'no-such-rollout.jsonl'), 'call_abc1')).toBeUndefined();
  });

  it('maps each item kind as the rollout parser does: exec by exit code, MCP by isError, any by its failed status; other items are no result', () => {
    expect(completedItemResult({ type: 'CommandExecution', exit_code: 0, aggregated_output: 'hi\n' })).toEqual({ status: 'completed', output: 'hi\n', exitCode: 0 });
    expect(completedItemResult({ type: 'CommandExecution', status: 'failed', exit_code: null })).toEqual({ status: 'failed', error: 'CommandExecution failed' });
    expect(completedItemResult({ type: 'FileChange', status: 'completed', changes: [{ path: 'a' }] })).toEqual({ status: 'completed' });
    expect(completedItemResult({ type: 'McpToolCall', status: 'completed', result: { isError: true, content: [] } })).toMatchObject({ status: 'failed', output: { isError: true, content: [] } });
    expect(completedItemResult({ type: 'AgentMessage' })).toBeNull();
    expect(completedItemResult('not an item')).toBeNull();
  });

  it('looks only at the tail (the cost does not grow with the rollout), skipping a half-written last line', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rl-rollout-')), 'rollout.jsonl');
    const early = readFileSync(EXCERPT, 'utf8');
    writeFileSync(file, early);
    appendFileSync(file, `${JSON.stringify({ type: 'event_msg', payload: { type: 'token_count', pad: 'x'.repeat(ROLLOUT_TAIL_BYTES) } })}\n`);
    appendFileSync(file, '{"type":"event_msg","payload":{"type":"item_completed","item":{"type":"CommandExecution","id":"call_late"');
    expect(await rolloutToolResult(file, 'call_abc1')).toBeUndefined(); // beyond the tail
    appendFileSync(file, ',"exit_code":0,"aggregated_output":"ok"}}}\n');
    expect(await rolloutToolResult(file, 'call_late')).toEqual({ status: 'completed', output: 'ok', exitCode: 0 });
  });
});
