import type { HookInputOf } from '@runledger/infra/agents/claude-code/hook-protocol';
import { textOf } from '@runledger/infra/agents/claude-code/transcript-lines';
import type { ParsedTranscript } from '@runledger/infra/agents/claude-code/transcript-parser';

/*
 * Test-only synthesis: the hook inputs Claude Code would have posted for a recorded transcript, typed by the one hook
 * protocol model runledger uses live (libs/infra/src/agents/claude-code/hook-protocol.ts). Suites replay real fixtures
 * through the live hook route with it.
 */

/** The events a transcript replay produces. */
type ReplayedEvent = 'SessionStart' | 'UserPromptSubmit' | 'PreToolUse' | 'PostToolUse' | 'PostToolUseFailure' | 'Stop' | 'SessionEnd';

/** Any hook input `hookCallsFromTranscript` produces, discriminated by `hook_event_name` (the live protocol's shapes). */
export type ClaudeCodeHookInput = { [E in ReplayedEvent]: HookInputOf<E> & { transcript_path: string; cwd: string } }[ReplayedEvent];

/** The fields every replayed input carries. */
interface HookCommonInput {
  session_id: string;
  transcript_path: string;
  cwd: string;
}

/** Text of a `tool_result` content (string as is, text blocks joined, anything else as JSON). */
const errorText = (output: unknown): string => {
  if (typeof output === 'string') return output;
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
