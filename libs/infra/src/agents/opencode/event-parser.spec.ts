import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpencodeEventRow, parseOpencodeEvents } from './event-parser';

/** The real record of a five-call run (testdata/README.md). */
const rows = (): OpencodeEventRow[] => JSON.parse(readFileSync(join(__dirname, 'testdata', 'five-calls.events.json'), 'utf8'));
const SESSION = 'ses_dafd20b97ffeEEaXbZ39aVxthE';

describe('OpenCode event table parser (docs/ARCHITECTURE.md §4d)', () => {
  it('reads the calls with OpenCode ids in seq order, a bash exiting 3 as failed with its exit code', () => {
    const parsed = parseOpencodeEvents(rows(), SESSION);
    expect(parsed).toMatchObject({ agentSessionId: SESSION, cwd: '/tmp/oc/ws', lineCount: 73, skippedLines: [] });
    expect(parsed.toolCalls.map((c) => [c.tool, c.result?.status, c.result?.exitCode])).toEqual([
      ['bash', 'completed', 0], ['bash', 'failed', 3], ['write', 'completed', undefined], ['edit', 'completed', undefined], ['read', 'completed', undefined],
    ]);
    expect(parsed.toolCalls[1]).toMatchObject({ callId: 'call_5th2asnhhae', input: { command: 'exit 3', description: 'y' }, result: { output: '(no output)', exitCode: 3 } });
    expect(new Set(parsed.toolCalls.map((c) => c.runId))).toEqual(new Set([parsed.runs[0].runId]));
  });

  it('reads the run: its prompt, and its end once the answer finished with `stop`', () => {
    const [run, ...more] = parseOpencodeEvents(rows(), SESSION).runs;
    expect(more).toEqual([]);
    expect(run).toMatchObject({ runId: 'msg_2502df4c3001ejIwey3AgkTrLE', prompt: '"do things"', endedAt: new Date(1796641527866).toISOString() });
  });

  it('reads usage per model call from the step-finish parts', () => {
    const usage = parseOpencodeEvents(rows(), SESSION).usage!;
    expect(usage).toHaveLength(6);
    expect(usage[0]).toMatchObject({ model: 'standin/m1', inputTokens: 100, outputTokens: 20, cacheReadTokens: 0, cacheCreationTokens: 0, complete: true });
  });

  it('a record cut mid-call: the call has no result and the run has not ended', () => {
    const all = rows();
    const cut = all.slice(0, all.findIndex((r) => r.seq === 24)); // the `exit 3` call is `running`
    const parsed = parseOpencodeEvents(cut, SESSION);
    expect(parsed.toolCalls.at(-1)).toMatchObject({ callId: 'call_5th2asnhhae', input: { command: 'exit 3' }, result: null });
    expect(parsed.runs[0].endedAt).toBeNull();
  });

  it('an error state is failed with its text; rows of other sessions and unreadable rows are left out', () => {
    const error = { seq: 0, aggregate_id: 'ses_a', type: 'message.part.updated.1', data: JSON.stringify({ part: { messageID: 'm', type: 'tool', tool: 'bash', callID: 'c1', state: { status: 'error', input: { command: 'x' }, error: 'blocked by plugin' } } }) };
    const other = { ...error, aggregate_id: 'ses_b', data: JSON.stringify({ part: { messageID: 'm', type: 'tool', tool: 'read', callID: 'c2', state: { status: 'running', input: {} } } }) };
    const broken = { seq: 1, aggregate_id: 'ses_a', type: 'message.part.updated.1', data: '{not json' };
    const parsed = parseOpencodeEvents([error, other, broken], 'ses_a');
    expect(parsed.toolCalls).toEqual([expect.objectContaining({ callId: 'c1', result: expect.objectContaining({ status: 'failed', output: 'blocked by plugin' }) })]);
    expect(parsed.skippedLines).toEqual([{ line: 1, reason: 'invalid_json' }]);
  });
});
