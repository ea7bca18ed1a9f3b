import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ParsedRun, ParsedToolCall, ParsedTranscript, SkippedLine } from '../claude-code/transcript-parser';
import { completedItemOf, completedItemResult } from './rollout-results';

/*
 * Codex rollout parser (docs/ARCHITECTURE.md §4d): `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*-<thread id>.jsonl`, lines
 * `{timestamp, type, payload}`, read into the one transcript summary shape every agent adapter gives (ParsedTranscript):
 * runs are turns (`task_started` … `task_complete`), calls are `function_call` / `custom_tool_call` response items
 * (named as Codex's hooks name them), results their `item_completed` events (a call with only an `_output` item never
 * ran: failed).
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/** Rollout line types Codex 0.171 writes; any other is skipped as `unknown_shape`. */
export const ROLLOUT_LINE_TYPES = ['session_meta', 'turn_context', 'event_msg', 'response_item', 'world_state', 'token_usage_record', 'compacted'] as const;
const KNOWN = new Set<string>(ROLLOUT_LINE_TYPES);

/** Codex-internal calls that never reach a hook (tool discovery): not tool calls of the session. */
const INTERNAL_TOOLS = new Set(['tool_search']);

/**
 * The tool name and input a Codex hook gives a call (`PreToolUse`'s `tool_name` / `tool_input`), from its response
 * item: exec → `Bash` `{command}`, an MCP tool (`namespace: "mcp__<server>"`) → `mcp__<server>__<tool>` with its
 * arguments, apply_patch → `apply_patch` `{command: <patch>}`, any other → its name and arguments.
 */
export const hookToolOf = (item: Json): { tool: string; input: unknown } => {
  const name = isString(item.name) ? item.name : 'unknown';
  let args: unknown = item.input ?? null;
  if (isString(item.arguments)) {
    try {
      args = JSON.parse(item.arguments);
    } catch {
      args = item.arguments;
    }
  }
  if (name === 'exec_command' || name === 'shell' || name === 'local_shell') {
    const command = isObject(args) ? (args.cmd ?? args.command) : args;
    return { tool: 'Bash', input: { command: Array.isArray(command) ? command.join(' ') : command } };
  }
  if (name === 'apply_patch') return { tool: 'apply_patch', input: { command: isString(args) ? args : isObject(args) ? (args.input ?? args.patch ?? args) : args } };
  if (isString(item.namespace) && item.namespace.startsWith('mcp__')) return { tool: `${item.namespace}__${name}`, input: args };
  return { tool: name, input: args };
};

/** Text of a user message's content (`input_text` / `text` parts joined with `\n`). */
const contentText = (content: unknown): string | null => {
  if (isString(content)) return content;
  if (!Array.isArray(content)) return null;
  const texts = content.flatMap((part) => (isObject(part) && isString(part.text) ? [part.text] : []));
  return texts.length ? texts.join('\n') : null;
};

/** Incremental parser: `push` each raw line in order, then `finish()` once. Never throws on a bad line. */
export class RolloutParser {
  private lineNo = 0;
  private agentSessionId: string | null = null;
  private cwd: string | null = null;
  private readonly runs: ParsedRun[] = [];
  private readonly runsById = new Map<string, ParsedRun>();
  private readonly toolCalls: ParsedToolCall[] = [];
  private readonly callsById = new Map<string, ParsedToolCall>();
  private readonly skippedLines: SkippedLine[] = [];

