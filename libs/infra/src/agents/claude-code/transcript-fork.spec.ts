import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { claudeProjectFolder, modelMessageIds, toolUseIds, transcriptPrefixAt, writeForkedTranscript } from './transcript-fork';

const line = (value: object): string => JSON.stringify({ sessionId: 'cc-1', cwd: '/w/src', ...value });
const prompt = line({ type: 'user', uuid: 'u1', message: { role: 'user', content: 'do it' } });
const text = line({ type: 'assistant', uuid: 'a1', message: { role: 'assistant', content: [{ type: 'text', text: 'on it' }] } });
const use = (id: string) => line({ type: 'assistant', uuid: `a-${id}`, message: { id: `msg-${id}`, role: 'assistant', content: [{ type: 'tool_use', id, name: 'Bash', input: { command: `echo ${id}` } }] } });
const result = (id: string) => line({ type: 'user', uuid: `r-${id}`, message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'ok' }] } });
const transcript = [prompt, text, use('toolu_1'), result('toolu_1'), use('toolu_2'), result('toolu_2'), ''].join('\n');

describe('a Claude Code conversation cut at a call (docs/ARCHITECTURE.md §4e)', () => {
  it('ends before the call\'s tool_use, or just after its tool_result', () => {
    expect(transcriptPrefixAt(transcript, 'toolu_2', 'before')).toEqual([prompt, text, use('toolu_1'), result('toolu_1')]);
    expect(transcriptPrefixAt(transcript, 'toolu_1', 'after')).toEqual([prompt, text, use('toolu_1'), result('toolu_1')]);
    expect(transcriptPrefixAt(transcript, 'toolu_1', 'before')).toEqual([prompt, text]);
    expect(toolUseIds(transcriptPrefixAt(transcript, 'toolu_2', 'after')!)).toEqual(['toolu_1', 'toolu_2']);
    expect(toolUseIds(transcriptPrefixAt(transcript, 'toolu_2', 'before')!)).toEqual(['toolu_1']);
    expect(modelMessageIds(transcriptPrefixAt(transcript, 'toolu_2', 'before')!)).toEqual(['msg-toolu_1']);
  });

  it('is undefined for a call the transcript does not hold, and skips torn lines that merely mention it', () => {
    expect(transcriptPrefixAt(transcript, 'toolu_9', 'before')).toBeUndefined();
    expect(transcriptPrefixAt(`{"torn": "toolu_1\n${transcript}`, 'toolu_1', 'after')?.length).toBe(5);
  });

  it('writes the cut as a new session in the fork\'s project folder, with its session id and cwd', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rl-fork-'));
    try {
      const source = path.join(dir, 'projects', claudeProjectFolder('/w/src'), 'cc-1.jsonl');
      const file = await writeForkedTranscript(source, transcriptPrefixAt(transcript, 'toolu_1', 'after')!, { sessionId: 'cc-2', cwd: '/w/fork.1' });
      expect(file).toBe(path.join(dir, 'projects', '-w-fork-1', 'cc-2.jsonl'));
      const written = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(written.map((l) => l.uuid)).toEqual(['u1', 'a1', 'a-toolu_1', 'r-toolu_1']);
      expect(new Set(written.map((l) => `${l.sessionId} ${l.cwd}`))).toEqual(new Set(['cc-2 /w/fork.1']));
      await expect(writeForkedTranscript(source, [prompt], { sessionId: 'cc-2', cwd: '/w/fork.1' })).rejects.toThrow(/EEXIST/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
