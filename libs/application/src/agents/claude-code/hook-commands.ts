import { isDeepStrictEqual } from 'node:util';
import { hasResult, Session, SessionCommand, ToolCall, toolCallRecorder } from '@runledger/domain';
import {
  activityAfter,
  COMMON_FIELDS,
  HookInputOf,
  KnownHookEvent,
  ParsedHookInput,
  UnknownHookInput,
} from '@runledger/infra/agents/claude-code/hook-protocol';
import type { RecordedToolResult } from '../agent-adapter';

/** What the mapping needs besides the hook input: the time, a fresh run id, and the project's redaction (from the tool-call intake's door). */
export interface HookFacts {
  at: string;
  /** A new run id, used when the hook carries no `prompt_id`. */
  newRunId: () => string;
  /** Redacts configured secrets and token patterns (invariant 12); tool calls are built by a recorder around it. */
  redact: <T>(value: T) => T;
  /**
   * At SessionEnd: the transcript's last turn ended on an API error Claude Code gave up on (`<error>: API Error: …`).
   * A one-shot agent exits before its StopFailure hook is delivered, so the open main run fails with this instead.
   */
  turnFailure?: string;
  /** At PostToolUse: the call's result as the agent's transcript holds it (AgentAdapter.hookToolResult), recorded instead of the payload's. */
  toolResult?: RecordedToolResult;
}

/** Run id of a Claude Code sub-agent: the same as a transcript import gives it (`subagent:agent-<agent_id>`). */
export const subagentRunId = (agentId: string): string => `subagent:agent-${agentId}`;

/** The hook events whose content other session events already hold (a run, a tool call, a sub-agent, the session end). */
const REPRESENTED: ReadonlySet<string> = new Set<KnownHookEvent>([
  'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'SubagentStart', 'SubagentStop', 'SessionEnd',
]);

const COMMON = new Set(['hook_event_name', ...Object.keys(COMMON_FIELDS)]);

/** The fields of `input` that are not common to every hook (kept as the event's detail). */
const ownFields = (input: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(input).filter(([field]) => !COMMON.has(field) || field === 'agent_id' || field === 'agent_type'));

const openRuns = (s: Session) => Object.values(s.runs).filter((r) => r.status === 'started');
const openMainRun = (s: Session) => openRuns(s).filter((r) => r.agentId === undefined && !r.runId.startsWith('subagent:')).at(-1)?.runId;

/** The run a tool call belongs to: its sub-agent's run when it ran inside one, else the open main run. */
const runOf = (s: Session, agentId: unknown): string | undefined => {
  if (typeof agentId === 'string' && s.runs[subagentRunId(agentId)]) return subagentRunId(agentId);
  return openMainRun(s);
};

/** The latest call still dispatched with this tool and (redacted) input: how a PermissionRequest (no tool_use_id) is joined. */
export const joinByToolAndInput = (s: Session, tool: string, input: unknown): ToolCall | undefined =>
  s.toolCalls.values()
    .filter((call) => call.status === 'dispatched' && call.tool === tool && isDeepStrictEqual(call.input, input))
    .sort((a, b) => (a.dispatchedAt < b.dispatchedAt ? -1 : 1))
    .at(-1);

type ToolHook = HookInputOf<'PreToolUse' | 'PostToolUse' | 'PostToolUseFailure' | 'PermissionDenied'>;

/** DispatchToolCall for a call the log does not know yet (a result whose PreToolUse was never recorded). */
const dispatchIfUnknown = (s: Session, input: ToolHook, facts: HookFacts): SessionCommand[] => {
  if (s.toolCalls.get(input.tool_use_id)) return [];
  const runId = runOf(s, input.agent_id);
  return [toolCallRecorder(facts.redact).dispatch({ callId: input.tool_use_id, tool: input.tool_name, input: input.tool_input ?? null, mode: 'observed', at: facts.at, runId })];
};

/** RecordToolCallResult unless the call's attempt already has its result or late result (a repeated hook call appends nothing). */
const result = (s: Session, input: ToolHook, status: 'completed' | 'failed', facts: HookFacts, output: unknown, error?: string, exitCode?: number): SessionCommand[] => {
  const known = s.toolCalls.get(input.tool_use_id);
  if (known && hasResult(known)) return [];
  return [...dispatchIfUnknown(s, input, facts), toolCallRecorder(facts.redact).result({ callId: input.tool_use_id, status, source: 'hook', at: facts.at, output, error, exitCode })];
};

const errorText = (error: unknown, fallback: string): string =>
  typeof error === 'string' && error ? error : error === undefined || error === null ? fallback : JSON.stringify(error);

