import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/** Claude Code's folder under `projects/` for a working directory: every character but a letter or a digit becomes `-`. */
export const claudeProjectFolder = (cwd: string): string => cwd.replace(/[^a-zA-Z0-9]/g, '-');

/** Which line of a transcript holds `callId`: its `tool_use` (an assistant line) or its `tool_result` (a user line). */
const holds = (line: string, callId: string, block: 'tool_use' | 'tool_result'): boolean => {
  if (!line.includes(callId)) return false; // most lines: no parse
  try {
    const content = (JSON.parse(line) as { message?: { content?: unknown } }).message?.content;
    return Array.isArray(content) && content.some((b: { type?: unknown; id?: unknown; tool_use_id?: unknown }) =>
      b?.type === block && (block === 'tool_use' ? b.id : b.tool_use_id) === callId);
  } catch {
    return false; // a torn or foreign line holds no call
  }
};

/**
 * The lines of a Claude Code main transcript (`text`, JSON lines) that end at call `callId`: `before` stops just
 * before the line holding its `tool_use` (the conversation as it was when the model asked for the call, the call
 * itself left out), `after` just after the line holding its `tool_result`. Undefined when no such line exists (a
 * sub-agent's call, or a call the transcript never wrote). Pure.
 */
export const transcriptPrefixAt = (text: string, callId: string, phase: 'before' | 'after'): string[] | undefined => {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const index = lines.findIndex((l) => holds(l, callId, phase === 'before' ? 'tool_use' : 'tool_result'));
  if (index < 0) return undefined;
  return lines.slice(0, phase === 'before' ? index : index + 1);
};

const assistantMessage = (line: string): { id?: unknown; content?: unknown } | undefined => {
  if (!line.includes('"assistant"')) return undefined;
  try {
    const value = JSON.parse(line) as { type?: unknown; message?: { id?: unknown; content?: unknown } };
    return value.type === 'assistant' ? value.message : undefined;
  } catch {
    return undefined; // not JSON: holds nothing
  }
};

/** The `tool_use` ids in `lines` (JSON lines of a Claude Code transcript), in order, each once. Pure. */
export const toolUseIds = (lines: readonly string[]): string[] => [
  ...new Set(lines.flatMap((line) => {
    const content = assistantMessage(line)?.content;
    return Array.isArray(content) ? content.filter((b) => b?.type === 'tool_use' && typeof b.id === 'string').map((b) => b.id as string) : [];
  })),
];

/** The model message ids (`message.id` of assistant lines: the usage keys) in `lines`, in order, each once. Pure. */
export const modelMessageIds = (lines: readonly string[]): string[] => [
  ...new Set(lines.flatMap((line) => {
    const id = assistantMessage(line)?.id;
    return typeof id === 'string' ? [id] : [];
  })),
];

/**
 * Writes `lines` (from transcriptPrefixAt) as the transcript of a new Claude Code session `sessionId` working in
 * `cwd`, beside the source's projects folder (`<projects>/<claudeProjectFolder(cwd)>/<sessionId>.jsonl`), each
 * line's `sessionId` and `cwd` rewritten; `claude --resume <sessionId>` run in `cwd` continues it. Returns the path.
 * Throws on an I/O error; a line that is not JSON is copied as it is.
 */
export const writeForkedTranscript = async (sourcePath: string, lines: readonly string[], target: { sessionId: string; cwd: string }): Promise<string> => {
  const dir = path.join(path.dirname(path.dirname(sourcePath)), claudeProjectFolder(target.cwd));
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${target.sessionId}.jsonl`);
  const rewritten = lines.map((line) => {
    try {
      const value = JSON.parse(line) as Record<string, unknown>;
      if ('sessionId' in value) value.sessionId = target.sessionId;
      if ('cwd' in value) value.cwd = target.cwd;
      return JSON.stringify(value);
    } catch {
      return line;
    }
  });
  await fsp.writeFile(file, `${rewritten.join('\n')}\n`, { flag: 'wx', mode: 0o600 });
  return file;
};
