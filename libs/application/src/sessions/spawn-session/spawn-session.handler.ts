import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DomainError, SessionView } from '@runledger/domain';
import { RunledgerConfig } from '@runledger/infra/config';
import { GitWorktrees, InvalidRefNameError, UnknownRefError } from '@runledger/infra/git';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { AgentLauncher } from '../runtime/agent-launcher';
import { SessionStreams } from '../session-streams';
import { SessionViews } from '../session-views';
import { sessionBranch, sessionWorkdir, worktreePath } from '../worktree-layout';
import { SpawnSessionCommand } from './spawn-session.command';

const invalid = (field: string, message: string): DomainError => new DomainError('SESSION.INVALID', 'invalid', message, { field });

/**
 * Spawns a session, each step recorded before the next one starts (checkpoint before dispatch, DESIGN §3):
 * validate (400s, nothing appended) → `SessionIdAllocated` in the project stream (ids never reused) → `SessionStarted`
 * → per repo `git worktree add -b runledger/<id>` then `WorktreeCreated` → launch the runtime then
 * `SessionRuntimeLaunched`. A worktree or launch failure is recorded as `SessionLaunchFailed` and returned in the snapshot.
 */
@CommandHandler(SpawnSessionCommand)
export class SpawnSessionHandler implements ICommandHandler<SpawnSessionCommand, SessionView> {
  private readonly logger = new Logger('SpawnSession');

  constructor(
    private readonly sessions: SessionStreams,
    private readonly git: GitWorktrees,
    private readonly launcher: AgentLauncher,
    private readonly views: SessionViews,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
  ) {}

  async execute({ input, context }: SpawnSessionCommand): Promise<SessionView> {
    const { state: project } = await this.sessions.project(input.projectId);
    if (input.agent === 'command' && (!input.command || input.command.length === 0)) {
      throw invalid('command', 'agent "command" needs command: a non-empty argv array');
    }
    const baseRef = input.baseRef ?? project.defaultBranch ?? 'HEAD';
    for (const repo of project.repos) {
      try {
        await this.git.resolveCommit(repo.path, baseRef);
      } catch (error) {
        if (error instanceof UnknownRefError || error instanceof InvalidRefNameError) throw invalid('baseRef', `baseRef "${baseRef}" does not name a commit in ${repo.name} (${repo.path})`);
        throw error;
      }
    }
    const kind = input.kind ?? 'worker';
    const at = () => new Date().toISOString();

    const sessionId = await this.sessions.allocateSessionId(project.projectId, kind, context);
    const branch = sessionBranch(sessionId);
    this.logger.log(`allocated ${sessionId} in project ${project.projectId}`);

    await this.sessions.decide(
      sessionId,
      () => [{
        type: 'StartSession',
        data: {
          sessionId, projectId: project.projectId, kind, agent: input.agent, branch, baseRef, at: at(),
          ...(input.command ? { command: input.command } : {}),
          ...(input.prompt !== undefined ? { prompt: input.prompt } : {}),
        },
      }],
      context,
    );

    let failure: string | undefined;
    for (const repo of project.repos) {
      const path = worktreePath(this.config.dataDir, project, sessionId, repo.name);
      try {
        const created = await this.git.add({ repoPath: repo.path, worktreePath: path, branch, baseRef });
        await this.sessions.decide(
          sessionId,
          () => [{ type: 'RecordWorktreeCreated', data: { repo: repo.name, path: created.path, branch, baseRef, at: at() } }],
          context,
        );
      } catch (error) {
        failure = `worktree for ${repo.name} could not be created: ${(error as Error).message}`;
        break;
      }
    }
    if (!failure) {
      try {
        const runtime = await this.launcher.launch({
          sessionId,
          agent: input.agent,
          command: input.command,
          prompt: input.prompt,
          workdir: sessionWorkdir(this.config.dataDir, project, sessionId),
          env: project.env,
          hooks: { hookFailure: project.hookFailure, hookHoldSeconds: project.hookHoldSeconds, hookTransport: project.hookTransport },
        });
        const launched = await this.sessions.decide(sessionId, () => [{ type: 'RecordRuntimeLaunched', data: { runtime, at: at() } }], context);
        return this.views.fromState(launched.state as never, launched.revision);
      } catch (error) {
        failure = `runtime could not be launched: ${(error as Error).message}`;
      }
    }
    this.logger.warn(`${sessionId}: ${failure}`);
    const failed = await this.sessions.decide(sessionId, () => [{ type: 'RecordLaunchFailed', data: { reason: failure!, at: at() } }], context);
    return this.views.fromState(failed.state as never, failed.revision);
  }
}
