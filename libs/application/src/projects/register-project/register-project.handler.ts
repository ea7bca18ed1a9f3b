import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { decideProject, DomainError, projectDecider, ProjectEvent, ProjectState, projectStreamName, ProjectView, toProjectView } from '@runledger/domain';
import { GitWorktrees, NotAGitRepositoryError, RelativePathError } from '@runledger/infra/git';
import { SecretVault } from '@runledger/infra/secrets';
import { DeciderStreams } from '../../event-sourcing/decider-streams';
import { RegisterProjectCommand } from './register-project.command';

const invalid = (field: string, message: string): DomainError => new DomainError('PROJECT.INVALID', 'invalid', message, { field });

/** A slug from a name: lowercase letters, digits and dashes (the default project id and session prefix). */
export const slugify = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);

/**
 * Registers a project (env values sealed in the secret store, the event carrying their names and fingerprints): every path must be absolute and a git repository (400 naming the field otherwise, nothing
 * appended); the id defaults to a slug of the name; a second registration of an id is PROJECT.ALREADY_REGISTERED (409).
 */
@CommandHandler(RegisterProjectCommand)
export class RegisterProjectHandler implements ICommandHandler<RegisterProjectCommand, ProjectView> {
  constructor(private readonly streams: DeciderStreams, private readonly git: GitWorktrees, private readonly vault: SecretVault) {}

  async execute({ input, context }: RegisterProjectCommand): Promise<ProjectView> {
    if ((input.repoPath === undefined) === (input.repos === undefined)) {
      throw invalid('repoPath', 'give exactly one of repoPath (single-repo project) or repos (workspace project)');
    }
    const workspace = input.repos !== undefined;
    const declared = workspace ? input.repos! : [{ name: 'main', path: input.repoPath! }];
    if (declared.length === 0) throw invalid('repos', 'a workspace needs at least one repository');
    const names = new Set<string>();
    const repos: { name: string; path: string }[] = [];
    for (const [i, repo] of declared.entries()) {
      const field = workspace ? `repos[${i}].path` : 'repoPath';
      if (names.has(repo.name)) throw invalid(`repos[${i}].name`, `repository name "${repo.name}" is used twice`);
      names.add(repo.name);
      repos.push({ name: repo.name, path: await this.repositoryTop(repo.path, field) });
    }
    const projectId = input.id ?? slugify(input.name);
    if (!projectId) throw invalid('name', 'the name must contain a letter or digit (or give an id)');
    const defaultBranch = input.defaultBranch ?? (workspace ? undefined : await this.git.defaultBranch(repos[0].path));
    const env = input.env ?? {};
    const fingerprints = Object.keys(env).length > 0 ? Object.fromEntries(Object.entries(env).map(([name, value]) => [name, this.vault.fingerprint(value)])) : undefined;
    const register = (state: ProjectState): ProjectEvent[] =>
      decideProject(
        {
          type: 'RegisterProject',
          data: {
            projectId,
            name: input.name,
            kind: workspace ? 'workspace' : 'single-repo',
            repos,
            sessionPrefix: input.sessionPrefix ?? projectId,
            ...(defaultBranch ? { defaultBranch } : {}),
            ...(input.orchestratorAgent ? { orchestratorAgent: input.orchestratorAgent } : {}),
            ...(fingerprints ? { envFingerprints: fingerprints } : {}),
            ...(input.hookFailure ? { hookFailure: input.hookFailure } : {}),
            ...(input.hookHoldSeconds !== undefined ? { hookHoldSeconds: input.hookHoldSeconds } : {}),
            ...(input.hookTransport ? { hookTransport: input.hookTransport } : {}),
            ...(input.prices ? { prices: input.prices } : {}),
            at: new Date().toISOString(),
          },
        },
        state,
      );
    if (fingerprints) {
      // The values go to the secret store, the log gets names and fingerprints (invariant 16). The decision is taken
      // once before sealing, so a refused registration writes nothing (invariant 13); only a registration of the same id
      // racing this one can leave sealed rows that no log names (never opened; forgetting the project's env deletes them).
      register((await this.streams.load(projectStreamName(projectId), projectDecider)).state);
      await this.vault.seal(projectId, env);
    }
    const decided = await this.streams.handle(projectStreamName(projectId), projectDecider, register, context);
    if (decided.state.status === 'none') throw new Error('project state missing after registration');
    return toProjectView(decided.state);
  }

  /** The repository's top-level path; 400 naming `field` if relative, missing or not a git repository. */
  private async repositoryTop(path: string, field: string): Promise<string> {
    try {
      return await this.git.assertRepository(path);
    } catch (error) {
      if (error instanceof RelativePathError) throw invalid(field, `${field} must be an absolute path (got "${path}")`);
      if (error instanceof NotAGitRepositoryError) throw invalid(field, `${field} is not a git repository: ${path}`);
      throw error;
    }
  }
}
