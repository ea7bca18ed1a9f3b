import { existsSync } from 'node:fs';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { SessionView } from '@runledger/domain';
import { GitWorktrees, UnpreservableChangesError } from '@runledger/infra/git';
import { CleanupSessionCommand } from '../lifecycle.command';
import { AgentLauncher } from '../runtime/agent-launcher';
import { repoLeftProject, SessionStreams } from '../session-streams';
import { SessionViews } from '../session-views';
import { preservedRef } from '../worktree-layout';

/** Reply of a cleanup: what was preserved, removed, left for retry, stranded or skipped, per repo. */
export interface CleanupResult {
  session: SessionView;
  preserved: { repo: string; ref: string; commit: string }[];
  removed: string[];
  retryRemove: { repo: string; error: string }[];
  stranded: { repo: string; reason: string }[];
  skipped: string[];
}

/**
 * Cleanup (docs/ARCHITECTURE.md §3): kills a live session first; then per worktree, preserves uncommitted work to
 * `refs/runledger/preserved/<id>[/<repo>]` and records it BEFORE the forced removal; a failed removal is recorded as
 * `retry_remove` for the worker; changes git cannot capture strand the worktree instead of deleting it; a repo that
 * left the project is skipped with a warning.
 */
@CommandHandler(CleanupSessionCommand)
export class CleanupSessionHandler implements ICommandHandler<CleanupSessionCommand, CleanupResult> {
  constructor(
    private readonly sessions: SessionStreams,
    private readonly git: GitWorktrees,
    private readonly launcher: AgentLauncher,
    private readonly views: SessionViews,
  ) {}

  async execute({ sessionId, context }: CleanupSessionCommand): Promise<CleanupResult> {
    const { state } = await this.sessions.load(sessionId);
    const { state: project } = await this.sessions.project(state.projectId);
    const at = () => new Date().toISOString();
    const result: Omit<CleanupResult, 'session'> = { preserved: [], removed: [], retryRemove: [], stranded: [], skipped: [] };
    if (state.status !== 'terminated') {
      await this.launcher.stop(state.runtime);
      await this.sessions.decide(sessionId, () => [{ type: 'KillSession', data: { reason: 'cleanup', freed: false, at: at() } }], context);
    }
    for (const worktree of Object.values(state.worktrees)) {
      if (worktree.status === 'removed' || worktree.status === 'unavailable') continue;
      const repo = project.repos.find((r) => r.name === worktree.repo);
      if (!repo) {
        result.skipped.push(worktree.repo);
        await this.sessions.decide(
          sessionId,
          () => [repoLeftProject(worktree.repo, at())],
          context,
        );
        continue;
      }
      const ref = preservedRef(project, sessionId, worktree.repo);
      let kept: string | undefined;
      if (existsSync(worktree.path)) {
        try {
          const preserved = await this.git.preserve({ worktreePath: worktree.path, ref, message: `runledger: work of ${sessionId} before cleanup` });
          if (preserved) {
            kept = preserved.ref;
            result.preserved.push({ repo: worktree.repo, ref: preserved.ref, commit: preserved.commit });
            await this.sessions.decide(
              sessionId,
              () => [{ type: 'RecordWorkPreserved', data: { repo: worktree.repo, ref: preserved.ref, commit: preserved.commit, at: at() } }],
              context,
            );
          }
        } catch (error) {
          if (!(error instanceof UnpreservableChangesError)) throw error;
          result.stranded.push({ repo: worktree.repo, reason: error.message });
          await this.sessions.decide(sessionId, () => [{ type: 'FlagWorktreeStranded', data: { repo: worktree.repo, reason: error.message, at: at() } }], context);
          continue; // never force-remove work we could not preserve
        }
      }
      try {
        await this.git.remove({ repoPath: repo.path, worktreePath: worktree.path, force: true });
        result.removed.push(worktree.repo);
        await this.sessions.decide(
          sessionId,
          () => [{ type: 'RecordWorktreeRemoved', data: { repo: worktree.repo, ...(kept ? { preservedRef: kept } : {}), at: at() } }],
          context,
        );
      } catch (error) {
        result.retryRemove.push({ repo: worktree.repo, error: (error as Error).message });
        await this.sessions.decide(
          sessionId,
          () => [{ type: 'RecordWorktreeRemovalFailed', data: { repo: worktree.repo, error: (error as Error).message, at: at() } }],
          context,
        );
      }
    }
    const { state: after, revision } = await this.sessions.load(sessionId);
    return { session: this.views.fromState(after, revision), ...result };
  }
}
