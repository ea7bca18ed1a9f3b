import { existsSync } from 'node:fs';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { SessionCommand, SessionView } from '@runledger/domain';
import { DirtyWorktreeError, GitWorktrees } from '@runledger/infra/git';
import { KillSessionCommand } from '../lifecycle.command';
import { AgentLauncher } from '../runtime/agent-launcher';
import { decideAll, repoLeftProject, SessionStreams } from '../session-streams';
import { SessionViews } from '../session-views';

/** Reply of a kill: `freed` is false when a dirty (or unreachable) worktree was kept. */
export interface KillResult {
  freed: boolean;
  session: SessionView;
}

/**
 * Kill: refused SESSION.ALREADY_TERMINATED (409) before anything happens; otherwise SIGTERM to the runtime's
 * process group (SIGKILL after the grace period), remove each clean worktree, keep each dirty one (never removed:
 * invariant 10), and append the removals and `SessionKilled {freed}`.
 */
@CommandHandler(KillSessionCommand)
export class KillSessionHandler implements ICommandHandler<KillSessionCommand, KillResult> {
  constructor(
    private readonly sessions: SessionStreams,
    private readonly git: GitWorktrees,
    private readonly launcher: AgentLauncher,
    private readonly views: SessionViews,
  ) {}

  async execute({ sessionId, reason, context }: KillSessionCommand): Promise<KillResult> {
    const { state } = await this.sessions.load(sessionId);
    const at = () => new Date().toISOString();
    decideAll(state, [{ type: 'KillSession', data: { reason, freed: false, at: at() } }]); // refusals before side effects
    const { state: project } = await this.sessions.project(state.projectId);
    await this.launcher.stop(state.runtime);

    const commands: SessionCommand[] = [];
    let freed = true;
    for (const worktree of Object.values(state.worktrees)) {
      if (worktree.status !== 'active' && worktree.status !== 'restored') continue;
      const repo = project.repos.find((r) => r.name === worktree.repo);
      if (!repo) {
        commands.push(repoLeftProject(worktree.repo, at()));
        freed = false;
        continue;
      }
      if (existsSync(worktree.path) && (await this.git.isDirty(worktree.path)).dirty) {
        freed = false;
        continue;
      }
      try {
        await this.git.remove({ repoPath: repo.path, worktreePath: worktree.path, force: false });
        commands.push({ type: 'RecordWorktreeRemoved', data: { repo: worktree.repo, at: at() } });
      } catch (error) {
        if (!(error instanceof DirtyWorktreeError)) throw error;
        freed = false; // became dirty in between: kept
      }
    }
    commands.push({ type: 'KillSession', data: { reason, freed, at: at() } });
    const decided = await this.sessions.decide(sessionId, () => commands, context);
    return { freed, session: this.views.fromState(decided.state as never, decided.revision) };
  }
}
