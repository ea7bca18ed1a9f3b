import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

/*
 * Claude Code transcript (`~/.claude/projects/<encoded-cwd>/<session-id>.jsonl`) parser.
 *
 * Line shapes (checked against the real fixtures in test/fixtures/claude-code, Claude Code 2.1.38/2.1.39):
 * - `assistant`: `message.content[]` holds `text`, `thinking` and `tool_use` blocks (`id`, `name`, `input`); one API
 *   message is split over several lines, one block per line.
 * - `user`: `message.content` is a prompt (a string, or `text`/`image` blocks) or `tool_result` blocks
 *   (`tool_use_id`, `content`, `is_error`); a tool-result line carries the structured result in `toolUseResult`.
 * - `system` lines with `subtype` `stop_hook_summary` / `turn_duration` mark the end of a turn.
 * - `progress`, `summary`, `file-history-snapshot`, `queue-operation` carry nothing this parser needs.
 *
 * Which user lines start a run (the rule, see `classifyUserText`): a user line whose content has no `tool_result`
 * block and that is not
 * - `isMeta` (skill bodies, `<local-command-caveat>`, `<system-reminder>` injections), `isCompactSummary` or
 *   `isVisibleInTranscriptOnly` (the synthetic "This session is being continued…" summary after a compaction);
 * - a local slash command or its output (`<command-name>`, `<command-message>`, `<local-command-stdout|stderr>`) or a
 *   `!` shell-mode line (`<bash-input>`, `<bash-stdout|stderr>`): handled by the CLI, never sent as a prompt;
 * - a `<task-notification>` (a background task finished; Claude Code injects it, the user did not type it): the
 *   work it triggers stays in the current run;
 * - the interruption marker `[Request interrupted by user]` / `[Request interrupted by user for tool use]`: it ends
 *   the current run instead.
 *
 * Hook inputs (checked with the Claude Code hooks reference, code.claude.com/docs/en/hooks, via a docs search):
 * every input has the common fields `session_id`, `transcript_path`, `cwd`, `hook_event_name` (newer versions add
 * `permission_mode` and, inside sub-agents, `agent_id`/`agent_type`; omitted here). `PreToolUse` adds `tool_name`,
 * `tool_input`, `tool_use_id`; `PostToolUse` adds `tool_response` (the structured result, i.e. the transcript's
 * `toolUseResult`); `PostToolUseFailure` adds `error` (a string) and optionally `is_interrupt`; `UserPromptSubmit`
 * adds `prompt`; `Stop` adds `stop_hook_active`; `SessionStart` adds `source` (`startup|resume|clear|compact`);
 * `SessionEnd` adds `reason` (`clear|logout|prompt_input_exit|other`). A PreToolUse hook allows a call by exiting 0,
 * or explicitly with stdout `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"allow",
 * "permissionDecisionReason":"…"}}` (`deny` and `ask` are the other decisions; see `preToolUseDecision`).
 */

/** The `type` values a Claude Code transcript line may have; any other type is skipped as `unknown_shape`. */
export const KNOWN_LINE_TYPES = [
  'user',
  'assistant',
  'progress',
  'system',
  'summary',
  'file-history-snapshot',
  'queue-operation',
] as const;

/** One of `KNOWN_LINE_TYPES`. */
export type TranscriptLineType = (typeof KNOWN_LINE_TYPES)[number];

/** Why a line was skipped: not JSON at all, or JSON with an unknown `type` or missing required fields. */
export type SkipReason = 'invalid_json' | 'unknown_shape';

/** A skipped line: its 1-based line number in the file and the reason. */
export interface SkippedLine {
  line: number;
  reason: SkipReason;
}

/** A tool's result as found in the transcript: `failed` iff the `tool_result` block has `is_error: true`. */
export interface ParsedToolResult {
  status: 'completed' | 'failed';
  /** The `tool_result` block's `content` (a string or content blocks), as written. */
  output: unknown;
  /** The line's `toolUseResult` (structured result), when the line holds exactly one `tool_result` block. */
  structured?: unknown;
  /** ISO timestamp of the user line that carries the result. */
  at: string;
  /** 1-based line number of that user line. */
  line: number;
}

