import { hash } from 'node:crypto';
import type { LedgerSpan, LedgerSpanAttributes } from '@runledger/domain';

/**
 * GenAI semantic-convention attribute names (OpenTelemetry semantic conventions 1.45.0, incubating; the package is pinned
 * and `log-spans.spec.ts` compares every name here with it, since its incubating entry point needs `exports` resolution).
 */
export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  agentId: 'gen_ai.agent.id',
  agentName: 'gen_ai.agent.name',
  conversationId: 'gen_ai.conversation.id',
  providerName: 'gen_ai.provider.name',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  cacheCreationTokens: 'gen_ai.usage.cache_creation.input_tokens',
  errorType: 'error.type',
  invokeAgent: 'invoke_agent',
  executeTool: 'execute_tool',
} as const;

/** What of a call's input and output leaves in a span (`RUNLEDGER_OTEL_CONTENT`): nothing, or the log's text as stored (redacted before append). */
export type SpanContentMode = 'none' | 'redacted';

/** Longest text of one input or output attribute, in characters; longer text is cut and ends with `…[truncated]`. */
export const SPAN_CONTENT_MAX_CHARS = 16_384;

/** A run the exporter saw start and not yet end. */
export interface OpenRun {
  startMs: number;
  parentRunId?: string;
  agentType?: string;
  usage?: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number };
}

/** A tool-call attempt the exporter saw dispatched and not yet ended. */
export interface OpenCall {
  callId: string;
  attempt: number;
  tool: string;
  runId?: string;
  startMs: number;
  /** Dispatched from the transcript by a reconcile (the log never saw it live). */
  healed: boolean;
  input?: string;
}

/** The exporter's state of one session's trace: what its spans need from earlier events (kept beside the export checkpoint). */
export interface TraceState {
  agent?: string;
  conversationId?: string;
  runs: Record<string, OpenRun>;
  calls: Record<string, OpenCall>;
}

/** The fields of a stored event the mapping reads. */
export interface LogEventLike {
  streamId: string;
  type: string;
  data: unknown;
}

/** Session id of a `session-<id>` stream, else null. */
export const sessionOfStream = (streamId: string): string | null => (streamId.startsWith('session-') ? streamId.slice('session-'.length) : null);

/** The first `chars` hex digits of sha256(text) (`crypto.hash`: one call, no Hash object, about half the time of createHash for ids this short). */
const hex = (text: string, chars: number): string => hash('sha256', text, 'hex').slice(0, chars);

const traceIds = new Map<string, string>();
/** Trace id of a session (32 hex chars), the same on every export: sha256 of the session id (the last 10,000 kept). */
export const traceIdOf = (sessionId: string): string => {
  let id = traceIds.get(sessionId);
  if (id === undefined) {
    if (traceIds.size >= 10_000) traceIds.clear();
    id = hex(`runledger-trace\0${sessionId}`, 32);
    traceIds.set(sessionId, id);
  }
  return id;
};
/** Span id of an agent run (16 hex chars), derived from the session and run ids. */
export const runSpanIdOf = (sessionId: string, runId: string): string => hex(`run\0${sessionId}\0${runId}`, 16);
/** Span id of one attempt of a tool call (16 hex chars), derived from the session, call id and attempt. */
export const callSpanIdOf = (sessionId: string, callId: string, attempt: number): string => hex(`call\0${sessionId}\0${callId}\0${attempt}`, 16);

const PROVIDERS: Record<string, string> = { 'claude-code': 'anthropic', codex: 'openai', 'gemini-cli': 'gcp.gemini' };

const text = (value: unknown): string => {
  const s = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return s.length > SPAN_CONTENT_MAX_CHARS ? `${s.slice(0, SPAN_CONTENT_MAX_CHARS)}…[truncated]` : s;
};

const emptyTrace = (): TraceState => ({ runs: {}, calls: {} });
const callKey = (callId: string, attempt: number) => `${callId}#${attempt}`;

