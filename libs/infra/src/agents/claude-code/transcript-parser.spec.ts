import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FIXTURE_TABLE as TABLE, FIXTURES, fixture } from '../../../../../test/support/claude-code/fixtures';
import { findSubagentTranscripts } from './subagent-transcripts';
import { parseTranscript, parseTranscriptFile, transcriptToolResults } from './transcript-parser';

/** Independent scan with plain JSON.parse: every tool_use block's input and every tool_result block, by id. */
const scanBlocks = (file: string) => {
  const uses = new Map<string, { name: string; input: unknown }>();
  const results = new Map<string, { content: unknown; isError: boolean }>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line);
    const content = o.message?.content;
    if (!Array.isArray(content)) continue;
    for (const b of content) {
      if (o.type === 'assistant' && b.type === 'tool_use') uses.set(b.id, { name: b.name, input: b.input });
      if (o.type === 'user' && b.type === 'tool_result') results.set(b.tool_use_id, { content: b.content, isError: b.is_error === true });
    }
  }
  return { uses, results };
};

describe('parseTranscriptFile on the real fixtures', () => {
  describe.each(TABLE)('$file', (row) => {
    const file = fixture(row.file);

    it('finds exactly the README counts: lines, tool calls, matched results, failures', async () => {
      const parsed = await parseTranscriptFile(file);
      expect(parsed.lineCount).toBe(row.lines);
      expect(parsed.skippedLines).toEqual([]);
      expect(parsed.toolCalls).toHaveLength(row.toolUses);
      expect(new Set(parsed.toolCalls.map((c) => c.callId)).size).toBe(row.toolUses);
      expect(parsed.toolCalls.filter((c) => c.result !== null)).toHaveLength(row.toolResults);
      expect(parsed.toolCalls.filter((c) => c.result?.status === 'failed')).toHaveLength(row.errors);
      expect(parsed.agentSessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(parsed.cwd).toMatch(/^\/home\//);
      expect(parsed.transcriptPath).toBe(file);
    });

    it("gives every call the tool_use block's name and input, and the matching tool_result by tool_use_id", async () => {
      const parsed = await parseTranscriptFile(file);
      const { uses, results } = scanBlocks(file);
      expect(parsed.toolCalls.map((c) => c.callId).sort()).toEqual([...uses.keys()].sort());
      for (const call of parsed.toolCalls) {
        expect(call.tool).toBe(uses.get(call.callId)!.name);
        expect(call.input).toEqual(uses.get(call.callId)!.input);
        const expected = results.get(call.callId)!;
        expect(call.result!.output).toEqual(expected.content);
        expect(call.result!.status).toBe(expected.isError ? 'failed' : 'completed');
        expect(call.result!.at >= call.requestedAt).toBe(true);
        expect(call.runId).not.toBeNull();
      }
    });

    it('parseTranscript on the text gives the same result as the streaming parser', async () => {
      const { transcriptPath, ...streamed } = await parseTranscriptFile(file);
      expect(transcriptPath).toBe(file);
      expect(parseTranscript(readFileSync(file, 'utf8'))).toEqual(streamed);
    });

    it('transcriptToolResults returns every result by tool_use_id, equal to the parsed ones', async () => {
      const parsed = await parseTranscriptFile(file);
      const map = await transcriptToolResults(file);
      expect(map.size).toBe(row.toolResults);
      for (const call of parsed.toolCalls) expect(map.get(call.callId)).toEqual(call.result);
    });

    it('finds the sub-agent transcripts; their calls total the README count, all completed', async () => {
      const subagents = await findSubagentTranscripts(file);
      if (row.subagentCalls === null) {
        expect(subagents).toEqual([]);
        return;
      }
      expect(subagents.length).toBeGreaterThan(0);
      expect([...subagents].sort()).toEqual(subagents);
      let calls = 0;
      for (const sub of subagents) {
        expect(sub.startsWith(path.join(FIXTURES, row.file.replace(/\.jsonl$/, ''), 'subagents') + path.sep)).toBe(true);
        const parsed = await parseTranscriptFile(sub);
        expect(parsed.skippedLines).toEqual([]);
        const { uses } = scanBlocks(sub);
        expect(parsed.toolCalls).toHaveLength(uses.size);
        for (const call of parsed.toolCalls) {
          expect(call.input).toEqual(uses.get(call.callId)!.input);
          expect(call.result?.status).toBe('completed');
        }
        calls += parsed.toolCalls.length;
      }
      expect(calls).toBe(row.subagentCalls);
    });
  });
});

describe('runs', () => {
  it('short.jsonl: one prompt, ended by the user interruption', async () => {
    const parsed = await parseTranscriptFile(fixture('short.jsonl'));
    expect(parsed.runs).toEqual([
      {
        runId: '7d48cbd2-6615-4dd8-87f6-38f12b8167d6',
        prompt: 'mix phx.server doesnt seem to start',
        startedAt: '2026-02-10T21:11:56.846Z',
        endedAt: '2026-02-10T21:12:02.480Z',
        line: 4,
      },
    ]);
    expect(parsed.toolCalls.every((c) => c.runId === parsed.runs[0].runId)).toBe(true);
    expect(parsed.agentSessionId).toBe('55604662-cf2a-4331-851a-ec234028f8ca');
    expect(parsed.cwd).toBe('/home/marco/projects/spotter');
  });

  it('skips meta, slash-command, compaction-summary and task-notification lines', async () => {
    const prompts = async (f: string) => (await parseTranscriptFile(fixture(f))).runs.map((r) => r.prompt.slice(0, 40));
    expect(await prompts('tool_heavy.jsonl')).toEqual([
      'start phoenix in background',
      'scrolling back in xterm.js still does no',
    ]);
    expect(await prompts('258c7280-ae70-4798-800f-63464d01a85d.jsonl')).toEqual(['Implement spotter-gqc', 'did you push?']);
    expect(await prompts('ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl')).toEqual([
      'Work on bead spotter-4te. Run bd show sp',
      'continue implementation',
    ]);
    expect(await prompts('fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl')).toEqual([
      'Work on bead spotter-a0y. Run bd show sp',
      'continue until all are done',
    ]);
  });

  it('runs of the big fixtures end at their last Stop-hook summary or turn duration', async () => {
    const a = await parseTranscriptFile(fixture('258c7280-ae70-4798-800f-63464d01a85d.jsonl'));
    // line 1856: the Stop after the task-notification turn that follows run 1; line 1863: the last Stop.
    expect(a.runs.map((r) => r.endedAt)).toEqual(['2026-02-11T21:36:50.009Z', '2026-02-11T21:46:25.932Z']);
    const b = await parseTranscriptFile(fixture('ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl'));
    expect(b.runs.map((r) => r.endedAt)).toEqual(['2026-02-12T14:34:19.642Z', '2026-02-12T15:05:00.730Z']);
  });

  it('endedAt is null when the transcript stops mid-turn, and the last text answer otherwise', () => {
    const base = { sessionId: 's-1', cwd: '/w' };
    const user = (uuid: string, ts: string, content: unknown) => JSON.stringify({ ...base, type: 'user', uuid, timestamp: ts, message: { role: 'user', content } });
    const assistant = (ts: string, content: unknown[]) => JSON.stringify({ ...base, type: 'assistant', uuid: 'a' + ts, timestamp: ts, message: { role: 'assistant', content } });
    const midTurn = [user('u1', 't1', 'do it'), assistant('t2', [{ type: 'tool_use', id: 'x', name: 'Bash', input: { command: 'ls' } }])].join('\n');
    expect(parseTranscript(midTurn).runs[0].endedAt).toBeNull();
    expect(parseTranscript(midTurn).toolCalls[0].result).toBeNull();
    const answered = [user('u1', 't1', 'do it'), assistant('t2', [{ type: 'text', text: 'done' }])].join('\n');
    expect(parseTranscript(answered).runs[0].endedAt).toBe('t2');
    const twoPrompts = [midTurn, user('u2', 't3', [{ type: 'text', text: 'next' }])].join('\n');
    expect(parseTranscript(twoPrompts).runs.map((r) => [r.runId, r.prompt, r.endedAt])).toEqual([
      ['u1', 'do it', 't2'],
      ['u2', 'next', null],
    ]);
  });
});

describe('bad lines', () => {
  const good = (o: object) => JSON.stringify({ sessionId: 's-1', cwd: '/w', uuid: 'u', timestamp: '2026-01-01T00:00:00Z', ...o });
  const text = [
    good({ type: 'user', uuid: 'p1', message: { role: 'user', content: 'hello' } }),
    '{this is not json',
    good({ type: 'mystery', data: 1 }),
    good({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Read', input: { file_path: '/a' } }] } }),
    '',
    good({ type: 'user' }), // no message
    '[1,2,3]',
    good({ type: 'assistant', message: { content: [{ type: 'tool_use', name: 'Read' }] } }), // tool_use without id
    good({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'boom', is_error: true }] } }),
    'null',
  ].join('\n') + '\n';

  it('reports garbage and unknown-type lines in skippedLines without throwing, and parses the rest', () => {
    const parsed = parseTranscript(text);
    expect(parsed.lineCount).toBe(10);
    expect(parsed.skippedLines).toEqual([
      { line: 2, reason: 'invalid_json' },
      { line: 3, reason: 'unknown_shape' },
      { line: 6, reason: 'unknown_shape' },
      { line: 7, reason: 'unknown_shape' },
      { line: 8, reason: 'unknown_shape' },
      { line: 10, reason: 'unknown_shape' },
    ]);
    expect(parsed.runs.map((r) => r.runId)).toEqual(['p1']);
    expect(parsed.toolCalls).toHaveLength(1);
    expect(parsed.toolCalls[0]).toMatchObject({
      callId: 't1',
      runId: 'p1',
      tool: 'Read',
      input: { file_path: '/a' },
      result: { status: 'failed', output: 'boom', line: 9 },
    });
  });

  it('the streaming parser agrees on a file with bad lines', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rl-transcript-'));
    try {
      const file = path.join(dir, 'bad.jsonl');
      writeFileSync(file, text.replace(/\n/g, '\r\n'));
      const { transcriptPath, ...parsed } = await parseTranscriptFile(file);
      expect(transcriptPath).toBe(file);
      expect(parsed).toEqual(parseTranscript(text));
      expect(await findSubagentTranscripts(file)).toEqual([]);
      expect([...(await transcriptToolResults(file)).keys()]).toEqual(['t1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('file functions reject (not hang) on I/O errors', async () => {
    await expect(parseTranscriptFile('/nonexistent/x.jsonl')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(transcriptToolResults(FIXTURES)).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('marks a run whose turn ended on the API error line Claude Code writes when it gives up', () => {
    const line = (o: Record<string, unknown>) => JSON.stringify({ sessionId: 's', cwd: '/w', ...o });
    const text = [
      line({ type: 'user', uuid: 'u1', timestamp: '2026-01-01T00:00:01.000Z', message: { role: 'user', content: 'go' } }),
      line({ type: 'assistant', timestamp: '2026-01-01T00:00:02.000Z', isApiErrorMessage: true, error: 'unknown', message: { role: 'assistant', model: '<synthetic>', content: [{ type: 'text', text: 'API Error: 400 scripted failure' }] } }),
      line({ type: 'user', uuid: 'u2', timestamp: '2026-01-01T00:00:03.000Z', message: { role: 'user', content: 'again' } }),
      line({ type: 'assistant', timestamp: '2026-01-01T00:00:04.000Z', message: { role: 'assistant', content: [{ type: 'text', text: 'Fine.' }] } }),
    ].join('\n');
    const { runs } = parseTranscript(text);
    expect(runs.map((r) => [r.runId, r.endedAt, r.failure])).toEqual([
      ['u1', '2026-01-01T00:00:02.000Z', 'unknown: API Error: 400 scripted failure'],
      ['u2', '2026-01-01T00:00:04.000Z', undefined],
    ]);
  });

  it('empty input parses to an empty transcript', () => {
    expect(parseTranscript('')).toEqual({ agentSessionId: null, cwd: null, runs: [], toolCalls: [], skippedLines: [], lineCount: 0, usage: [] });
  });
});

describe('findSubagentTranscripts', () => {
  it('lists <basename>/subagents/*.jsonl sorted', async () => {
    const file = fixture('fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl');
    const dir = path.join(FIXTURES, 'fa812bfe-b295-4cca-9c2f-fdf01028cb46', 'subagents');
    expect(await findSubagentTranscripts(file)).toEqual(
      ['agent-a93ccab.jsonl', 'agent-aa84377.jsonl', 'agent-acompact-70d8e7.jsonl'].map((f) => path.join(dir, f)),
    );
  });
  it('returns [] when the folder does not exist', async () => {
    expect(await findSubagentTranscripts('/nonexistent/dir/x.jsonl')).toEqual([]);
  });
});