/** One `tool_use` block of an assistant line, with its matched result (`null` when the transcript has none). */
export interface ParsedToolCall {
  /** The `tool_use` block's `id` (Claude Code's `tool_use_id`). */
  callId: string;
  /** The run (user prompt) this call belongs to; `null` for calls before the first prompt. */
  runId: string | null;
  tool: string;
  input: unknown;
  /** ISO timestamp of the assistant line holding the `tool_use` block. */
  requestedAt: string;
  /** 1-based line number of that assistant line. */
  line: number;
  result: ParsedToolResult | null;
}

/** One agent run: a real user prompt and the work until the turn ended. */
export interface ParsedRun {
  /** The prompt line's `uuid` (deterministic across parses). */
  runId: string;
  /** The prompt text (string content, or the `text` blocks joined with `\n`). */
  prompt: string;
  /** ISO timestamp of the prompt line. */
  startedAt: string;
  /**
   * ISO timestamp of the turn's end: the last end marker (Stop-hook summary, turn duration, user interruption) after
   * the run's last activity; else, when another prompt follows or the last assistant line is plain text, the last
   * activity's timestamp; `null` when the transcript stops mid-turn (a tool call or result is the last activity).
   */
  endedAt: string | null;
  /** 1-based line number of the prompt line. */
  line: number;
}

/** A whole transcript, normalized: runs and tool calls in transcript order, plus the lines that were skipped. */
export interface ParsedTranscript {
  /** The lines' `sessionId` (the first one seen). */
  agentSessionId: string | null;
  /** The lines' `cwd` (the first one seen). */
  cwd: string | null;
  runs: ParsedRun[];
  toolCalls: ParsedToolCall[];
  skippedLines: SkippedLine[];
  /** Number of lines in the input (a trailing newline does not add one; blank lines count but are ignored). */
  lineCount: number;
  /** The file it was read from, when parsed with `parseTranscriptFile`. */
  transcriptPath?: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

const KNOWN = new Set<string>(KNOWN_LINE_TYPES);
const NOISE_PREFIXES = [
  '<command-name>',
  '<command-message>',
  '<command-args>',
  '<local-command-stdout>',
  '<local-command-stderr>',
  '<local-command-caveat>',
  '<bash-input>',
  '<bash-stdout>',
  '<bash-stderr>',
  '<task-notification>',
];
const INTERRUPT_MARKER = /^\[Request interrupted by user[^\]]*\]$/;
const TURN_END_SUBTYPES = new Set(['stop_hook_summary', 'turn_duration']);

/** A line classified by `classifyLine`: what the parser acts on. */
type Classified =
  | { kind: 'skip'; reason: SkipReason }
  | { kind: 'ignore'; sessionId?: string; cwd?: string }
  | { kind: 'turn_end'; at: string; sessionId?: string; cwd?: string }
  | { kind: 'prompt'; uuid: string; text: string; at: string; sessionId?: string; cwd?: string }
  | { kind: 'interrupt'; at: string; sessionId?: string; cwd?: string }
  | { kind: 'injected'; at: string; sessionId?: string; cwd?: string }
  | {
      kind: 'tool_results';
      at: string;
      results: { toolUseId: string; isError: boolean; content: unknown }[];
      structured: unknown;
      hasStructured: boolean;
      sessionId?: string;
      cwd?: string;
    }
  | {
      kind: 'assistant';
      at: string;
      toolUses: { id: string; name: string; input: unknown }[];
      hasText: boolean;
      sessionId?: string;
      cwd?: string;
    };

/** Joins the `text` blocks of a content array (other blocks ignored). */
const textOf = (content: unknown): string => {
  if (isString(content)) return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b): b is Json => isObject(b) && b.type === 'text' && isString(b.text))
    .map((b) => b.text as string)
    .join('\n');
};

