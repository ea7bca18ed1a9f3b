import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ParsedModelCall, ParsedRun, ParsedToolCall, ParsedTranscript, SkippedLine } from '../claude-code/transcript-parser';

/*
 * Gemini CLI chat file parser (0.61.0, docs/ARCHITECTURE.md §4d): `$HOME/.gemini/tmp/<workspace slug>/chats/
 * session-<time>-<id8>.jsonl`, append-only JSONL: a header `{sessionId, projectHash, startTime, kind}`, message records
 * `{id, timestamp, type: "user"|"gemini"|…, content, toolCalls?, tokens?, model?}` (a record written again under the same
 * id replaces the earlier one: a gemini record is written once when the model answers and again with its `toolCalls`
 * once they completed), and `{$set: {...}}` metadata lines. A tool call is `{id, name, args, result: [{functionResponse:
 * {id, name, response: {output|error}}}], status: "success"|"error"|"cancelled", timestamp}`; its id is the API's call id
 * prefixed with the tool name (`run_shell_command__call_…`).
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Gemini CLI's shell tool: a command that exits non-zero is `success` with `Exit Code: N` only in its output text. */
export const GEMINI_SHELL_TOOL = 'run_shell_command';

/** The exit code a shell call's output text names (`Exit Code: N`), or undefined when it names none (exit 0). */
export const shellExitCode = (output: unknown): number | undefined => {
  const text = typeof output === 'string' ? output : JSON.stringify(output ?? '');
  const match = /Exit Code: (-?\d+)/.exec(text);
  return match ? Number(match[1]) : undefined;
};

/**
 * How a Gemini CLI tool call ended, from its status and output: `error` and `cancelled` are failed; a shell call whose
 * output names a non-zero `Exit Code` is failed with that code (Gemini says `success`), else completed.
 */
export const geminiCallOutcome = (tool: string, status: string, output: unknown): { status: 'completed' | 'failed'; exitCode?: number } => {
  if (status === 'error' || status === 'cancelled') return { status: 'failed' };
  if (tool !== GEMINI_SHELL_TOOL) return { status: 'completed' };
  const exitCode = shellExitCode(output);
  return exitCode !== undefined && exitCode !== 0 ? { status: 'failed', exitCode } : { status: 'completed', ...(exitCode !== undefined ? { exitCode } : {}) };
};

/** The text a tool call's `result` parts carry: each functionResponse's `response.output` (or `.error`), joined by newlines. */
const resultText = (result: unknown): { output: string | null; error?: string } => {
  const parts = Array.isArray(result) ? (result as unknown[]) : [];
  const outputs: string[] = [];
  let error: string | undefined;
  for (const part of parts) {
    const response = isObject(part) && isObject(part.functionResponse) ? part.functionResponse.response : undefined;
    if (!isObject(response)) continue;
    if (typeof response.output === 'string') outputs.push(response.output);
    if (typeof response.error === 'string') error = response.error;
  }
  return { output: outputs.length ? outputs.join('\n') : null, ...(error !== undefined ? { error } : {}) };
};

/** A chat message as last written (records of the same id replace earlier ones), with the line it was last written on. */
interface ChatMessage {
  record: Json;
  line: number;
}

/** True for a user message that is a prompt (text), not the function responses the CLI sends back. */
const isPrompt = (record: Json): boolean =>
  record.type === 'user' && Array.isArray(record.content) && (record.content as unknown[]).some((p) => isObject(p) && typeof p.text === 'string');

const promptText = (record: Json): string =>
  (record.content as unknown[]).flatMap((p) => (isObject(p) && typeof p.text === 'string' ? [p.text] : [])).join('\n');

