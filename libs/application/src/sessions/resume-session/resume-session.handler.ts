import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { agentCapabilities, DomainError, restorePolicy, SessionView } from '@runledger/domain';
import { ResumeSessionCommand, RestoreSessionCommand } from '../lifecycle.command';
import { SessionStreams } from '../session-streams';

/** Thrown when a session cannot be resumed: not `exited` or `interrupted`, or no way to continue its agent (409). */
export const sessionNotResumable = (sessionId: string, status: string, why: string): DomainError =>
  new DomainError('SESSION.NOT_RESUMABLE', 'conflict', `session ${sessionId} cannot be resumed: ${why}`, { sessionId, status });

/**
 * Resume on demand (docs/ARCHITECTURE.md §4, §5): an `exited` or `interrupted` session continues under the same id through the
 * restore path; a Claude Code session with a known agent session id resumes its conversation natively
 * (`claude --resume`, the new prompt or a continuation prompt), otherwise the agent starts fresh with the new prompt or
 * its original one. Refused SESSION.NOT_RESUMABLE (409) for other statuses or when nothing can be relaunched.
 */
@CommandHandler(ResumeSessionCommand)
export class ResumeSessionHandler implements ICommandHandler<ResumeSessionCommand, SessionView> {
  constructor(private readonly sessions: SessionStreams, private readonly commands: CommandBus) {}

  async execute({ sessionId, context, prompt }: ResumeSessionCommand): Promise<SessionView> {
    const { state } = await this.sessions.load(sessionId);
    if (state.status !== 'exited' && state.status !== 'interrupted') throw sessionNotResumable(sessionId, state.status, `it is ${state.status} (only exited or interrupted sessions resume)`);
    const policy = restorePolicy(state);
    const mode = policy.mode ?? (prompt !== undefined && agentCapabilities(state.agent).nativeResume ? 'fresh' : null);
    if (mode === null) throw sessionNotResumable(sessionId, state.status, policy.why);
    return this.commands.execute(new RestoreSessionCommand(sessionId, context, { mode, ...(prompt !== undefined ? { prompt } : {}) }));
  }
}