/** Applies the run rule (see the file comment) to a non-tool-result user line. */
const classifyUserText = (line: Json, content: unknown): 'prompt' | 'interrupt' | 'injected' | 'ignore' => {
  if (line.isMeta === true || line.isCompactSummary === true || line.isVisibleInTranscriptOnly === true) return 'ignore';
  const text = textOf(content).trim();
  if (INTERRUPT_MARKER.test(text)) return 'interrupt';
  if (text.startsWith('<task-notification>')) return 'injected';
  if (NOISE_PREFIXES.some((p) => text.startsWith(p))) return 'ignore';
  return 'prompt';
};

/** Classifies one raw line; never throws. */
const classifyLine = (raw: string): Classified => {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { kind: 'skip', reason: 'invalid_json' };
  }
  if (!isObject(value) || !isString(value.type) || !KNOWN.has(value.type)) return { kind: 'skip', reason: 'unknown_shape' };
  const common = {
    sessionId: isString(value.sessionId) ? value.sessionId : undefined,
    cwd: isString(value.cwd) ? value.cwd : undefined,
  };
  const at = value.timestamp;
  switch (value.type as TranscriptLineType) {
    case 'system':
      if (isString(value.subtype) && TURN_END_SUBTYPES.has(value.subtype) && isString(at)) return { kind: 'turn_end', at, ...common };
      return { kind: 'ignore', ...common };
    case 'assistant': {
      const message = value.message;
      if (!isString(at) || !isObject(message)) return { kind: 'skip', reason: 'unknown_shape' };
      const content = message.content;
      if (isString(content)) return { kind: 'assistant', at, toolUses: [], hasText: content.length > 0, ...common };
      if (!Array.isArray(content)) return { kind: 'skip', reason: 'unknown_shape' };
      const toolUses: { id: string; name: string; input: unknown }[] = [];
      let hasText = false;
      for (const block of content) {
        if (!isObject(block)) return { kind: 'skip', reason: 'unknown_shape' };
        if (block.type === 'tool_use') {
          if (!isString(block.id) || !isString(block.name)) return { kind: 'skip', reason: 'unknown_shape' };
          toolUses.push({ id: block.id, name: block.name, input: block.input });
        } else if (block.type === 'text') hasText = true;
      }
      return { kind: 'assistant', at, toolUses, hasText, ...common };
    }
    case 'user': {
      const message = value.message;
      if (!isString(at) || !isObject(message)) return { kind: 'skip', reason: 'unknown_shape' };
      const content = message.content;
      if (!isString(content) && !Array.isArray(content)) return { kind: 'skip', reason: 'unknown_shape' };
      const results: { toolUseId: string; isError: boolean; content: unknown }[] = [];
      if (Array.isArray(content)) {
        for (const block of content) {
          if (!isObject(block)) return { kind: 'skip', reason: 'unknown_shape' };
          if (block.type !== 'tool_result') continue;
          if (!isString(block.tool_use_id)) return { kind: 'skip', reason: 'unknown_shape' };
          results.push({ toolUseId: block.tool_use_id, isError: block.is_error === true, content: block.content });
        }
      }
      if (results.length > 0) {
        const hasStructured = results.length === 1 && 'toolUseResult' in value;
        return { kind: 'tool_results', at, results, structured: value.toolUseResult, hasStructured, ...common };
      }
      const kind = classifyUserText(value, content);
      if (kind === 'prompt') {
        if (!isString(value.uuid)) return { kind: 'skip', reason: 'unknown_shape' };
        return { kind, uuid: value.uuid, text: textOf(content), at, ...common };
      }
      if (kind === 'ignore') return { kind, ...common };
      return { kind, at, ...common };
    }
    default:
      return { kind: 'ignore', ...common };
  }
};

