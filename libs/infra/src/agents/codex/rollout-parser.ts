import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ParsedModelCall, ParsedRun, ParsedToolCall, ParsedToolResult, ParsedTranscript, SkippedLine } from '../claude-code/transcript-parser';

/*
 * Codex CLI rollout parser: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl` into the transcript
 * summary shared with Claude Code (`ParsedTranscript`).
 *
 * Line shapes (checked against the real fixtures in test/fixtures/codex, codex-cli 0.171.0): `{timestamp, ordinal,
 * type, payload}` with type
 * - `session_meta` (payload `id` = thread id, `cwd`); written once, not again on `codex exec resume`;
 * - `event_msg`: `task_started {turn_id}` opens a turn, `task_complete {turn_id}` closes it; `item_completed {item}`
 *   with `UserMessage` (the prompt), `CommandExecution {id = call_id, exit_code, status, aggregated_output}`,
 *   `FileChange {id, status, changes}`, `McpToolCall {id, status, result: {isError}}`, `AgentMessage`;
 *   `token_count`, `thread_settings_applied`, ...;
 * - `response_item`: `function_call {call_id, name, namespace?, arguments}` (exec_command; MCP tools as
 *   `namespace: "mcp__<server>"`, `name: <tool>`), `custom_tool_call {call_id, name: "apply_patch", input}`, their
 *   `function_call_output` / `custom_tool_call_output {call_id, output}`, `tool_search_call` / `tool_search_output`
 *   (Codex's own tool discovery: no hook sees it, so no call here), `message`, `reasoning`;
 * - `token_usage_record` (payload `response_id`, `turn_id`, `usage {input_tokens, cached_input_tokens,
 *   cache_write_input_tokens, output_tokens, reasoning_output_tokens}`): one model call's usage; `input_tokens` includes
 *   the cached part, which is counted as cache read instead. `turn_context` (payload `model`) names the model of the
 *   calls after it. (`event_msg` `token_count` repeats the same figures as running totals, restarting on resume: unused.)
 * - `world_state`, `compacted`: nothing this parser needs.
 * A turn killed mid-call has no `task_complete` and the call has neither item nor output; after `codex exec resume` the
 * same file goes on with the next `task_started` (the "aborted" output Codex sends the model is not written).
 *
 * Tool names are the ones Codex's hooks send as `tool_name` (test/fixtures/codex/hooks): exec_command → `Bash`,
 * apply_patch → `apply_patch`, MCP → `mcp__<server>__<tool>`; any other function keeps its name. `input` is the hooks'
 * `tool_input`: `{command}` for Bash (the `cmd` argument) and apply_patch (the patch), the arguments for MCP. A
 * result's `output` is the PostToolUse `tool_response` where the rollout holds it (a command's aggregated output, an
 * MCP result), else the output the model was given; `structured` is the completed item. A call denied by a PreToolUse
 * hook has an output (`Command blocked by PreToolUse hook: <reason>. Command: …`) and no item: `failed`; so is a patch
 * that does not apply (`apply_patch verification failed: …`, no item, no PostToolUse).
 * An exec that yields (`yield_time_ms`) first gets an output saying "Process running with session ID <n>"; the model
 * then polls it with `write_stdin` calls (no hook fires for them: they are not calls here), and the exec's
 * `CommandExecution` item comes when the command ends, as does its PostToolUse: that item is its result.
 */

export type { ParsedModelCall, ParsedRun, ParsedToolCall, ParsedToolResult, ParsedTranscript, SkippedLine } from '../claude-code/transcript-parser';

/** The `type` values a rollout line may have; any other type is skipped as `unknown_shape`. */
export const KNOWN_ROLLOUT_LINE_TYPES = ['session_meta', 'turn_context', 'event_msg', 'response_item', 'token_usage_record', 'world_state', 'compacted'] as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const KNOWN = new Set<string>(KNOWN_ROLLOUT_LINE_TYPES);
/** The output Codex writes for a call a PreToolUse hook denied (exit 2, or a JSON deny/block). */
const BLOCKED_PREFIX = 'Command blocked by PreToolUse hook';
/**
 * Tools whose calls that ran always have a completed item (CommandExecution, FileChange, McpToolCall): seen for Bash
 * and apply_patch (denied, or a patch that does not apply: an output and no item); assumed for MCP.
 */
const ITEM_TOOLS = /^(Bash|apply_patch|mcp__.+)$/;

/** The hooks' `tool_name` for a `function_call` / `custom_tool_call` (see the header). */
export const codexToolName = (name: string, namespace?: string): string => {
  if (namespace) return `${namespace}__${name}`;
  return name === 'exec_command' ? 'Bash' : name;
};

const parseArguments = (raw: unknown): unknown => {
  if (!isString(raw)) return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
};

/** The hooks' `tool_input` for a call: `{command}` for Bash and apply_patch, the parsed arguments otherwise. */
const hookInput = (tool: string, payload: Json): unknown => {
  if (payload.type === 'custom_tool_call') return tool === 'apply_patch' ? { command: payload.input } : payload.input;
  const args = parseArguments(payload.arguments);
  if (tool === 'Bash' && isObject(args) && isString(args.cmd)) return { command: args.cmd };
  return args;
};