/**
 * Folds a batch of log events (global order) into finished spans (docs/ARCHITECTURE.md §4g): an `invoke_agent` span per
 * agent run (a sub-agent's under its parent run), an `execute_tool` span per tool-call attempt (under its run), a trace
 * per session; start and end are the events' own times; a span is produced when its end event arrives (completed, failed
 * or interrupted), never before and never twice for the same events. `traces` holds each session's state (`load` gives
 * the stored one the first time a session is met) and is updated in place; returns the spans and the sessions whose
 * state changed. Events of other streams, and of kinds no span reads, change nothing.
 */
export const spansOfEvents = (
  events: readonly LogEventLike[],
  traces: Map<string, TraceState>,
  content: SpanContentMode,
): { spans: LedgerSpan[]; changed: Set<string> } => {
  const spans: LedgerSpan[] = [];
  const changed = new Set<string>();
  for (const event of events) {
    const sessionId = sessionOfStream(event.streamId);
    if (!sessionId) continue;
    const trace = traces.get(sessionId) ?? emptyTrace();
    traces.set(sessionId, trace);
    const span = foldEvent(sessionId, trace, event, content);
    if (span === undefined) continue;
    changed.add(sessionId);
    if (span) spans.push(span);
  }
  return { spans, changed };
};

type Data = Record<string, any>;