/** Builds a `ParsedToolResult` from one `tool_result` block of a classified line. */
const toResult = (
  r: { isError: boolean; content: unknown },
  c: { at: string; structured: unknown; hasStructured: boolean },
  line: number,
): ParsedToolResult => ({
  status: r.isError ? 'failed' : 'completed',
  output: r.content,
  ...(c.hasStructured ? { structured: c.structured } : {}),
  at: c.at,
  line,
});

/**
 * Incremental parser: feed raw lines in order with `push`, then `finish()` once. `parseTranscript` and
 * `parseTranscriptFile` are thin wrappers; use it directly to parse a stream you already hold. Never throws on bad lines.
 */
export class TranscriptParser {
  private lineNo = 0;
  private agentSessionId: string | null = null;
  private cwd: string | null = null;
  private readonly runs: ParsedRun[] = [];
  private readonly toolCalls: ParsedToolCall[] = [];
  private readonly callsById = new Map<string, ParsedToolCall>();
  private readonly orphanResults = new Map<string, ParsedToolResult>();
  private readonly skippedLines: SkippedLine[] = [];
  /** State of the current run's turn: activity since its last end marker, and what that activity was. */
  private open = false;
  private lastActivityAt: string | null = null;
  private lastActivityFinal = false;

  /** Consumes the next raw line (without its newline). */
  push(raw: string): void {
    this.lineNo++;
    const text = this.lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (text.trim() === '') return;
    const c = classifyLine(text);
    if (c.kind === 'skip') {
      this.skippedLines.push({ line: this.lineNo, reason: c.reason });
      return;
    }
    if (this.agentSessionId === null && c.sessionId) this.agentSessionId = c.sessionId;
    if (this.cwd === null && c.cwd) this.cwd = c.cwd;
    const run = this.currentRun();
    switch (c.kind) {
      case 'prompt':
        this.closeRun(false);
        this.runs.push({ runId: c.uuid, prompt: c.text, startedAt: c.at, endedAt: null, line: this.lineNo });
        this.open = true;
        this.lastActivityAt = c.at;
        this.lastActivityFinal = false;
        return;
      case 'turn_end':
      case 'interrupt':
        if (run) run.endedAt = c.at;
        this.open = false;
        return;
      case 'injected':
        this.activity(c.at, false);
        return;
      case 'assistant':
        for (const use of c.toolUses) {
          if (this.callsById.has(use.id)) continue; // a repeated block (resumed session) is the same call
          const call: ParsedToolCall = {
            callId: use.id,
            runId: run ? run.runId : null,
            tool: use.name,
            input: use.input,
            requestedAt: c.at,
            line: this.lineNo,
            result: this.orphanResults.get(use.id) ?? null,
          };
          this.orphanResults.delete(use.id);
          this.callsById.set(use.id, call);
          this.toolCalls.push(call);
        }
        this.activity(c.at, c.toolUses.length === 0 && c.hasText);
        return;
      case 'tool_results':
        for (const r of c.results) {
          const call = this.callsById.get(r.toolUseId);
          if (call) {
            if (call.result === null) call.result = toResult(r, c, this.lineNo);
          } else if (!this.orphanResults.has(r.toolUseId)) this.orphanResults.set(r.toolUseId, toResult(r, c, this.lineNo));
        }
        this.activity(c.at, false);
        return;
      case 'ignore':
        return;
    }
  }

  /** Ends the input and returns the parsed transcript; the parser must not be used afterwards. */
  finish(): ParsedTranscript {
    this.closeRun(true);
    return {
      agentSessionId: this.agentSessionId,
      cwd: this.cwd,
      runs: this.runs,
      toolCalls: this.toolCalls,
      skippedLines: this.skippedLines,
      lineCount: this.lineNo,
    };
  }

  private currentRun(): ParsedRun | undefined {
    return this.runs[this.runs.length - 1];
  }

  private activity(at: string, final: boolean): void {
    this.open = true;
    this.lastActivityAt = at;
    this.lastActivityFinal = final;
  }

