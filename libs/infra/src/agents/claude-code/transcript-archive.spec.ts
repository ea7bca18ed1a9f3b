import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TranscriptArchive } from './transcript-archive';

describe('TranscriptArchive on real files', () => {
  let dir: string;
  let archive: TranscriptArchive;
  let main: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rl-archive-'));
    archive = new TranscriptArchive(path.join(dir, 'archive'));
    mkdirSync(path.join(dir, 'projects'));
    main = path.join(dir, 'projects', 'abc.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('copies a growing transcript and its sub-agents byte for byte, appending only what is new, files 0600 and folders 0700', async () => {
    const first = '{"type":"user","n":1}\r\n{"type":"assistant","text":"é ☃"}\n';
    writeFileSync(main, first);
    const sub = path.join(dir, 'projects', 'abc', 'subagents', 'agent-x.jsonl');
    mkdirSync(path.dirname(sub), { recursive: true });
    writeFileSync(sub, '{"sub":1}\n{"partial":');
    expect((await archive.capture('s-1', main)).map((c) => c.appended)).toEqual([Buffer.byteLength(first), 21]);
    appendFileSync(main, '{"type":"system"}\n');
    appendFileSync(sub, '2}\n');
    expect((await archive.capture('s-1', main)).map((c) => c.appended)).toEqual([18, 3]);
    expect((await archive.capture('s-1', main)).map((c) => c.appended)).toEqual([0, 0]);
    expect(readFileSync(archive.mainCopy('s-1', main)).equals(readFileSync(main))).toBe(true);
    expect(readFileSync(archive.subagentCopy('s-1', main, 'agent-x.jsonl'), 'utf8')).toBe('{"sub":1}\n{"partial":2}\n');
    expect(statSync(archive.mainCopy('s-1', main)).mode & 0o777).toBe(0o600);
    expect(statSync(archive.sessionDir('s-1')).mode & 0o777).toBe(0o700);
  });

  it('two captures racing write the same bytes once', async () => {
    writeFileSync(main, Array.from({ length: 5000 }, (_, i) => `{"line":${i}}\n`).join(''));
    await Promise.all([archive.capture('s-1', main), archive.capture('s-1', main), archive.capture('s-1', main)]);
    expect(readFileSync(archive.mainCopy('s-1', main)).equals(readFileSync(main))).toBe(true);
  });

  it('keeps the copy when the original is deleted or shortened', async () => {
    writeFileSync(main, '{"a":1}\n{"b":2}\n');
    await archive.capture('s-1', main);
    truncateSync(main, 3);
    expect(await archive.capture('s-1', main)).toEqual([expect.objectContaining({ appended: 0, skipped: 'shrunk' })]);
    rmSync(main);
    expect(await archive.capture('s-1', main)).toEqual([expect.objectContaining({ appended: 0, skipped: 'missing' })]);
    expect(readFileSync(archive.mainCopy('s-1', main), 'utf8')).toBe('{"a":1}\n{"b":2}\n');
  });

  it('refuses a session id or a sub-agent file name that is a path', () => {
    expect(() => archive.sessionDir('../x')).toThrow(/not a session id/);
    expect(() => archive.subagentCopy('s-1', main, '../agent-x.jsonl')).toThrow(/not a sub-agent transcript file name/);
  });
  it('appends shipped chunks at the copy\'s length only: held bytes checked equal and skipped, a gap or a differing byte refused with the length to resume at', async () => {
    const copy = archive.mainCopy('s-2', main);
    const text = Buffer.from('{"n":1}\n{"n":2}\n');
    expect(await archive.append(copy, 0, text.subarray(0, 5))).toEqual({ outcome: 'appended', length: 5, appended: 5 });
    expect(await archive.append(copy, 9, text.subarray(9))).toEqual({ outcome: 'gap', length: 5 });
    expect(await archive.append(copy, 0, text)).toEqual({ outcome: 'appended', length: text.length, appended: text.length - 5 });
    expect(await archive.append(copy, 3, text.subarray(3))).toEqual({ outcome: 'appended', length: text.length, appended: 0 });
    expect(await archive.append(copy, 0, Buffer.from('{"n":9}'))).toEqual({ outcome: 'mismatch', length: text.length, at: 5 });
    expect(await archive.append(copy, text.length, Buffer.alloc(0))).toEqual({ outcome: 'appended', length: text.length, appended: 0 });
    expect(readFileSync(copy).equals(text)).toBe(true);
    expect(statSync(copy).mode & 0o777).toBe(0o600);
  });

  it('serializes concurrent appends to one copy: the same chunk shipped twice at once is written once', async () => {
    const copy = archive.mainCopy('s-3', main);
    const text = Buffer.from('x'.repeat(1000));
    const results = await Promise.all([archive.append(copy, 0, text), archive.append(copy, 0, text)]);
    expect(results.map((r) => (r.outcome === 'appended' ? r.appended : -1)).sort()).toEqual([0, 1000]);
    expect(readFileSync(copy).equals(text)).toBe(true);
  });
});
