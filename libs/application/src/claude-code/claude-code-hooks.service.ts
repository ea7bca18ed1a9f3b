import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainError } from '@runledger/domain';
import {
  HookInputError,
  HookOutput,
  parseHookInput,
  ParsedHookInput,
  preToolUseDecision,
} from '@runledger/infra/claude-code/hook-protocol';
import { CommandContext } from '../event-sourcing/command-context';
import { SessionStreams } from '../sessions/session-streams';
import { SecretRedaction } from '../tool-calls/secret-redaction';
import { AgentSessionDirectory } from './agent-session-directory';
import { hookCommands } from './hook-commands';

/** Checks a hook input against the protocol model; throws HOOK.INVALID (400) naming the field. */
export const parseHookBody = (body: unknown): ParsedHookInput => {
  try {
    return parseHookInput(body);
  } catch (error) {
    if (error instanceof HookInputError) throw new DomainError('HOOK.INVALID', 'invalid', error.problem.message, { field: error.problem.field });
    throw error;
  }
};

/**
 * Claude Code's hooks as session events (DESIGN §4a): every event Claude Code sends is accepted and kept, unknown ones
 * too (`hookCommands` says what each one changes). PreToolUse commits `ToolCallDispatched` BEFORE answering allow
 * (invariant 4); results are appended as they arrive (invariant 5). The session comes from the `X-Runledger-Session`
 * header of the settings runledger generated (or the session credential), else from Claude's `session_id`; an unknown
 * Claude session becomes an external session of the project whose repository holds its `cwd` (404 when none does).
 */
@Injectable()
export class ClaudeCodeHooks {
  constructor(
    private readonly sessions: SessionStreams,
    private readonly directory: AgentSessionDirectory,
    private readonly redaction: SecretRedaction,
  ) {}

  /** Records one hook call; throws HOOK.INVALID (400), SESSION.NOT_FOUND / PROJECT.NOT_FOUND_FOR_CWD (404), 409 refusals. */
  async handle(body: unknown, headerSessionId: string | undefined, context: CommandContext): Promise<HookOutput> {
    const parsed = parseHookBody(body);
    const input = parsed.input;
    const sessionId =
      headerSessionId ??
      (await this.directory.findOrCreate(input.session_id, { cwd: input.cwd ?? null, transcriptPath: input.transcript_path }, context));
    const { state } = await this.sessions.load(sessionId);
    const { state: project } = await this.sessions.project(state.projectId);
    const redactor = this.redaction.forProject(project.env);
    const facts = { at: new Date().toISOString(), newRunId: randomUUID, redact: <T>(value: T): T => redactor.redact(value) };
    await this.sessions.decide(sessionId, (s) => (s.status === 'none' ? [] : hookCommands(parsed, s, facts)), context);
    if (input.hook_event_name !== 'PreToolUse') return {};
    return preToolUseDecision('allow', `runledger recorded ${String(input.tool_use_id)} in ${sessionId}`);
  }
}
