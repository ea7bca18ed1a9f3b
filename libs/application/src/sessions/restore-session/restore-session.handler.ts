import { existsSync } from 'node:fs';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { agentCapabilities, RegisteredProject, restorePolicy, Session, SessionCommand, SessionView, Worktree } from '@runledger/domain';
import { GitWorktrees } from '@runledger/infra/git';
import { CommandContext } from '../../event-sourcing/command-context';
import { RelaunchOptions, RestoreSessionCommand } from '../lifecycle.command';
import { CONTINUATION_PROMPT } from '../runtime/agent-launcher';
import { repoLeftProject, SessionStreams } from '../session-streams';
import { SessionStarter } from '../spawn-session/session-starter';

/** What `SessionStarter.launch` is given to relaunch a restored session. */
export type RestoreLaunch = Parameters<SessionStarter['launch']>[2];

/**
 * How a restored session is relaunched (invariant 14): natively (the agent's own conversation resumed, the original
 * prompt never run a second time) when the requested mode, else the restore policy, says `native` and the agent can be
 * resumed; otherwise fresh, with the requested prompt or the session's own.
 */
export const restoreLaunch = (state: Session, relaunch: RelaunchOptions | undefined): RestoreLaunch => {
  const native = (relaunch?.mode ?? restorePolicy(state).mode) === 'native' && agentCapabilities(state.agent).nativeResume && state.agentSessionId !== undefined;
  return {
    agent: state.agent,
    command: state.command,
    prompt: native ? undefined : (relaunch?.prompt ?? state.prompt),
    runtimeType: state.runtimeType ?? 'process',
    resumeMode: native ? 'native' : 'fresh',
    ...(native ? { resume: { agentSessionId: state.agentSessionId!, prompt: relaunch?.prompt ?? CONTINUATION_PROMPT } } : {}),
  };
};

/** What a restore does with one worktree: skip it (its repo left the project), keep it (in place, its directory there), or recreate it. */
export type WorktreeRestoreStep =
  | { action: 'repo-left' }
  | { action: 'keep' }
  /** `dirMissing`: the worktree was in place (active, or recreated by an earlier restore whose launch failed) but its directory is gone. */
  | { action: 'recreate'; repoPath: string; dirMissing: boolean };

/** The restore step of a worktree of `project`; `dirExists` says whether its directory is on disk. */
export const worktreeRestoreStep = (worktree: Worktree, project: RegisteredProject, dirExists: (path: string) => boolean): WorktreeRestoreStep => {
  const repo = project.repos.find((r) => r.name === worktree.repo);
  if (!repo) return { action: 'repo-left' };
  // Nothing to recreate: an active worktree, or one an earlier restore recreated whose launch failed (this launch activates it).
  const inPlace = worktree.status === 'active' || worktree.status === 'restored';
  if (inPlace && dirExists(worktree.path)) return { action: 'keep' };
  return { action: 'recreate', repoPath: repo.path, dirMissing: inPlace };
};

/**
 * Restore under the same id: `SessionRestoreStarted` (refused SESSION.NOT_RESTORABLE, 409, unless interrupted or
 * terminated); each worktree recreated from its branch (a stray directory moved aside) and its preserved ref replayed
 * (`git cherry-pick --no-commit`; the ref is kept when it conflicts); repos gone from the project skipped with a
 * warning; then the runtime relaunched (restoreLaunch of the session as it is then) and `SessionRuntimeLaunched` appended.
 */
@CommandHandler(RestoreSessionCommand)
export class RestoreSessionHandler implements ICommandHandler<RestoreSessionCommand, SessionView> {
  constructor(private readonly sessions: SessionStreams, private readonly git: GitWorktrees, private readonly starter: SessionStarter) {}

  async execute({ sessionId, context, relaunch }: RestoreSessionCommand): Promise<SessionView> {
    const started = await this.sessions.decide(sessionId, (state) => {
      if (state.status === 'none') return [];
      return [{ type: 'StartRestore', data: { at: new Date().toISOString() } }];
    }, context);
    if (started.state.status === 'none') {
      await this.sessions.load(sessionId); // throws SESSION.NOT_FOUND
    }
    const state = started.state as Exclude<typeof started.state, { status: 'none' }>;
    const { state: project } = await this.sessions.project(state.projectId);
    for (const worktree of Object.values(state.worktrees)) {
      const step = worktreeRestoreStep(worktree, project, existsSync);
      if (step.action === 'repo-left') await this.record(sessionId, (at) => repoLeftProject(worktree.repo, at), context);
      if (step.action === 'recreate') await this.recreate(sessionId, worktree, step, context);
    }
    // The newest state decides the relaunch: an agent session linked since the restore began (a hook of the gone
    // runtime, delivered late after a restart) is resumed natively rather than started again.
    const { state: latest } = await this.sessions.load(sessionId);
    return this.starter.launch(project, sessionId, restoreLaunch(latest, relaunch), 'runtime could not be relaunched', context);
  }

  /** Recreates one worktree from its branch, replays its preserved ref, and records `WorktreeRestored`. */
  private async recreate(sessionId: string, worktree: Worktree, { repoPath, dirMissing }: { repoPath: string; dirMissing: boolean }, context: CommandContext): Promise<void> {
    const restored = await this.git.restore({
      repoPath,
      worktreePath: worktree.path,
      branch: worktree.branch,
      ...(worktree.preserved ? { preservedRef: worktree.preserved.ref } : {}),
    });
    await this.record(sessionId, (at) => ({
      type: 'RecordWorktreeRestored',
      data: {
        repo: worktree.repo, path: restored.path, at,
        ...(restored.appliedRef ? { appliedRef: restored.appliedRef } : {}),
        ...(restored.conflict ? { conflict: restored.conflict } : {}),
        ...(dirMissing ? { dirMissing: true } : {}),
      },
    }), context);
  }

  /** Appends the command `build` makes, stamped with the time of the decision. */
  private async record(sessionId: string, build: (at: string) => SessionCommand, context: CommandContext): Promise<void> {
    await this.sessions.decide(sessionId, () => [build(new Date().toISOString())], context);
  }
}
