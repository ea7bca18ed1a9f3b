import { constants } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { findSubagentTranscripts } from './subagent-transcripts';

/** Bytes copied per read while a transcript is archived (a whole transcript is never held in memory). */
const CHUNK_BYTES = 1 << 20;

/** What one capture did to one file: the bytes it appended, or why it left the copy alone. */
export interface CapturedFile {
  /** The original file. */
  source: string;
  /** Its copy in the archive. */
  copy: string;
  /** Bytes appended to the copy by this capture (0 when it was up to date). */
  appended: number;
  /** `missing`: the original is gone (the copy is kept); `shrunk`: the original is shorter than the copy (the copy is kept). */
  skipped?: 'missing' | 'shrunk';
}

const sizeOf = async (file: string): Promise<number | null> => {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
};

/**
 * What one shipped chunk did to a copy (TranscriptArchive.append): `appended` (bytes already held were checked equal and
 * skipped, the rest appended; `length` the copy's length after), `gap` (the chunk starts past the copy's end: nothing
 * written; resume at `length`), `mismatch` (a byte already held differs, first at `at`: nothing written).
 */
export type ShippedChunk =
  | { outcome: 'appended'; length: number; appended: number }
  | { outcome: 'gap'; length: number }
  | { outcome: 'mismatch'; length: number; at: number };

/**
 * Byte-exact copies of Claude Code transcripts (docs/ARCHITECTURE.md §4a), so Claude Code's retention sweep cannot erase
 * a session's history. Layout under `root`: `<session id>/<transcript file name>` for a main transcript and
 * `<session id>/<transcript name>/subagents/<file>` for its sub-agents (the layout Claude Code uses, so sub-agent
 * discovery works on the copy too). Files 0600, folders 0700. Transcripts are append-only: a capture copies the bytes
 * past the copy's length, each at its own offset, so two captures racing write the same bytes to the same places.
 */
export class TranscriptArchive {
  /** Per copy: the append running now (appends to one file are serialized in this process). */
  private readonly appending = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {}

  /** The copy's length in bytes, 0 when it does not exist yet. */
  async lengthOf(copy: string): Promise<number> {
    return (await sizeOf(copy)) ?? 0;
  }

  /**
   * Appends `bytes`, which the shipper read at byte `offset` of its original, to `copy` (created 0600, folders 0700) at
   * the copy's current length only: bytes below it are compared with the copy (equal: skipped, so a chunk sent again
   * appends nothing; different: `mismatch`), a chunk starting past it is a `gap`. Appends to one copy are serialized.
   * Rejects on I/O errors.
   */
  append(copy: string, offset: number, bytes: Buffer): Promise<ShippedChunk> {
    const previous = this.appending.get(copy) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.appendNow(copy, offset, bytes));
    this.appending.set(copy, next);
    void next.catch(() => undefined).finally(() => this.appending.get(copy) === next && this.appending.delete(copy));
    return next;
  }

  private async appendNow(copy: string, offset: number, bytes: Buffer): Promise<ShippedChunk> {
    const length = await this.lengthOf(copy);
    if (offset > length) return { outcome: 'gap', length };
    const overlap = Math.min(length - offset, bytes.length);
    if (overlap > 0) {
      const held = Buffer.allocUnsafe(overlap);
      const input = await open(copy, 'r');
      try {
        await input.read(held, 0, overlap, offset);
      } finally {
        await input.close();
      }
      for (let i = 0; i < overlap; i++) if (held[i] !== bytes[i]) return { outcome: 'mismatch', length, at: offset + i };
    }
    if (overlap === bytes.length) return { outcome: 'appended', length, appended: 0 };
    await mkdir(path.dirname(copy), { recursive: true, mode: 0o700 });
    const output = await open(copy, constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      await output.write(bytes, overlap, bytes.length - overlap, length);
    } finally {
      await output.close();
    }
    return { outcome: 'appended', length: length + bytes.length - overlap, appended: bytes.length - overlap };
  }

  /** Folder of one session's copies. Throws on a session id that is not a single path segment. */
  sessionDir(sessionId: string): string {
    if (!sessionId || sessionId !== path.basename(sessionId) || sessionId === '.' || sessionId === '..') throw new Error(`not a session id: ${sessionId}`);
    return path.join(this.root, sessionId);
  }

  /** Where the copy of main transcript `transcriptPath` of `sessionId` lives. */
  mainCopy(sessionId: string, transcriptPath: string): string {
    return path.join(this.sessionDir(sessionId), path.basename(transcriptPath));
  }

  /** Where the copy of sub-agent transcript `file` (a bare file name, e.g. `agent-…jsonl`) of that main transcript lives; throws on a path. */
  subagentCopy(sessionId: string, transcriptPath: string, file: string): string {
    if (!file || file !== path.basename(file) || !file.endsWith('.jsonl')) throw new Error(`not a sub-agent transcript file name: ${file}`);
    return path.join(this.sessionDir(sessionId), path.basename(transcriptPath, '.jsonl'), 'subagents', file);
  }

  /**
   * Copies what is new in the main transcript and in every sub-agent transcript beside it (`<name>/subagents/*.jsonl`)
   * into the archive. Never deletes or shortens a copy. Rejects on I/O errors other than a missing original.
   */
  async capture(sessionId: string, transcriptPath: string): Promise<CapturedFile[]> {
    const captured = [await this.copyNew(transcriptPath, this.mainCopy(sessionId, transcriptPath))];
    for (const sub of await findSubagentTranscripts(transcriptPath)) {
      captured.push(await this.copyNew(sub, this.subagentCopy(sessionId, transcriptPath, path.basename(sub))));
    }
    return captured;
  }

  /** Appends the bytes of `source` past `copy`'s length to `copy` (created 0600, its folders 0700). */
  private async copyNew(source: string, copy: string): Promise<CapturedFile> {
    const size = await sizeOf(source);
    if (size === null) return { source, copy, appended: 0, skipped: 'missing' };
    const have = (await sizeOf(copy)) ?? 0;
    if (size < have) return { source, copy, appended: 0, skipped: 'shrunk' };
    if (size === have) return { source, copy, appended: 0 };
    await mkdir(path.dirname(copy), { recursive: true, mode: 0o700 });
    const input = await open(source, 'r');
    const output = await open(copy, constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size - have));
      let at = have;
      while (at < size) {
        const { bytesRead } = await input.read(buffer, 0, Math.min(buffer.length, size - at), at);
        if (bytesRead === 0) break; // the original shrank while we read: keep what we have
        await output.write(buffer, 0, bytesRead, at);
        at += bytesRead;
      }
      return { source, copy, appended: at - have };
    } finally {
      await input.close();
      await output.close();
    }
  }
}