/** Status of a completed item: failed when Codex says so, when a command exits non-zero, or an MCP result is an error. */
export const itemFailed = (item: Json): boolean => {
  if (item.status === 'failed' || item.status === 'declined') return true;
  if (item.type === 'CommandExecution' && typeof item.exit_code === 'number' && item.exit_code !== 0) return true;
  if (item.type === 'McpToolCall' && isObject(item.result) && item.result.isError === true) return true;
  return false;
};

/**
 * The hooks' `tool_response` for a completed call: a command's `aggregated_output`, an MCP call's `result`; else the
 * output line's `output` as written (apply_patch: the same text PostToolUse sends).
 */
export const hookResponse = (item: Json, output: unknown): unknown => {
  if (item.type === 'CommandExecution' && isString(item.aggregated_output)) return item.aggregated_output;
  if (item.type === 'McpToolCall' && item.result !== undefined) return item.result;
  return output;
};

/** An exec output that yielded while the command still runs (`Process running with session ID 80353`). */
const STILL_RUNNING = /^Process running with session ID \d+$/m;

/** Function tools that fire no hook (write_stdin polls or feeds a running exec): not tool calls here. */
const UNHOOKED_FUNCTIONS = new Set(['write_stdin']);

/** The completed-item types that end a tool call (their `id` is the call's `call_id`). */
export const TOOL_ITEMS = new Set(['CommandExecution', 'FileChange', 'McpToolCall']);

/**
 * Incremental parser: feed raw lines in order with `push`, then `finish()` once. Never throws on bad lines (they land
 * in `skippedLines`: `invalid_json`, or `unknown_shape` for a JSON line without a known `type` and an object `payload`).
 */
export class RolloutParser {
  private lineNo = 0;
  private agentSessionId: string | null = null;
  private cwd: string | null = null;
  private readonly runs: ParsedRun[] = [];
  private readonly runsById = new Map<string, ParsedRun>();
  private readonly toolCalls: ParsedToolCall[] = [];
  private readonly callsById = new Map<string, ParsedToolCall>();
  /** Completed tool items by call id, until their output line arrives (the item comes first). */
  private readonly items = new Map<string, { item: Json; at: string; line: number }>();
  private readonly skippedLines: SkippedLine[] = [];
  /** Exec calls whose output said the process was still running: their result is the item that comes later. */
  private readonly running = new Set<string>();
  /** The model of the current turn (`turn_context`). */
  private model: string | null = null;
  private readonly usage: ParsedModelCall[] = [];
  private readonly usageKeys = new Set<string>();

