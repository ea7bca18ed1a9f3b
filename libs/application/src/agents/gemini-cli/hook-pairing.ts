import { isDeepStrictEqual } from 'node:util';
import { DIVERGENCE_KINDS, hasResult, type Session, type ToolCall, type TranscriptCallFact } from '@runledger/domain';
import { geminiCallOutcome } from '@runledger/infra/agents/gemini-cli/chat-parser';
import type { HookDialect, RecordedToolResult } from '../agent-adapter';

/*
 * Gemini CLI's hooks in runledger's words (docs/ARCHITECTURE.md §4d). Its command hooks (0.61.0) send
 * `{session_id, transcript_path, cwd, hook_event_name, timestamp, tool_name, tool_input, tool_response?}` and carry no call
 * id, and its chat file records a model turn's calls only once they all completed. So a BeforeTool is checkpointed under
 * a hook id, `gemini:<agent session>:<tool>:<n>` (the n-th call of that tool the hooks saw in that conversation), its
 * AfterTool is paired with the oldest call of the same tool and input still waiting for its result (a turn's independent
 * calls run in parallel, `wait_for_previous: true` makes one wait), and at every reconcile the chat file's calls are paired with the hook ids by
 * order per tool and input: the chat file's n-th call of a tool is the hooks' n-th call of it when their inputs agree.
 */

/** Gemini CLI hook events and the Claude Code events runledger records them as (others are kept under their own name). */
export const GEMINI_HOOK_EVENTS: Readonly<Record<string, string>> = {
  SessionStart: 'SessionStart',
  BeforeAgent: 'UserPromptSubmit',
  BeforeTool: 'PreToolUse',
  AfterTool: 'PostToolUse',
  AfterAgent: 'Stop',
  SessionEnd: 'SessionEnd',
};

/** The tool_use_id a mapped tool hook carries until `hookCallId` names its call (it never reaches the log). */
export const PENDING_CALL_ID = 'gemini:pending';

/** Prefix of the hook ids of `tool` in the conversation `agentSessionId`. */
export const hookIdPrefix = (agentSessionId: string, tool: string): string => `gemini:${agentSessionId}:${tool}:`;

/** The hook ids' ordinal (1-based), or undefined for an id that is not a hook id of that prefix. */
const ordinal = (callId: string, prefix: string): number | undefined => {
  if (!callId.startsWith(prefix)) return undefined;
  const n = Number(callId.slice(prefix.length));
  return Number.isInteger(n) && n > 0 ? n : undefined;
};

/** The session's calls under hook ids of `tool` in `agentSessionId`, by ordinal. */
const hookCalls = (session: Session, agentSessionId: string, tool: string): ToolCall[] => {
  const prefix = hookIdPrefix(agentSessionId, tool);
  return session.toolCalls
    .values()
    .filter((call) => ordinal(call.callId, prefix) !== undefined)
    .sort((a, b) => ordinal(a.callId, prefix)! - ordinal(b.callId, prefix)!);
};

/**
 * The call a Gemini tool hook is about (pure). BeforeTool: a new hook id (ordinal one past the last), unless the last call
 * of that tool still waits for its result with the same input (the same hook delivered again after a lost answer).
 * AfterTool: the oldest call of that tool still waiting for its result with the same input (Gemini runs a turn's
 * independent calls in parallel, so their AfterTools may come in another order), else the oldest waiting; with none
 * waiting, the last call when it has its result and the same input (the AfterTool delivered again), else a new hook id
 * (its BeforeTool never recorded). Two calls of one tool with the same input in flight at once cannot be told apart.
 */
export const hookCallId = (input: { hook_event_name: string; session_id: string; tool_name: string; tool_input?: unknown }, session: Session, redact: <T>(value: T) => T): string => {
  const calls = hookCalls(session, input.session_id, input.tool_name);
  const waiting = calls.filter((call) => call.status === 'dispatched');
  const prefix = hookIdPrefix(input.session_id, input.tool_name);
  const next = `${prefix}${calls.length ? ordinal(calls.at(-1)!.callId, prefix)! + 1 : 1}`;
  if (input.hook_event_name === 'PreToolUse') {
    const last = calls.at(-1);
    return last && last.status === 'dispatched' && isDeepStrictEqual(last.input, redact(input.tool_input ?? null)) ? last.callId : next;
  }
  const input_ = redact(input.tool_input ?? null);
  const last = calls.at(-1);
  // No call of the tool waits and the last one already has its result for this input: the same AfterTool delivered again
  // (a server that committed it died before answering, and the hook asked again). A new call whose BeforeTool went
  // unrecorded is still found at the next reconcile: its chat-file call then stays unpaired and is appended.
  if (waiting.length === 0 && last !== undefined && hasResult(last) && isDeepStrictEqual(last.input, input_)) return last.callId;
  return (waiting.find((call) => isDeepStrictEqual(call.input, input_)) ?? waiting[0])?.callId ?? next;
};

