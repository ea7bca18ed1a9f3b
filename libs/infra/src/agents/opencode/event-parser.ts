import type { ParsedModelCall, ParsedRun, ParsedToolCall, ParsedToolResult, ParsedTranscript, SkippedLine } from '../claude-code/transcript-parser';

/*
 * OpenCode's own record of a session (opencode-ai 1.18.33): the `event` table of `$XDG_DATA_HOME/opencode/opencode.db`,
 * an append-only log per session (`aggregate_id` = the session id, `seq` contiguous from 0, `type`, `data` JSON), read
 * into the transcript summary shared with Claude Code and Codex (`ParsedTranscript`). Shapes (test fixture
 * `testdata/five-calls.events.json`, recorded from the real CLI):
 * - `session.created.1` / `session.updated.1` `{sessionID, info: {id, directory, …}}`;
 * - `message.updated.1` `{sessionID, info: {id, role: user|assistant, parentID (assistant: its user message), time:
 *   {created, completed?}, modelID, providerID, finish?: "tool-calls"|"stop"|…, error?}}`, written again as it changes;
 * - `message.part.updated.1` `{sessionID, part: {id, messageID, type, …}, time}`: `text` (a user message's text is its
 *   prompt), `step-start`, `step-finish {reason, cost, tokens: {input, output, reasoning, cache: {read, write}}}` (one
 *   model call), `patch`, and `tool {callID, tool, state: {status: pending|running|completed|error, input, output?,
 *   metadata?, error?, time: {start, end?}}}`, written at each state change.
 * A user message is a run (its id the run id); the run ended once an assistant answer to it finished with a reason other
 * than `tool-calls` and has its `time.completed`. A call's result is its last state: `completed` (a bash call with a
 * non-zero `metadata.exit` is `failed`, with that exit code: OpenCode itself calls it completed) or `error` (`failed`);
 * `pending`/`running` is a call without a result (cut short). Rows whose `data` is not a JSON object are skipped.
 */

/** One row of OpenCode's `event` table (`data` as stored: JSON text, or already parsed). */
export interface OpencodeEventRow {
  aggregate_id?: string;
  seq: number;
  type: string;
  data: unknown;
}


type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const iso = (ms: unknown, fallback: string): string => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : fallback);

/** The event types this parser reads; any other type is counted and ignored (OpenCode adds types freely). */
export const KNOWN_OPENCODE_EVENT_TYPES = ['session.created.1', 'session.updated.1', 'message.updated.1', 'message.part.updated.1'] as const;

/**
 * The result of one tool part's state, as runledger records it: `completed` unless OpenCode's bash reports a non-zero
 * `metadata.exit` (then `failed` with `exitCode`) or the state is `error` (`failed`, its error text as the output); null while the
 * call is `pending` or `running` (no result yet).
 */
export const opencodeToolResult = (state: unknown, at: string, line: number): ParsedToolResult | null => {
  if (!isObject(state)) return null;
  const metadata = isObject(state.metadata) ? state.metadata : {};
  const exitCode = typeof metadata.exit === 'number' ? metadata.exit : undefined;
  if (state.status === 'completed') {
    const failed = exitCode !== undefined && exitCode !== 0;
    return {
      status: failed ? 'failed' : 'completed', output: state.output ?? null, structured: metadata, at, line,
      ...(exitCode !== undefined ? { exitCode } : {}),
    };
  }
  if (state.status === 'error') {
    return { status: 'failed', output: isString(state.error) ? state.error : 'tool failed', at, line, ...(exitCode !== undefined ? { exitCode } : {}) };
  }
  return null;
};