/** One event into the trace: a finished span, null when only the state changed, undefined when nothing changed. */
const foldEvent = (sessionId: string, trace: TraceState, event: LogEventLike, content: SpanContentMode): LedgerSpan | null | undefined => {
  const d = (event.data ?? {}) as Data;
  const at = Date.parse(String(d.at));
  switch (event.type) {
    case 'SessionStarted':
      trace.agent = d.observedAgent ?? d.agent;
      return null;
    case 'AgentSessionLinked':
      trace.conversationId = d.agentSessionId;
      return null;
    case 'AgentRunStarted':
      if (trace.runs[d.runId]) return undefined;
      trace.runs[d.runId] = { startMs: at, ...(d.parentRunId ? { parentRunId: d.parentRunId } : {}), ...(d.agentType ? { agentType: d.agentType } : {}) };
      return null;
    case 'UsageRecorded': {
      const run = d.runId ? trace.runs[d.runId] : undefined;
      if (!run) return undefined;
      const u = run.usage ?? { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
      run.usage = {
        inputTokens: u.inputTokens + (d.inputTokens ?? 0), outputTokens: u.outputTokens + (d.outputTokens ?? 0),
        cacheReadTokens: u.cacheReadTokens + (d.cacheReadTokens ?? 0), cacheCreationTokens: u.cacheCreationTokens + (d.cacheCreationTokens ?? 0),
      };
      return null;
    }
    case 'AgentRunCompleted':
    case 'AgentRunFailed':
    case 'AgentRunInterrupted': {
      const run = trace.runs[d.runId];
      if (!run) return undefined; // its span was already produced (a second end), or it started before this log
      delete trace.runs[d.runId];
      return runSpan(sessionId, trace, d.runId, run, event.type, d, at);
    }
    case 'ToolCallDispatched': {
      const key = callKey(d.callId, d.attempt);
      if (trace.calls[key]) return undefined;
      trace.calls[key] = {
        callId: d.callId, attempt: d.attempt, tool: d.tool, startMs: at, healed: d.source === 'transcript',
        ...(d.runId ? { runId: d.runId } : {}), ...(content === 'redacted' && d.input !== undefined ? { input: text(d.input) } : {}),
      };
      return null;
    }
    case 'ToolCallCompleted':
    case 'ToolCallFailed':
    case 'ToolCallInterrupted': {
      const key = callKey(d.callId, d.attempt);
      const call = trace.calls[key];
      if (!call) return undefined;
      delete trace.calls[key];
      return callSpan(sessionId, trace, call, event.type, d, at, content);
    }
    default:
      return undefined;
  }
};

/** The attributes every span of a session carries (a fresh object the caller adds to). */
const common = (sessionId: string, trace: TraceState, operation: string): LedgerSpanAttributes => {
  const attributes: LedgerSpanAttributes = {
    [GEN_AI.operationName]: operation,
    [GEN_AI.conversationId]: trace.conversationId ?? sessionId,
    'runledger.session.id': sessionId,
  };
  const provider = trace.agent ? PROVIDERS[trace.agent] : undefined;
  if (provider) attributes[GEN_AI.providerName] = provider;
  return attributes;
};

type SpanStatus = 'completed' | 'failed' | 'interrupted';

/** The span of a run or call that ended with `status` (its end event's `error` or `reason` as the error message). */
const endedSpan = (
  sessionId: string, spanId: string, parentSpanId: string | undefined, name: string, startMs: number, endMs: number,
  status: SpanStatus, d: Data, attributes: LedgerSpanAttributes,
): LedgerSpan => {
  const span: LedgerSpan = {
    traceId: traceIdOf(sessionId),
    spanId,
    name,
    kind: 'internal',
    startMs,
    endMs: Math.max(endMs, startMs),
    status: status === 'completed' ? { code: 'ok' } : { code: 'error', message: String(d.error ?? d.reason ?? status) },
    attributes,
  };
  if (parentSpanId) span.parentSpanId = parentSpanId;
  return span;
};

const runSpan = (sessionId: string, trace: TraceState, runId: string, run: OpenRun, type: string, d: Data, endMs: number): LedgerSpan => {
  const agentName = run.agentType ?? trace.agent ?? 'agent';
  const status: SpanStatus = type === 'AgentRunCompleted' ? 'completed' : type === 'AgentRunFailed' ? 'failed' : 'interrupted';
  const attributes = common(sessionId, trace, GEN_AI.invokeAgent);
  attributes[GEN_AI.agentId] = runId;
  attributes[GEN_AI.agentName] = agentName;
  attributes['runledger.run.status'] = status;
  if (status === 'interrupted') attributes['runledger.run.interrupted'] = true;
  if (status !== 'completed') attributes[GEN_AI.errorType] = status === 'failed' ? 'agent_run_failed' : 'interrupted';
  if (run.usage) {
    attributes[GEN_AI.inputTokens] = run.usage.inputTokens;
    attributes[GEN_AI.outputTokens] = run.usage.outputTokens;
    attributes[GEN_AI.cacheReadTokens] = run.usage.cacheReadTokens;
    attributes[GEN_AI.cacheCreationTokens] = run.usage.cacheCreationTokens;
  }
  const parent = run.parentRunId ? runSpanIdOf(sessionId, run.parentRunId) : undefined;
  return endedSpan(sessionId, runSpanIdOf(sessionId, runId), parent, `${GEN_AI.invokeAgent} ${agentName}`, run.startMs, endMs, status, d, attributes);
};

const callSpan = (sessionId: string, trace: TraceState, call: OpenCall, type: string, d: Data, endMs: number, content: SpanContentMode): LedgerSpan => {
  const status: SpanStatus = type === 'ToolCallCompleted' ? 'completed' : type === 'ToolCallFailed' ? 'failed' : 'interrupted';
  const attributes = common(sessionId, trace, GEN_AI.executeTool);
  attributes[GEN_AI.toolName] = call.tool;
  attributes[GEN_AI.toolCallId] = call.callId;
  attributes['runledger.tool_call.attempt'] = call.attempt;
  attributes['runledger.tool_call.status'] = status;
  if (d.source) attributes['runledger.tool_call.result_source'] = d.source;
  if (typeof d.exitCode === 'number') attributes['runledger.tool_call.exit_code'] = d.exitCode;
  if (status === 'interrupted') attributes['runledger.tool_call.interrupted'] = true;
  if (call.healed || d.source === 'transcript') attributes['runledger.tool_call.healed'] = true;
  if (status !== 'completed') attributes[GEN_AI.errorType] = status === 'failed' ? 'tool_call_failed' : 'interrupted';
  if (content === 'redacted' && call.input !== undefined) attributes[GEN_AI.toolCallArguments] = call.input;
  if (content === 'redacted' && d.output !== undefined) attributes[GEN_AI.toolCallResult] = text(d.output);
  const parent = call.runId ? runSpanIdOf(sessionId, call.runId) : undefined;
  return endedSpan(sessionId, callSpanIdOf(sessionId, call.callId, call.attempt), parent, `${GEN_AI.executeTool} ${call.tool}`, call.startMs, endMs, status, d, attributes);
};
