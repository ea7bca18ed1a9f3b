import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { describeControlCharacter, DomainError, Session, SessionCommand } from '@runledger/domain';
import { CommandContext } from '../event-sourcing/command-context';
import { SessionStreams } from '../sessions/session-streams';
import { SecretRedaction } from '../tool-calls/secret-redaction';
import { AgentSessionDirectory } from './agent-session-directory';

/** The hook events runledger records (Claude Code hook input `hook_event_name`). */
export const CLAUDE_HOOK_EVENTS = ['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'Stop', 'SessionEnd'] as const;
/** One of CLAUDE_HOOK_EVENTS. */
export type ClaudeHookEvent = (typeof CLAUDE_HOOK_EVENTS)[number];

/** A Claude Code hook input as posted (common fields plus the event's own). */
export interface ClaudeHookInput {
  hook_event_name: string;
  session_id: string;
  transcript_path?: string;
  cwd?: string;
  prompt?: string;
  tool_name?: string;
  tool_input?: unknown;
  tool_use_id?: string;
  tool_response?: unknown;
  error?: unknown;
  [field: string]: unknown;
}

/** The hook output JSON Claude Code reads; PreToolUse answers `allow` only once the checkpoint is committed. */
export type ClaudeHookOutput = { hookSpecificOutput?: { hookEventName: 'PreToolUse'; permissionDecision: 'allow'; permissionDecisionReason: string } };

const invalid = (field: string, message: string) => new DomainError('HOOK.INVALID', 'invalid', message, { field });
const requireString = (input: ClaudeHookInput, field: keyof ClaudeHookInput): string => {
  const value = input[field];
  if (typeof value !== 'string' || value.length === 0) throw invalid(String(field), `${String(field)} must be a non-empty string for ${input.hook_event_name}`);
  return value;
};

/** The hook fields that become ids, names or paths, and their longest accepted length (characters). */
export const HOOK_ID_FIELDS: Readonly<Record<string, number>> = {
  hook_event_name: 100, session_id: 200, tool_use_id: 200, tool_name: 200, transcript_path: 4096, cwd: 4096,
};

/** Throws HOOK.INVALID naming the field when an id/name/path field is present but not a plain string (no control character, within its length). */
export const checkHookFields = (input: ClaudeHookInput): void => {
  for (const [field, max] of Object.entries(HOOK_ID_FIELDS)) {
    const value = input[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw invalid(field, `${field} must be a string`);
    if (value.length > max) throw invalid(field, `${field} must be at most ${max} characters`);
    const control = describeControlCharacter(value);
    if (control) throw invalid(field, `${field} must not contain control characters (${control})`);
  }
};

/**
 * Claude Code's HTTP hooks as events (issue 4): SessionStart links Claude's session id and transcript path;
 * UserPromptSubmit starts an agent run; PreToolUse commits `ToolCallDispatched` BEFORE answering allow (DESIGN
 * invariant 4); PostToolUse / PostToolUseFailure append the result as it arrives (invariant 5); Stop and SessionEnd
 * complete the open runs. The session comes from the `X-Runledger-Session` header runledger wrote into the settings it
 * generated, else from Claude's `session_id`; an unknown Claude session becomes an external session of the project
 * whose repository holds its `cwd` (404 when none does).
 */
@Injectable()
export class ClaudeCodeHooks {
  constructor(
    private readonly sessions: SessionStreams,
    private readonly directory: AgentSessionDirectory,
    private readonly redaction: SecretRedaction,
  ) {}

  /** Records one hook call; throws HOOK.INVALID (400), SESSION.NOT_FOUND / PROJECT.NOT_FOUND_FOR_CWD (404), 409 refusals. */
  async handle(input: ClaudeHookInput, headerSessionId: string | undefined, context: CommandContext): Promise<ClaudeHookOutput> {
    checkHookFields(input);
    if (!CLAUDE_HOOK_EVENTS.includes(input.hook_event_name as ClaudeHookEvent)) {
      throw invalid('hook_event_name', `hook_event_name must be one of ${CLAUDE_HOOK_EVENTS.join(', ')}`);
    }
    const agentSessionId = requireString(input, 'session_id');
    const event = input.hook_event_name as ClaudeHookEvent;
    const sessionId =
      headerSessionId ??
      (await this.directory.findOrCreate(agentSessionId, { cwd: input.cwd ?? null, transcriptPath: input.transcript_path }, context));
    const { state } = await this.sessions.load(sessionId);
    const { state: project } = await this.sessions.project(state.projectId);
    const redactor = this.redaction.forProject(project.env);
    const at = new Date().toISOString();
    const link: SessionCommand = {
      type: 'LinkAgentSession',
      data: { agentSessionId, at, ...(input.transcript_path ? { transcriptPath: input.transcript_path } : {}) },
    };
    const openRuns = (s: Session) => Object.values(s.runs).filter((r) => r.status === 'started').map((r) => r.runId);
    const commandsFor = (s: Session): SessionCommand[] => {
      const linked = s.agentSessionId === agentSessionId && (!input.transcript_path || s.transcriptPath === input.transcript_path) ? [] : [link];
      switch (event) {
        case 'SessionStart':
          return [link];
        case 'UserPromptSubmit':
          return [...linked, { type: 'StartAgentRun', data: { runId: randomUUID(), at, ...(typeof input.prompt === 'string' ? { prompt: redactor.redact(input.prompt) } : {}) } }];
        case 'PreToolUse': {
          const runId = openRuns(s).at(-1);
          return [...linked, {
            type: 'DispatchToolCall',
            data: { callId: requireString(input, 'tool_use_id'), tool: requireString(input, 'tool_name'), input: redactor.redact(input.tool_input ?? null), mode: 'observed', at, ...(runId ? { runId } : {}) },
          }];
        }
        case 'PostToolUse':
        case 'PostToolUseFailure': {
          const callId = requireString(input, 'tool_use_id');
          const failed = event === 'PostToolUseFailure';
          const known = s.toolCalls.get(callId);
          if (known && (known.status === 'completed' || known.status === 'failed')) return linked; // a repeated hook call
          const dispatch: SessionCommand[] = s.toolCalls.get(callId)
            ? []
            : [{ type: 'DispatchToolCall', data: { callId, tool: requireString(input, 'tool_name'), input: redactor.redact(input.tool_input ?? null), mode: 'observed', at } }];
          return [...linked, ...dispatch, {
            type: 'RecordToolCallResult',
            data: {
              callId, status: failed ? 'failed' : 'completed', source: 'hook', at,
              ...(input.tool_response !== undefined ? { output: redactor.redact(input.tool_response) } : {}),
              ...(failed ? { error: redactor.redact(typeof input.error === 'string' ? input.error : JSON.stringify(input.error ?? 'tool failed')) } : {}),
            },
          }];
        }
        case 'Stop':
        case 'SessionEnd':
          return [...linked, ...openRuns(s).map((runId): SessionCommand => ({ type: 'CompleteAgentRun', data: { runId, at } }))];
      }
    };
    await this.sessions.decide(sessionId, (s) => (s.status === 'none' ? [] : commandsFor(s)), context);
    if (event !== 'PreToolUse') return {};
    return {
      hookSpecificOutput: {
        hookEventName: 'PreToolUse',
        permissionDecision: 'allow',
        permissionDecisionReason: `runledger recorded ${input.tool_use_id} in ${sessionId}`,
      },
    };
  }
}