/** What the hook itself changes: a run, a tool call, a sub-agent, the session's end (nothing for the other events). */
const ownCommands = (parsed: ParsedHookInput, s: Session, facts: HookFacts): SessionCommand[] => {
  if (!parsed.known) return [];
  const { at } = facts;
  const input = parsed.input;
  switch (input.hook_event_name) {
    case 'UserPromptSubmit': {
      const runId = input.prompt_id ?? facts.newRunId();
      return [{ type: 'StartAgentRun', data: { runId, prompt: facts.redact(input.prompt), at } }];
    }
    case 'PreToolUse':
      return dispatchIfUnknown(s, input, facts);
    case 'PostToolUse':
      return facts.toolResult
        ? result(s, input, facts.toolResult.status, facts, facts.toolResult.output ?? input.tool_response, facts.toolResult.error, facts.toolResult.exitCode)
        : result(s, input, 'completed', facts, input.tool_response);
    case 'PostToolUseFailure':
      return result(s, input, 'failed', facts, undefined, `${input.is_interrupt ? 'interrupted: ' : ''}${errorText(input.error, 'tool failed')}`);
    case 'PermissionDenied':
      return result(s, input, 'failed', facts, undefined, `permission denied: ${input.reason ?? 'no reason given'}`);
    case 'SubagentStart': {
      const runId = subagentRunId(input.agent_id);
      const parentRunId = openMainRun(s);
      return [{ type: 'StartAgentRun', data: { runId, agentId: input.agent_id, at, ...(input.agent_type ? { agentType: input.agent_type } : {}), ...(parentRunId ? { parentRunId } : {}) } }];
    }
    case 'SubagentStop': {
      const runId = subagentRunId(input.agent_id);
      const run = s.runs[runId];
      const start: SessionCommand[] = run
        ? []
        : [{ type: 'StartAgentRun', data: { runId, agentId: input.agent_id, at, ...(input.agent_type ? { agentType: input.agent_type } : {}) } }];
      if (run && run.status !== 'started') return [];
      return [...start, { type: 'CompleteAgentRun', data: { runId, at, ...(input.agent_transcript_path ? { transcriptPath: input.agent_transcript_path } : {}) } }];
    }
    case 'Stop':
      return openRuns(s).map((run): SessionCommand => ({ type: 'CompleteAgentRun', data: { runId: run.runId, at } }));
    case 'StopFailure': {
      // `<error>: <details>`, else `<error>: <the message the turn ended on>` (`unknown: API Error: …`), as the transcript says it.
      const detail = input.error_details || input.last_assistant_message;
      const error = `${input.error ?? 'unknown'}${detail ? `: ${detail}` : ''}`;
      return openRuns(s).map((run): SessionCommand => ({ type: 'FailAgentRun', data: { runId: run.runId, error: facts.redact(error), at } }));
    }
    case 'SessionEnd':
      return [
        ...openRuns(s).map((run): SessionCommand =>
          facts.turnFailure !== undefined && run.agentId === undefined && !run.runId.startsWith('subagent:')
            ? { type: 'FailAgentRun', data: { runId: run.runId, error: facts.redact(facts.turnFailure), at } }
            : { type: 'CompleteAgentRun', data: { runId: run.runId, at } }),
        { type: 'RecordAgentSessionEnded', data: { reason: input.reason ?? 'other', at } },
      ];
    default:
      return [];
  }
};

/** The detail kept for an event no other session event represents: its own fields, redacted (PermissionRequest joined to its call). */
const keptDetail = (parsed: ParsedHookInput, s: Session, facts: HookFacts): Record<string, unknown> => {
  const input = parsed.input as UnknownHookInput;
  if (parsed.known && parsed.input.hook_event_name === 'PermissionRequest') {
    const call = joinByToolAndInput(s, parsed.input.tool_name, facts.redact(parsed.input.tool_input ?? null));
    if (call) return { tool_name: parsed.input.tool_name, tool_use_id: call.callId };
  }
  if (parsed.known && parsed.input.hook_event_name === 'PostToolBatch') {
    // The calls' inputs and results are already in their own events: keep which calls the batch closed.
    return { tool_use_ids: parsed.input.tool_calls.map((c) => (c as { tool_use_id?: unknown })?.tool_use_id ?? null) };
  }
  return facts.redact(ownFields(input));
};

/**
 * The session commands one Claude Code hook input implies (docs/ARCHITECTURE.md §4a), pure: the agent's session link, what the
 * event changes (a run started, completed or failed; a tool call dispatched or given its result, joined by
 * `tool_use_id`; a sub-agent's run with its transcript; the session's end with its reason), the event itself kept as
 * `AgentHookReceived` when nothing else holds it (unknown events too), and the activity it reveals.
 */
export const hookCommands = (parsed: ParsedHookInput, s: Session, facts: HookFacts): SessionCommand[] => {
  const input = parsed.input;
  const { at } = facts;
  const transcriptPath = input.transcript_path || undefined;
  const linked = s.agentSessionId === input.session_id && (!transcriptPath || s.transcriptPath === transcriptPath);
  const link: SessionCommand[] = linked
    ? []
    : [{ type: 'LinkAgentSession', data: { agentSessionId: input.session_id, at, ...(transcriptPath ? { transcriptPath } : {}) } }];
  const kept: SessionCommand[] = REPRESENTED.has(input.hook_event_name)
    ? []
    : [{
        type: 'RecordAgentHook',
        data: { hook: input.hook_event_name, detail: keptDetail(parsed, s, facts), at, ...(input.agent_id ? { agentId: input.agent_id } : {}) },
      }];
  const activity = activityAfter(input);
  return [
    ...link,
    ...ownCommands(parsed, s, facts),
    ...kept,
    ...(activity ? [{ type: 'SetAgentActivity', data: { activity, hook: input.hook_event_name, at } } satisfies SessionCommand] : []),
  ];
};