  /** Consumes the next raw line (without its newline). */
  push(raw: string): void {
    this.lineNo++;
    const text = this.lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (text.trim() === '') return;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      this.skippedLines.push({ line: this.lineNo, reason: 'invalid_json' });
      return;
    }
    if (!isObject(line) || !isString(line.type) || !KNOWN.has(line.type) || !isObject(line.payload)) {
      this.skippedLines.push({ line: this.lineNo, reason: 'unknown_shape' });
      return;
    }
    const at = isString(line.timestamp) ? line.timestamp : '';
    const payload = line.payload;
    if (line.type === 'session_meta') {
      if (this.agentSessionId === null && isString(payload.id)) this.agentSessionId = payload.id;
      if (this.cwd === null && isString(payload.cwd)) this.cwd = payload.cwd;
    } else if (line.type === 'turn_context') {
      if (isString(payload.model)) this.model = payload.model;
    } else if (line.type === 'token_usage_record') this.usageRecord(payload, at);
    else if (line.type === 'event_msg') this.event(payload, at);
    else if (line.type === 'response_item') this.responseItem(payload, at);
  }

  /** Ends the input and returns the parsed rollout; the parser must not be used afterwards. */
  finish(): ParsedTranscript {
    // An item whose output line never came (e.g. killed between the two) still tells how the call ended.
    for (const [callId, { item, at, line }] of this.items) {
      const call = this.callsById.get(callId);
      if (call && call.result === null) call.result = { status: itemFailed(item) ? 'failed' : 'completed', output: hookResponse(item, null), structured: item, at, line };
    }
    return {
      usage: this.usage,
      agentSessionId: this.agentSessionId,
      cwd: this.cwd,
      runs: this.runs,
      toolCalls: this.toolCalls,
      skippedLines: this.skippedLines,
      lineCount: this.lineNo,
    };
  }

  /** One model call's `token_usage_record` (a repeated `response_id` is the same call): complete as written (one line). */
  private usageRecord(payload: Json, at: string): void {
    const usage = payload.usage;
    if (!isString(payload.response_id) || !isObject(usage) || this.usageKeys.has(payload.response_id)) return;
    this.usageKeys.add(payload.response_id);
    const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.trunc(v) : 0);
    const cached = n(usage.cached_input_tokens);
    const turnId = isString(payload.turn_id) && this.runsById.has(payload.turn_id) ? payload.turn_id : undefined;
    this.usage.push({
      key: payload.response_id,
      model: this.model,
      runId: turnId ?? this.currentRun()?.runId ?? null,
      inputTokens: Math.max(0, n(usage.input_tokens) - cached),
      outputTokens: n(usage.output_tokens),
      cacheReadTokens: cached,
      cacheCreationTokens: n(usage.cache_write_input_tokens),
      at,
      complete: true,
    });
  }

  private currentRun(): ParsedRun | undefined {
    return this.runs[this.runs.length - 1];
  }

  private event(payload: Json, at: string): void {
    switch (payload.type) {
      case 'task_started': {
        const runId = isString(payload.turn_id) ? payload.turn_id : `line-${this.lineNo}`;
        const run: ParsedRun = { runId, prompt: '', startedAt: at, endedAt: null, line: this.lineNo };
        this.runs.push(run);
        this.runsById.set(runId, run);
        return;
      }
      case 'task_complete': {
        const run = (isString(payload.turn_id) && this.runsById.get(payload.turn_id)) || this.currentRun();
        if (run) run.endedAt = at;
        return;
      }
      case 'item_completed': {
        const item = payload.item;
        if (!isObject(item)) return;
        if (item.type === 'UserMessage') {
          const run = (isString(payload.turn_id) && this.runsById.get(payload.turn_id)) || this.currentRun();
          const content = Array.isArray(item.content) ? item.content : [];
          const text = content.filter((c): c is Json => isObject(c) && c.type === 'text' && isString(c.text)).map((c) => c.text as string).join('\n');
          if (run && run.prompt === '') run.prompt = text;
        } else if (TOOL_ITEMS.has(String(item.type)) && isString(item.id)) {
          const call = this.running.has(item.id) ? this.callsById.get(item.id) : undefined;
          this.running.delete(item.id);
          if (call && call.result === null) call.result = { status: itemFailed(item) ? 'failed' : 'completed', output: hookResponse(item, null), structured: item, at, line: this.lineNo };
          else this.items.set(item.id, { item, at, line: this.lineNo });
        }
        return;
      }
      default:
        return;
    }
  }

  private responseItem(payload: Json, at: string): void {
    switch (payload.type) {
      case 'function_call':
      case 'custom_tool_call': {
        if (!isString(payload.call_id) || !isString(payload.name) || this.callsById.has(payload.call_id)) return;
        if (UNHOOKED_FUNCTIONS.has(payload.name) && !isString(payload.namespace)) return;
        const tool = codexToolName(payload.name, isString(payload.namespace) ? payload.namespace : undefined);
        const meta = payload.internal_chat_message_metadata_passthrough;
        const turnId = isObject(meta) && isString(meta.turn_id) ? meta.turn_id : undefined;
        const call: ParsedToolCall = {
          callId: payload.call_id,
          runId: (turnId && this.runsById.has(turnId) ? turnId : this.currentRun()?.runId) ?? null,
          tool,
          input: hookInput(tool, payload),
          requestedAt: at,
          line: this.lineNo,
          result: null,
        };
        this.callsById.set(call.callId, call);
        this.toolCalls.push(call);
        return;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        if (!isString(payload.call_id)) return;
        const call = this.callsById.get(payload.call_id);
        if (!call || call.result !== null) return;
        const done = this.items.get(payload.call_id);
        this.items.delete(payload.call_id);
        if (!done && call.tool === 'Bash' && isString(payload.output) && STILL_RUNNING.test(payload.output)) {
          this.running.add(call.callId); // yielded: the command goes on; write_stdin polls it, its item ends it
          return;
        }
        // Bash, apply_patch and MCP calls that ran end with an item; an output without one is a denial or an error.
        const failed = done ? itemFailed(done.item) : ITEM_TOOLS.test(call.tool) || (isString(payload.output) && payload.output.startsWith(BLOCKED_PREFIX));
        const result: ParsedToolResult = {
          status: failed ? 'failed' : 'completed',
          output: done ? hookResponse(done.item, payload.output) : payload.output,
          at,
          line: this.lineNo,
        };
        if (done) result.structured = done.item;
        call.result = result;
        return;
      }
      default:
        return;
    }
  }
}

/** Splits text into lines like readline does: `\n` or `\r\n`, and no extra empty line after a trailing newline. */
const splitLines = (text: string): string[] => {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

/** Parses a whole rollout held in memory (pure; never throws on bad lines, which land in `skippedLines`). */
export const parseRollout = (text: string): ParsedTranscript => {
  const parser = new RolloutParser();
  for (const line of splitLines(text)) parser.push(line);
  return parser.finish();
};

/** Streams a rollout file (readline) into `parseRollout`'s result plus `transcriptPath`; rejects only on I/O errors. */
export const parseRolloutFile = async (filePath: string): Promise<ParsedTranscript> => {
  const parser = new RolloutParser();
  const input = createReadStream(filePath, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of rl) parser.push(line);
  } finally {
    rl.close();
    input.destroy();
  }
  return { ...parser.finish(), transcriptPath: filePath };
};
