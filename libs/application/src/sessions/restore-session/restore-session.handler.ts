import { existsSync } from 'node:fs';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { restorePolicy, SessionView } from '@runledger/domain';
import { GitWorktrees } from '@runledger/infra/git';
import { RestoreSessionCommand } from '../lifecycle.command';
import { CONTINUATION_PROMPT } from '../runtime/agent-launcher';
import { repoLeftProject, SessionStreams } from '../session-streams';
import { SessionStarter } from '../spawn-session/session-starter';

/**
 * Restore under the same id: `SessionRestoreStarted` (refused SESSION.NOT_RESTORABLE, 409, unless interrupted or
 * terminated); each worktree recreated from its branch (a stray directory moved aside) and its preserved ref replayed
 * (`git cherry-pick --no-commit`; the ref is kept when it conflicts); repos gone from the project skipped with a
 * warning; then the runtime relaunched and `SessionRuntimeLaunched` appended.
 */
@CommandHandler(RestoreSessionCommand)
export class RestoreSessionHandler implements ICommandHandler<RestoreSessionCommand, SessionView> {
  constructor(private readonly sessions: SessionStreams, private readonly git: GitWorktrees, private readonly starter: SessionStarter) {}

  async execute({ sessionId, context, relaunch }: RestoreSessionCommand): Promise<SessionView> {
    const at = () => new Date().toISOString();
    const started = await this.sessions.decide(sessionId, (state) => {
      if (state.status === 'none') return [];
      return [{ type: 'StartRestore', data: { at: at() } }];
    }, context);
    if (started.state.status === 'none') {
      await this.sessions.load(sessionId); // throws SESSION.NOT_FOUND
    }
    const state = started.state as Exclude<typeof started.state, { status: 'none' }>;
    const { state: project } = await this.sessions.project(state.projectId);
    for (const worktree of Object.values(state.worktrees)) {
      const repo = project.repos.find((r) => r.name === worktree.repo);
      if (!repo) {
        await this.sessions.decide(
          sessionId,
          () => [repoLeftProject(worktree.repo, at())],
          context,
        );
        continue;
      }
      // Nothing to recreate: an active worktree, or one an earlier restore recreated whose launch failed (this launch activates it).
      const inPlace = worktree.status === 'active' || worktree.status === 'restored';
      if (inPlace && existsSync(worktree.path)) continue;
      const restored = await this.git.restore({
        repoPath: repo.path,
        worktreePath: worktree.path,
        branch: worktree.branch,
        ...(worktree.preserved ? { preservedRef: worktree.preserved.ref } : {}),
      });
      await this.sessions.decide(
        sessionId,
        () => [{
          type: 'RecordWorktreeRestored',
          data: {
            repo: worktree.repo, path: restored.path, at: at(),
            ...(restored.appliedRef ? { appliedRef: restored.appliedRef } : {}),
            ...(restored.conflict ? { conflict: restored.conflict } : {}),
            ...(inPlace ? { dirMissing: true } : {}),
          },
        }],
        context,
      );
    }
    // The original prompt is never run a second time when the agent can resume its own conversation (invariant 14).
    const native = (relaunch?.mode ?? restorePolicy(state).mode) === 'native' && state.agent === 'claude-code' && state.agentSessionId !== undefined;
    return this.starter.launch(
      project,
      sessionId,
      {
        agent: state.agent,
        command: state.command,
        prompt: native ? undefined : (relaunch?.prompt ?? state.prompt),
        runtimeType: state.runtimeType ?? 'process',
        resumeMode: native ? 'native' : 'fresh',
        ...(native ? { resume: { agentSessionId: state.agentSessionId!, prompt: relaunch?.prompt ?? CONTINUATION_PROMPT } } : {}),
      },
      'runtime could not be relaunched',
      context,
    );
  }
}