/**
 * True when the chat file can never hold `call`: interrupted, and reported `call_only_in_log` (its Gemini died before
 * writing the turn, and a resumed Gemini never writes a call cut by the kill, measured on 0.61.0).
 */
const lostWithItsAgent = (call: ToolCall, session: Session): boolean =>
  call.status === 'interrupted' && session.divergences.some((d) => d.callId === call.callId && d.kind === DIVERGENCE_KINDS.callOnlyInLog);

/**
 * The chat file's calls with the ids the log knows them by (pure): a call already in the log by its chat id keeps it; a
 * call an earlier reconcile identified (ToolCallIdentified) takes its hook id; otherwise, per tool in order, the first hook
 * call of that tool (in the chat file's conversation) not yet paired whose input equals the chat call's is its id, a call
 * lost with its dead agent never (the resumed Gemini runs the same command again as a new call). A paired call carries
 * its chat id as `agentCallId` (reconcile records it once); one left unpaired keeps its chat id (appended).
 */
export const pairTranscriptCalls = (calls: TranscriptCallFact[], session: Session, redact: <T>(value: T) => T, agentSessionId: string | undefined): TranscriptCallFact[] => {
  if (!agentSessionId) return calls;
  const paired = new Set<string>();
  const pending = new Map<string, ToolCall[]>();
  const candidates = (tool: string): ToolCall[] => {
    if (!pending.has(tool)) pending.set(tool, hookCalls(session, agentSessionId, tool).filter((call) => !lostWithItsAgent(call, session)));
    return pending.get(tool)!;
  };
  const identified = new Map(session.toolCalls.values().flatMap((call) => (call.agentCallId !== undefined ? [[call.agentCallId, call.callId] as const] : [])));
  for (const callId of identified.values()) paired.add(callId);
  return calls.map((fact) => {
    if (session.toolCalls.get(fact.callId)) return fact;
    const known = identified.get(fact.callId); // paired at an earlier reconcile, its id recorded
    if (known !== undefined) return { ...fact, callId: known, agentCallId: fact.callId };
    const input = redact(fact.input ?? null);
    const match = candidates(fact.tool).find((call) => !paired.has(call.callId) && isDeepStrictEqual(call.input, input));
    if (!match) return fact;
    paired.add(match.callId);
    return { ...fact, callId: match.callId, agentCallId: fact.callId };
  });
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Gemini hook payload in Claude Code's shape (pure): event names mapped, a tool hook given PENDING_CALL_ID; anything else as sent. */
export const geminiHookPayload = (body: unknown): unknown => {
  if (!isObject(body) || typeof body.hook_event_name !== 'string') return body;
  const event = GEMINI_HOOK_EVENTS[body.hook_event_name] ?? body.hook_event_name;
  const mapped: Json = { ...body, hook_event_name: event };
  if (event === 'PreToolUse' || event === 'PostToolUse') mapped.tool_use_id = PENDING_CALL_ID;
  if (event === 'Stop' && typeof body.prompt_response === 'string') mapped.last_assistant_message = body.prompt_response;
  return mapped;
};

/** How a Gemini tool call ended, from its AfterTool payload (`tool_response: {llmContent, returnDisplay, error?}`). */
export const geminiHookResult = (input: { tool_name: string; tool_response?: unknown }): RecordedToolResult => {
  const response = isObject(input.tool_response) ? input.tool_response : {};
  const error = isObject(response.error) ? (typeof response.error.message === 'string' ? response.error.message : JSON.stringify(response.error)) : typeof response.error === 'string' ? response.error : undefined;
  const outcome = geminiCallOutcome(input.tool_name, error !== undefined ? 'error' : 'success', response.llmContent);
  return { status: outcome.status, output: input.tool_response ?? null, ...(outcome.exitCode !== undefined ? { exitCode: outcome.exitCode } : {}), ...(error !== undefined ? { error } : {}) };
};

/** runledger's answer in Gemini's words: a PreToolUse deny becomes `{decision: "deny", reason}`; an allow, nothing to say. */
export const geminiHookAnswer = (output: Record<string, unknown>): Record<string, unknown> => {
  const specific = isObject(output.hookSpecificOutput) ? output.hookSpecificOutput : undefined;
  if (specific?.permissionDecision === 'deny') return { decision: 'deny', reason: String(specific.permissionDecisionReason ?? 'denied by runledger') };
  return {};
};

/** The hook dialect of Gemini CLI (AgentAdapter.hookDialect). */
export const GEMINI_HOOK_DIALECT: HookDialect = {
  payload: geminiHookPayload,
  callId: hookCallId,
  result: geminiHookResult,
  answer: geminiHookAnswer,
  pairTranscriptCalls: (calls, session, redact) => pairTranscriptCalls(calls, session, redact, session.agentSessionId),
};
