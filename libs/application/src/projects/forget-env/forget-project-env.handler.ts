import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { decideProject, projectDecider, projectStreamName, ProjectView, toProjectView } from '@runledger/domain';
import { SecretVault } from '@runledger/infra/secrets';
import { DeciderStreams } from '../../event-sourcing/decider-streams';
import { ForgetProjectEnvCommand } from './forget-project-env.command';

/**
 * Crypto-shredding (docs/ARCHITECTURE.md §4c): appends `ProjectEnvForgotten` (names only) and then deletes the sealed
 * values, so the log stays intact and verifiable while the values can never be opened again; an agent or tool launched
 * afterwards does not receive them. Repeating it appends nothing and deletes what a crash may have left. 404 for an
 * unknown project, 400 naming `names[i]` for a variable the project does not configure.
 */
@CommandHandler(ForgetProjectEnvCommand)
export class ForgetProjectEnvHandler implements ICommandHandler<ForgetProjectEnvCommand, ProjectView> {
  constructor(private readonly streams: DeciderStreams, private readonly vault: SecretVault) {}

  async execute({ projectId, names, context }: ForgetProjectEnvCommand): Promise<ProjectView> {
    const decided = await this.streams.handle(
      projectStreamName(projectId),
      projectDecider,
      (state) => decideProject({ type: 'ForgetProjectEnv', data: { ...(names !== undefined ? { names } : {}), at: new Date().toISOString() } }, state),
      context,
    );
    if (decided.state.status === 'none') throw new Error('project state missing after forgetting');
    // The log first, then the values: a crash in between leaves names the log calls forgotten, which are never opened.
    await this.vault.forget(projectId, names);
    return toProjectView(decided.state);
  }
}
