import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { classifyLine, ParsedToolResult, SkippedLine, toResult } from './transcript-lines';

/*
 * Claude Code transcript parser: runs and tool calls (with their results) of a whole transcript, from the lines
 * `transcript-lines.ts` classifies. Sub-agent transcripts are found by `subagent-transcripts.ts`; the hook protocol is
 * `hook-protocol.ts`.
 */

export { KNOWN_LINE_TYPES } from './transcript-lines';
export type { ParsedToolResult, SkippedLine, SkipReason, TranscriptLineType } from './transcript-lines';

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
  /** The turn ended on an API error Claude Code gave up on (`<error>: API Error: …`); absent when it did not. */
  failure?: string;
}

/**
 * One model call's usage as the agent's record holds it (docs/ARCHITECTURE.md §4g): Claude Code writes one API message
 * over several lines, each with the message's usage so far, so the last line of the message gives its figures.
 */
export interface ParsedModelCall {
  /** The call's own id: Claude Code's `message.id`, Codex's `response_id`. */
  key: string;
  model: string | null;
  /** The run it belongs to; `null` before the first prompt. */
  runId: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  /** ISO timestamp of the call's first line. */
  at: string;
  /** False while the call's line is the last of the record (the agent may still write more of it): live reconciles skip it. */
  complete: boolean;
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
  /** Usage per model call in record order (absent from parsers that read none). */
  usage?: ParsedModelCall[];
  /** The file it was read from, when parsed with `parseTranscriptFile`. */
  transcriptPath?: string;
}

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
  private readonly usage: ParsedModelCall[] = [];
  private readonly usageByKey = new Map<string, ParsedModelCall>();
  /** The model call whose lines came last: complete once a line of something else follows. */
  private openCall: ParsedModelCall | undefined;

  /** Consumes the next raw line (without its newline). */
  push(raw: string): void {
    this.lineNo++;
    const text = this.lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (text.trim() === '') return;
    const c = classifyLine(text);
    this.trackUsage(c);
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
        if (run && c.apiError !== undefined) run.failure = c.apiError;
        else if (run && (c.toolUses.length > 0 || c.hasText)) delete run.failure; // the turn went on after a retry
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

  /** Notes the usage of an assistant line (the last line of a message wins) and completes the call before it. */
  private trackUsage(c: ReturnType<typeof classifyLine>): void {
    const usage = c.kind === 'assistant' ? c.usage : undefined;
    // Another message, a prompt, a tool result or a turn's end follows only once the message is written whole
    // (progress and other lines may come between the lines of one message).
    const follows = c.kind === 'assistant' ? this.openCall?.key !== usage?.messageId : c.kind !== 'skip' && c.kind !== 'ignore';
    if (this.openCall && follows) this.openCall.complete = true;
    if (c.kind !== 'assistant' || usage === undefined) return;
    const { messageId, ...counts } = usage;
    const known = this.usageByKey.get(messageId);
    if (known) {
      Object.assign(known, counts);
      this.openCall = known;
      return;
    }
    const run = this.currentRun();
    const call: ParsedModelCall = { key: messageId, ...counts, runId: run ? run.runId : null, at: c.at, complete: false };
    this.usage.push(call);
    this.usageByKey.set(messageId, call);
    this.openCall = call;
  }

  /** Ends the input and returns the parsed transcript; the parser must not be used afterwards. */
  finish(): ParsedTranscript {
    this.closeRun(true);
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