const parseData = (data: unknown): Json | null => {
  if (isObject(data)) return data;
  if (!isString(data)) return null;
  try {
    const parsed = JSON.parse(data) as unknown;
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
};

/**
 * Reads one session's `event` rows (in `seq` order; other sessions' rows, by `aggregate_id`, are left out when
 * `agentSessionId` is given) into the transcript summary: runs (user messages), tool calls with OpenCode's `callID`,
 * their results, usage per model call (`step-finish` parts; cost is OpenCode's own, not kept here). `line` is the
 * row's `seq`. Never throws: a row that cannot be read is a skipped line.
 */
export const parseOpencodeEvents = (rows: readonly OpencodeEventRow[], agentSessionId?: string): ParsedTranscript => {
  const ordered = rows.filter((r) => !agentSessionId || r.aggregate_id === undefined || r.aggregate_id === agentSessionId).slice().sort((a, b) => a.seq - b.seq);
  const skippedLines: SkippedLine[] = [];
  let sessionId: string | null = agentSessionId ?? null;
  let cwd: string | null = null;
  const runs = new Map<string, ParsedRun>();
  /** Assistant message id → its user message (run) and model. */
  const messages = new Map<string, { runId: string; model: string | null }>();
  const calls = new Map<string, ParsedToolCall>();
  const usage = new Map<string, ParsedModelCall>();
  const promptPart = new Map<string, string>(); // user message id → text of its first text part
  for (const row of ordered) {
    const data = parseData(row.data);
    if (!data) {
      skippedLines.push({ line: row.seq, reason: 'invalid_json' });
      continue;
    }
    const rowAt = iso(data.time, new Date(0).toISOString());
    if (row.type === 'session.created.1' || row.type === 'session.updated.1') {
      const info = isObject(data.info) ? data.info : {};
      if (sessionId === null && isString(info.id)) sessionId = info.id;
      if (cwd === null && isString(info.directory)) cwd = info.directory;
      continue;
    }
    if (row.type === 'message.updated.1') {
      const info = isObject(data.info) ? data.info : null;
      if (!info || !isString(info.id)) continue;
      const time = isObject(info.time) ? info.time : {};
      if (info.role === 'user') {
        const run = runs.get(info.id) ?? { runId: info.id, prompt: promptPart.get(info.id) ?? '', startedAt: iso(time.created, rowAt), endedAt: null, line: row.seq };
        runs.set(info.id, run);
      } else if (info.role === 'assistant' && isString(info.parentID)) {
        const model = isString(info.modelID) ? `${isString(info.providerID) ? `${info.providerID}/` : ''}${info.modelID}` : null;
        messages.set(info.id, { runId: info.parentID, model });
        const run = runs.get(info.parentID);
        const finished = isString(info.finish) && info.finish !== 'tool-calls' && typeof time.completed === 'number';
        if (run && finished) run.endedAt = iso(time.completed, rowAt);
        if (run && isObject(info.error)) run.failure = `${String(info.error.name ?? 'error')}: ${String((isObject(info.error.data) && info.error.data.message) || '')}`.replace(/: $/, '');
      }
      continue;
    }
    if (row.type !== 'message.part.updated.1') continue;
    const part = isObject(data.part) ? data.part : null;
    if (!part || !isString(part.messageID)) continue;
    const owner = messages.get(part.messageID);
    if (part.type === 'text' && isString(part.text) && !part.synthetic) {
      const run = runs.get(part.messageID);
      if (run && !run.prompt) run.prompt = part.text;
      if (!run && !promptPart.has(part.messageID)) promptPart.set(part.messageID, part.text);
    } else if (part.type === 'tool' && isString(part.callID) && isString(part.tool)) {
      const state = isObject(part.state) ? part.state : {};
      const time = isObject(state.time) ? state.time : {};
      const known = calls.get(part.callID);
      const input = isObject(state.input) && Object.keys(state.input).length > 0 ? state.input : (known?.input ?? state.input ?? null);
      const call: ParsedToolCall = known ?? { callId: part.callID, runId: owner?.runId ?? null, tool: part.tool, input, requestedAt: iso(time.start, rowAt), line: row.seq, result: null };
      call.input = input;
      if (typeof time.start === 'number') call.requestedAt = iso(time.start, rowAt);
      call.result = opencodeToolResult(state, iso(time.end, rowAt), row.seq) ?? call.result;
      calls.set(part.callID, call);
    } else if (part.type === 'step-finish' && isString(part.id)) {
      const tokens = isObject(part.tokens) ? part.tokens : {};
      const cache = isObject(tokens.cache) ? tokens.cache : {};
      usage.set(part.id, {
        key: part.id, model: owner?.model ?? null, runId: owner?.runId ?? null,
        inputTokens: num(tokens.input), outputTokens: num(tokens.output) + num(tokens.reasoning), cacheReadTokens: num(cache.read), cacheCreationTokens: num(cache.write),
        at: rowAt, complete: true,
      });
    }
  }
  return {
    agentSessionId: sessionId, cwd, runs: [...runs.values()], toolCalls: [...calls.values()], skippedLines, lineCount: ordered.length, usage: [...usage.values()],
  };
};