/** Parses a chat file's text into the summary shape (pure; never throws; a line that is not a JSON object is skipped). */
export const parseGeminiChat = (text: string): ParsedTranscript => {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const skippedLines: SkippedLine[] = [];
  const messages = new Map<string, ChatMessage>();
  let agentSessionId: string | null = null;
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch {
      skippedLines.push({ line, reason: 'invalid_json' });
      return;
    }
    if (!isObject(record)) {
      skippedLines.push({ line, reason: 'unknown_shape' });
      return;
    }
    if ('$set' in record) return; // metadata (lastUpdated, the initial context, a summary)
    if (typeof record.sessionId === 'string' && record.type === undefined) {
      agentSessionId ??= record.sessionId;
      return;
    }
    if (typeof record.id !== 'string' || typeof record.type !== 'string') {
      skippedLines.push({ line, reason: 'unknown_shape' });
      return;
    }
    const known = messages.get(record.id);
    messages.set(record.id, { record, line: known?.line ?? line });
  });

  const runs: ParsedRun[] = [];
  const toolCalls: ParsedToolCall[] = [];
  const usage: ParsedModelCall[] = [];
  let run: ParsedRun | null = null;
  let lastActivity: { at: string; kind: 'call' | 'text' } | null = null;
  const closeRun = () => {
    if (run && lastActivity?.kind === 'text') run.endedAt = lastActivity.at;
  };
  for (const { record, line } of messages.values()) {
    const at = typeof record.timestamp === 'string' ? record.timestamp : '';
    if (isPrompt(record)) {
      closeRun();
      run = { runId: String(record.id), prompt: promptText(record), startedAt: at, endedAt: null, line };
      runs.push(run);
      lastActivity = null;
      continue;
    }
    if (record.type !== 'gemini') continue;
    const calls = Array.isArray(record.toolCalls) ? (record.toolCalls as unknown[]).filter(isObject) : [];
    for (const call of calls) {
      if (typeof call.id !== 'string' || typeof call.name !== 'string') continue;
      const { output, error } = resultText(call.result);
      const status = typeof call.status === 'string' ? call.status : 'success';
      const outcome = geminiCallOutcome(call.name, status, output ?? error);
      toolCalls.push({
        callId: call.id,
        runId: run?.runId ?? null,
        tool: call.name,
        input: call.args ?? null,
        requestedAt: at,
        line,
        result: {
          status: outcome.status,
          output: output ?? error ?? null,
          at: typeof call.timestamp === 'string' ? call.timestamp : at,
          line,
          ...(outcome.exitCode !== undefined ? { exitCode: outcome.exitCode } : {}),
          ...(error !== undefined ? { error } : {}),
        },
      });
    }
    const text = typeof record.content === 'string' ? record.content : '';
    if (calls.length) lastActivity = { at, kind: 'call' };
    else if (text) lastActivity = { at, kind: 'text' };
    const tokens = isObject(record.tokens) ? record.tokens : undefined;
    if (tokens) {
      const count = (field: string) => (typeof tokens[field] === 'number' ? (tokens[field] as number) : 0);
      usage.push({
        key: String(record.id),
        model: typeof record.model === 'string' ? record.model : null,
        runId: run?.runId ?? null,
        inputTokens: Math.max(0, count('input') - count('cached')),
        outputTokens: count('output') + count('thoughts'),
        cacheReadTokens: count('cached'),
        cacheCreationTokens: 0,
        at,
        complete: true,
      });
    }
  }
  closeRun();
  return { agentSessionId, cwd: null, runs, toolCalls, skippedLines, lineCount: lines.length, usage };
};

/** Reads and parses a chat file; rejects only on I/O errors. */
export const parseGeminiChatFile = async (filePath: string): Promise<ParsedTranscript> => ({
  ...parseGeminiChat(await fsp.readFile(filePath, 'utf8')),
  transcriptPath: filePath,
});

/** The workspace a chat file was written in: `<chats>/../.project_root` (Gemini writes the project root there); undefined when absent. */
export const geminiChatCwd = (chatFile: string): string | undefined => {
  const marker = path.join(path.dirname(path.dirname(chatFile)), '.project_root');
  if (!existsSync(marker)) return undefined;
  const root = readFileSync(marker, 'utf8').trim();
  return root || undefined;
};
