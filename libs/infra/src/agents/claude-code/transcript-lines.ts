/*
 * One line of a Claude Code transcript (`~/.claude/projects/<encoded-cwd>/<session-id>.jsonl`), classified.
 *
 * Line shapes (checked against the real fixtures in test/fixtures/claude-code, Claude Code 2.1.38/2.1.39):
 * - `assistant`: `message.content[]` holds `text`, `thinking` and `tool_use` blocks (`id`, `name`, `input`); one API
 *   message is split over several lines, one block per line.
 * - `user`: `message.content` is a prompt (a string, or `text`/`image` blocks) or `tool_result` blocks
 *   (`tool_use_id`, `content`, `is_error`); a tool-result line carries the structured result in `toolUseResult`.
 * - `system` lines with `subtype` `stop_hook_summary` / `turn_duration` mark the end of a turn.
 * - An `assistant` line with `isApiErrorMessage: true` (model `<synthetic>`, `error` such as `unknown` or `rate_limit`, the
 *   text `API Error: …`) is how Claude Code 2.1.328 records a turn it gave up on.
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
  /** A shell call's exit code, where the agent's record states one (OpenCode's bash `metadata.exit`, Gemini CLI's `Exit Code: N`). */
  exitCode?: number;
  /** 1-based line number of that user line. */
  line: number;
  /** The tool's error text, where the agent's record keeps it apart from the output (Gemini CLI). */
  error?: string;
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
export type Classified =
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
      /** Set on the synthetic line Claude Code writes when it gives up on the API (`isApiErrorMessage`): `<error>: <text>`. */
      apiError?: string;
      /** The model call this line is part of (one API message spans several lines), when the line carries `message.usage`. */
      usage?: LineUsage;
      sessionId?: string;
      cwd?: string;
    };

/** The usage an assistant line carries: its message id (the model call), model and token counts as written. */
export interface LineUsage {
  messageId: string;
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.trunc(v) : 0);

/**
 * `message.usage` of an assistant line (`input_tokens`, `output_tokens`, `cache_read_input_tokens`,
 * `cache_creation_input_tokens`), keyed by `message.id` (else the line's `requestId`, else its `uuid`); undefined for
 * a line without usage and for Claude Code's synthetic lines (model `<synthetic>`: no model call was made).
 */
const lineUsage = (line: Json, message: Json): LineUsage | undefined => {
  const usage = message.usage;
  if (!isObject(usage) || message.model === '<synthetic>') return undefined;
  const messageId = isString(message.id) ? message.id : isString(line.requestId) ? line.requestId : isString(line.uuid) ? line.uuid : undefined;
  if (messageId === undefined) return undefined;
  return {
    messageId,
    model: isString(message.model) ? message.model : null,
    inputTokens: count(usage.input_tokens),
    outputTokens: count(usage.output_tokens),
    cacheReadTokens: count(usage.cache_read_input_tokens),
    cacheCreationTokens: count(usage.cache_creation_input_tokens),
  };
};

/** Joins the `text` blocks of a content array (other blocks ignored). */
export const textOf = (content: unknown): string => {
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
export const classifyLine = (raw: string): Classified => {
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
      const apiError = value.isApiErrorMessage === true ? { apiError: `${isString(value.error) ? value.error : 'unknown'}: ${textOf(content)}` } : {};
      const usage = lineUsage(value, message);
      const extra = usage ? { ...apiError, usage } : apiError;
      if (isString(content)) return { kind: 'assistant', at, toolUses: [], hasText: content.length > 0, ...extra, ...common };
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
      return { kind: 'assistant', at, toolUses, hasText, ...extra, ...common };
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
export const toResult = (
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

