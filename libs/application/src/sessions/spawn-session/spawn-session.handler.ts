import { Logger } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { SessionView } from '@runledger/domain';
import { orchestratorBranch } from '../../orchestrators/orchestrator-branch';
import { BudgetGuard } from '../../budgets/budget-guard';
import { SessionStreams } from '../session-streams';
import { sessionBranch } from '../worktree-layout';
import { defaultRuntime, SessionStarter } from './session-starter';
import { SpawnSessionCommand } from './spawn-session.command';

/**
 * Spawns a session: validate (400s, nothing appended) → `SessionIdAllocated` in the project stream (ids never reused)
 * → the session started by SessionStarter on `runledger/<id>` (an orchestrator on the project's canonical branch
 * `runledger/<prefix>-orchestrator`), in the runtime asked for or the default one (docs/ARCHITECTURE.md §4a).
 */
@CommandHandler(SpawnSessionCommand)
export class SpawnSessionHandler implements ICommandHandler<SpawnSessionCommand, SessionView> {
  private readonly logger = new Logger('SpawnSession');

  constructor(private readonly sessions: SessionStreams, private readonly starter: SessionStarter, private readonly budgets: BudgetGuard) {}

  async execute({ input, context }: SpawnSessionCommand): Promise<SessionView> {
    const { state: project } = await this.sessions.project(input.projectId);
    const baseRef = input.baseRef ?? project.defaultBranch ?? 'HEAD';
    await this.starter.validate(project, input.agent, input.command, baseRef, input.prompt);
    if (input.parentSessionId !== undefined) await this.sessions.load(input.parentSessionId, undefined, 'parentSessionId');
    await this.budgets.assertSpawnAllowed(project.projectId, context); // 409 BUDGET.EXCEEDED before an id is allocated
    const kind = input.kind ?? 'worker';
    const sessionId = await this.sessions.allocateSessionId(project.projectId, kind, context);
    this.logger.log(`allocated ${sessionId} in project ${project.projectId}`);
    return this.starter.start(project, sessionId, {
      kind,
      agent: input.agent,
      command: input.command,
      prompt: input.prompt,
      baseRef,
      branch: kind === 'orchestrator' ? orchestratorBranch(project) : sessionBranch(sessionId),
      runtimeType: input.runtime ?? defaultRuntime(kind, input.agent, input.prompt),
      ...(input.parentSessionId !== undefined ? { parentSessionId: input.parentSessionId } : {}),
      ...(input.budgetUsd !== undefined ? { budgetUsd: input.budgetUsd } : {}),
    }, context);
  }
}