  /** Settles the current run's `endedAt` when a new prompt arrives (`atEof` false) or the input ends. */
  private closeRun(atEof: boolean): void {
    const run = this.currentRun();
    if (run && this.open) {
      // A new prompt means the previous turn was over; at EOF only a final text answer says so.
      run.endedAt = !atEof || this.lastActivityFinal ? this.lastActivityAt : null;
    }
    this.open = false;
  }
}

/** Splits text into lines like readline does: `\n` or `\r\n`, and no extra empty line after a trailing newline. */
const splitLines = (text: string): string[] => {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

/** Parses a whole transcript held in memory (pure; never throws on bad lines, which land in `skippedLines`). */
export const parseTranscript = (text: string): ParsedTranscript => {
  const parser = new TranscriptParser();
  for (const line of splitLines(text)) parser.push(line);
  return parser.finish();
};

/** Yields the lines of a UTF-8 file one at a time (readline), so only the current line is held in memory. */
async function* readLines(filePath: string): AsyncGenerator<string> {
  const input = createReadStream(filePath, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of rl) yield line;
  } finally {
    rl.close();
    input.destroy();
  }
}

/** Streams a transcript file (readline) into `parseTranscript`'s result plus `transcriptPath`; rejects only on I/O errors. */
export const parseTranscriptFile = async (filePath: string): Promise<ParsedTranscript> => {
  const parser = new TranscriptParser();
  for await (const line of readLines(filePath)) parser.push(line);
  return { ...parser.finish(), transcriptPath: filePath };
};

/**
 * Streams a transcript and returns every tool result in it, by `tool_use_id` (first result wins), whether or not its
 * `tool_use` block is in the file; holds only the results. For recovery (docs/ARCHITECTURE.md §4.3); rejects only on I/O errors.
 */
export const transcriptToolResults = async (filePath: string): Promise<Map<string, ParsedToolResult>> => {
  const results = new Map<string, ParsedToolResult>();
  let lineNo = 0;
  for await (const raw of readLines(filePath)) {
    lineNo++;
    if (!raw.includes('tool_result')) continue; // cheap pre-filter: most lines are progress or assistant text
    const c = classifyLine(lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw);
    if (c.kind !== 'tool_results') continue;
    for (const r of c.results) if (!results.has(r.toolUseId)) results.set(r.toolUseId, toResult(r, c, lineNo));
  }
  return results;
};

/**
 * Paths of the sub-agent transcripts of a session: `<dir>/<basename without .jsonl>/subagents/*.jsonl`, sorted;
 * `[]` when that folder does not exist. Rejects on other I/O errors.
 */
export const findSubagentTranscripts = async (transcriptPath: string): Promise<string[]> => {
  const dir = path.join(path.dirname(transcriptPath), path.basename(transcriptPath, '.jsonl'), 'subagents');
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
    .map((e) => path.join(dir, e.name))
    .sort();
};

/** Fields every Claude Code hook input carries. */
export interface HookCommonInput {
  session_id: string;
  transcript_path: string;
  cwd: string;
}

/** `SessionStart` input (`source` is always `startup` here). */
export interface SessionStartHookInput extends HookCommonInput {
  hook_event_name: 'SessionStart';
  source: 'startup' | 'resume' | 'clear' | 'compact';
}
/** `UserPromptSubmit` input. */
export interface UserPromptSubmitHookInput extends HookCommonInput {
  hook_event_name: 'UserPromptSubmit';
  prompt: string;
}
/** `PreToolUse` input. */
export interface PreToolUseHookInput extends HookCommonInput {
  hook_event_name: 'PreToolUse';
  tool_name: string;
  tool_input: unknown;
  tool_use_id: string;
}
/** `PostToolUse` input; `tool_response` is the structured result (`toolUseResult`), else the `tool_result` content. */
export interface PostToolUseHookInput extends HookCommonInput {
  hook_event_name: 'PostToolUse';
  tool_name: string;
  tool_input: unknown;
  tool_response: unknown;
  tool_use_id: string;
}
/** `PostToolUseFailure` input; `error` is the failed `tool_result` content as text. */
export interface PostToolUseFailureHookInput extends HookCommonInput {
  hook_event_name: 'PostToolUseFailure';
  tool_name: string;
  tool_input: unknown;
  tool_use_id: string;
  error: string;
}
/** `Stop` input. */
export interface StopHookInput extends HookCommonInput {
  hook_event_name: 'Stop';
  stop_hook_active: boolean;
}
/** `SessionEnd` input. */
export interface SessionEndHookInput extends HookCommonInput {
  hook_event_name: 'SessionEnd';
  reason: 'clear' | 'logout' | 'prompt_input_exit' | 'other';
}