  /** Feeds one line (without its newline). */
  push(raw: string): void {
    this.lineNo++;
    if (!raw.trim()) return;
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      this.skippedLines.push({ line: this.lineNo, reason: 'invalid_json' });
      return;
    }
    if (!isObject(line) || !isString(line.type) || !KNOWN.has(line.type) || !isObject(line.payload)) {
      this.skippedLines.push({ line: this.lineNo, reason: 'unknown_shape' });
      return;
    }
    const at = isString(line.timestamp) ? line.timestamp : new Date(0).toISOString();
    const payload = line.payload;
    if (line.type === 'session_meta') {
      this.agentSessionId ??= isString(payload.id) ? payload.id : isString(payload.session_id) ? payload.session_id : null;
      this.cwd ??= isString(payload.cwd) ? payload.cwd : null;
    } else if (line.type === 'event_msg') {
      this.event(payload, at, line);
    } else if (line.type === 'response_item') {
      this.responseItem(payload, at);
    }
  }

  private currentRun(): ParsedRun | undefined {
    return this.runs.at(-1);
  }

  private event(payload: Json, at: string, line: Json): void {
    const turnId = isString(payload.turn_id) ? payload.turn_id : null;
    switch (payload.type) {
      case 'task_started': {
        if (!turnId || this.runsById.has(turnId)) return;
        const run: ParsedRun = { runId: turnId, prompt: '', startedAt: at, endedAt: null, line: this.lineNo };
        this.runs.push(run);
        this.runsById.set(turnId, run);
        return;
      }
      case 'user_message': {
        const run = this.currentRun();
        if (run && !run.prompt && isString(payload.message)) run.prompt = payload.message;
        return;
      }
      case 'task_complete':
      case 'turn_aborted': {
        const run = (turnId && this.runsById.get(turnId)) || this.currentRun();
        if (!run) return;
        run.endedAt = at;
        if (payload.type === 'turn_aborted') run.failure = `aborted: ${isString(payload.reason) ? payload.reason : 'interrupted'}`;
        return;
      }
      case 'error': {
        const run = this.currentRun();
        if (run && run.endedAt === null && isString(payload.message)) run.failure = payload.message;
        return;
      }
      case 'item_completed': {
        const item = completedItemOf(line);
        if (!item) return;
        if (item.type === 'UserMessage') {
          const run = this.currentRun();
          const text = contentText(item.content);
          if (run && !run.prompt && text) run.prompt = text;
          return;
        }
        const call = isString(item.id) ? this.callsById.get(item.id) : undefined;
        const result = completedItemResult(item);
        if (call && result) call.result = { status: result.status, output: result.output ?? null, structured: item, at, line: this.lineNo };
        return;
      }
      default:
        return;
    }
  }

  private responseItem(payload: Json, at: string): void {
    if ((payload.type === 'function_call' || payload.type === 'custom_tool_call') && isString(payload.call_id)) {
      if (this.callsById.has(payload.call_id) || (isString(payload.name) && INTERNAL_TOOLS.has(payload.name))) return;
      const { tool, input } = hookToolOf(payload);
      const call: ParsedToolCall = { callId: payload.call_id, runId: this.currentRun()?.runId ?? null, tool, input, requestedAt: at, line: this.lineNo, result: null };
      this.toolCalls.push(call);
      this.callsById.set(call.callId, call);
      return;
    }
    if ((payload.type === 'function_call_output' || payload.type === 'custom_tool_call_output') && isString(payload.call_id)) {
      const call = this.callsById.get(payload.call_id);
      // A call that ran has an item_completed (the better record: exit code, status). An output without one is what
      // the model was told about a call that never ran (blocked by a PreToolUse hook, refused): failed. A later
      // item_completed (written after the output) replaces it.
      if (call && !call.result) call.result = { status: 'failed', output: payload.output ?? null, at, line: this.lineNo };
    }
  }

  /** The summary of every line pushed. */
  finish(): ParsedTranscript {
    return {
      agentSessionId: this.agentSessionId, cwd: this.cwd, runs: this.runs, toolCalls: this.toolCalls, skippedLines: this.skippedLines, lineCount: this.lineNo,
    };
  }
}

/** Parses a whole rollout held in memory (a trailing newline adds no line). */
export const parseRollout = (text: string): ParsedTranscript => {
  const parser = new RolloutParser();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) parser.push(line);
  return parser.finish();
};

/** Parses the rollout file at `filePath`, streaming it; rejects on an I/O error (a missing file). */
export const parseRolloutFile = async (filePath: string): Promise<ParsedTranscript> => {
  const parser = new RolloutParser();
  const lines = createInterface({ input: createReadStream(filePath, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) parser.push(line);
  return { ...parser.finish(), transcriptPath: filePath };
};
