import { existsSync } from 'node:fs';
import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { restorePolicy, SessionView } from '@runledger/domain';
import { RunledgerConfig } from '@runledger/infra/config';
import { GitWorktrees } from '@runledger/infra/git';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { RestoreSessionCommand } from '../lifecycle.command';
import { AgentLauncher, CONTINUATION_PROMPT } from '../runtime/agent-launcher';
import { repoLeftProject, SessionStreams } from '../session-streams';
import { SessionViews } from '../session-views';
import { sessionWorkdir } from '../worktree-layout';

/**
 * Restore under the same id: `SessionRestoreStarted` (refused SESSION.NOT_RESTORABLE, 409, unless interrupted or
 * terminated); each worktree recreated from its branch (a stray directory moved aside) and its preserved ref replayed
 * (`git cherry-pick --no-commit`; the ref is kept when it conflicts); repos gone from the project skipped with a
 * warning; then the runtime relaunched and `SessionRuntimeLaunched` appended.
 */
@CommandHandler(RestoreSessionCommand)
export class RestoreSessionHandler implements ICommandHandler<RestoreSessionCommand, SessionView> {
  constructor(
    private readonly sessions: SessionStreams,
    private readonly git: GitWorktrees,
    private readonly launcher: AgentLauncher,
    private readonly views: SessionViews,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
  ) {}

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
      if (worktree.status === 'active' && existsSync(worktree.path)) continue; // nothing to recreate
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
            ...(worktree.status === 'active' ? { dirMissing: true } : {}),
          },
        }],
        context,
      );
    }
    try {
      // The original prompt is never run a second time when the agent can resume its own conversation (invariant 14).
      const native = (relaunch?.mode ?? restorePolicy(state).mode) === 'native' && state.agent === 'claude-code' && state.agentSessionId !== undefined;
      const runtime = await this.launcher.launch({
        sessionId,
        agent: state.agent,
        command: state.command,
        prompt: native ? undefined : (relaunch?.prompt ?? state.prompt),
        workdir: sessionWorkdir(this.config.dataDir, project, sessionId),
        env: project.env,
        runtime: state.runtimeType ?? 'process',
        ...(native ? { resume: { agentSessionId: state.agentSessionId!, prompt: relaunch?.prompt ?? CONTINUATION_PROMPT } } : {}),
        hooks: { hookFailure: project.hookFailure, hookHoldSeconds: project.hookHoldSeconds, hookTransport: project.hookTransport },
      });
      const resumeMode = native ? 'native' : 'fresh';
      const launched = await this.sessions.decide(sessionId, () => [{ type: 'RecordRuntimeLaunched', data: { runtime, resumeMode, at: at() } }], context);
      return this.views.fromState(launched.state as never, launched.revision);
    } catch (error) {
      const failed = await this.sessions.decide(
        sessionId,
        () => [{ type: 'RecordLaunchFailed', data: { reason: `runtime could not be relaunched: ${(error as Error).message}`, at: at() } }],
        context,
      );
      return this.views.fromState(failed.state as never, failed.revision);
    }
  }
}