/** Any hook input `hookCallsFromTranscript` produces, discriminated by `hook_event_name`. */
export type ClaudeCodeHookInput =
  | SessionStartHookInput
  | UserPromptSubmitHookInput
  | PreToolUseHookInput
  | PostToolUseHookInput
  | PostToolUseFailureHookInput
  | StopHookInput
  | SessionEndHookInput;

/** Text of a `tool_result` content (string as is, text blocks joined, anything else as JSON). */
const errorText = (output: unknown): string => {
  if (isString(output)) return output;
  if (Array.isArray(output)) return textOf(output);
  return output === undefined ? '' : JSON.stringify(output);
};

/**
 * The hook inputs Claude Code would have sent for this transcript, in transcript order: `SessionStart`, then per run
 * `UserPromptSubmit`, each tool call's `PreToolUse` (at its `tool_use` line) and `PostToolUse`/`PostToolUseFailure`
 * (at its `tool_result` line; none when the transcript has no result), `Stop` before the next run's prompt (also for
 * interrupted runs), and `SessionEnd` last. `transcript_path` is `parsed.transcriptPath`, else `opts.transcriptPath`,
 * else `''`; `session_id`/`cwd` fall back to `''`.
 */
export const hookCallsFromTranscript = (
  parsed: ParsedTranscript,
  opts: { transcriptPath?: string } = {},
): ClaudeCodeHookInput[] => {
  const common: HookCommonInput = {
    session_id: parsed.agentSessionId ?? '',
    transcript_path: parsed.transcriptPath ?? opts.transcriptPath ?? '',
    cwd: parsed.cwd ?? '',
  };
  const entries: { key: number; seq: number; hook: ClaudeCodeHookInput }[] = [];
  const add = (key: number, hook: ClaudeCodeHookInput): void => void entries.push({ key, seq: entries.length, hook });
  parsed.runs.forEach((run, i) => {
    add(run.line, { ...common, hook_event_name: 'UserPromptSubmit', prompt: run.prompt });
    const next = parsed.runs[i + 1];
    add(next ? next.line - 0.5 : Number.POSITIVE_INFINITY, { ...common, hook_event_name: 'Stop', stop_hook_active: false });
  });
  for (const call of parsed.toolCalls) {
    const tool = { tool_name: call.tool, tool_input: call.input, tool_use_id: call.callId };
    add(call.line, { ...common, hook_event_name: 'PreToolUse', ...tool });
    const r = call.result;
    if (!r) continue;
    const key = Math.max(r.line, call.line) + 0.25;
    if (r.status === 'failed') add(key, { ...common, hook_event_name: 'PostToolUseFailure', ...tool, error: errorText(r.output) });
    else add(key, { ...common, hook_event_name: 'PostToolUse', ...tool, tool_response: 'structured' in r ? r.structured : r.output });
  }
  entries.sort((a, b) => a.key - b.key || a.seq - b.seq);
  return [
    { ...common, hook_event_name: 'SessionStart', source: 'startup' },
    ...entries.map((e) => e.hook),
    { ...common, hook_event_name: 'SessionEnd', reason: 'other' },
  ];
};

/** The stdout JSON a PreToolUse hook returns (one model of the hook protocol: hook-protocol.ts). */
export { preToolUseDecision } from './hook-protocol';
