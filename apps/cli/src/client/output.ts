import { once } from 'node:events';
import { Writable } from 'node:stream';

/** Writes one line (a `\n` is added) to stdout. */
export const printLine = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** Writes one line to stderr (messages that must not mix with machine-readable stdout). */
export const printError = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Writes `value` as one line of compact JSON on stdout (`--json`, JSONL). */
export const printJson = (value: unknown): void => printLine(JSON.stringify(value));

/** Writes a chunk and waits for `drain` when the stream's buffer is full (backpressure for big outputs). */
export const writeChunk = async (out: Writable, chunk: string | Uint8Array): Promise<void> => {
  if (!out.write(chunk)) await once(out, 'drain');
};

/** `value` as compact JSON cut to `max` characters (with `…`); `undefined` prints as `undefined`. */
export const shortJson = (value: unknown, max = 80): string => {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

/** A text on one line (whitespace runs collapsed) cut to `max` characters (with `…`). */
export const oneLine = (text: string, max = 80): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** A duration in ms as `850ms`, `1.25s` or `2m05s`; `?` when unknown or negative. */
export const formatDuration = (ms: number | undefined): string => {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};
