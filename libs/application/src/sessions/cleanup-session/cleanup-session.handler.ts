import { existsSync } from 'node:fs';
import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { isWorktreeReleased, RegisteredProject, SessionCommand, SessionState, SessionView, Worktree, worktreeBusy } from '@runledger/domain';
import { SqlDatabase } from '@runledger/infra/database';
import { GitWorktrees, UnpreservableChangesError } from '@runledger/infra/git';
import { acquireOrTakeOver, LeaseStore, processOwnerId, worktreeLease } from '@runledger/infra/leases';
import { SQL_DATABASE } from '@runledger/infra/tokens';
import { CommandContext } from '../../event-sourcing/command-context';
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

/** Lease time-to-live of one worktree's cleanup (ms). */
export const CLEANUP_WORKTREE_LEASE_TTL_MS = 60_000;
/** How long a cleanup waits for another process (the janitor, the reaper) to finish with a worktree before WORKTREE.BUSY (ms). */
export const CLEANUP_WORKTREE_WAIT_MS = 30_000;

/** What a cleanup does with one worktree: nothing (already removed or unavailable), skip it (its repo left the project), or clean it. */
export type CleanupStep =
  | { action: 'none' }
  | { action: 'repo-left' }
  | { action: 'clean'; repoPath: string; ref: string };

/** The cleanup step of a session's worktree: its work is preserved to `ref` (`refs/runledger/preserved/<id>[/<repo>]`) before removal. */
export const cleanupStep = (worktree: Worktree, project: RegisteredProject, sessionId: string): CleanupStep => {
  if (worktree.status === 'removed' || worktree.status === 'unavailable') return { action: 'none' };
  const repo = project.repos.find((r) => r.name === worktree.repo);
  if (!repo) return { action: 'repo-left' };
  return { action: 'clean', repoPath: repo.path, ref: preservedRef(project, sessionId, worktree.repo) };
};

/**
 * True when `repo`'s worktree in `state` was released by someone else (the janitor's retried removal, the reaper) since
 * the cleanup read it: the command the cleanup was about to record no longer applies. A removal racing the reaper's
 * "directory vanished" (which the cleanup's own `git worktree remove` can cause) is still recorded, with its ref.
 */
export const releasedMeanwhile = (state: SessionState, repo: string, command: SessionCommand['type']): boolean => {
  const worktree = state.status === 'none' ? undefined : state.worktrees[repo];
  if (!worktree || !isWorktreeReleased(worktree)) return false;
  return !(command === 'RecordWorktreeRemoved' && worktree.status === 'unavailable' && worktree.vanished === true);
};

/**
 * Cleanup (docs/ARCHITECTURE.md §3): kills a live session first; then per worktree, preserves uncommitted work to
 * `refs/runledger/preserved/<id>[/<repo>]` and records it BEFORE the forced removal; a failed removal is recorded as
 * `retry_remove` for the worker; changes git cannot capture strand the worktree instead of deleting it; a repo that
 * left the project is skipped with a warning. Each worktree is cleaned under its worktree lease (the one the janitor
 * and the reaper take), on its state read under that lease: one released meanwhile by another process records nothing
 * more. Throws WORKTREE.BUSY (409) when another process keeps the lease past CLEANUP_WORKTREE_WAIT_MS.
 */
@CommandHandler(CleanupSessionCommand)
export class CleanupSessionHandler implements ICommandHandler<CleanupSessionCommand, CleanupResult> {
  private readonly leases = new LeaseStore();

  constructor(
    private readonly sessions: SessionStreams,
    private readonly git: GitWorktrees,
    private readonly launcher: AgentLauncher,
    private readonly views: SessionViews,
    @Inject(SQL_DATABASE) private readonly db: SqlDatabase,
  ) {}

  async execute({ sessionId, context }: CleanupSessionCommand): Promise<CleanupResult> {
    const { state } = await this.sessions.load(sessionId);
    const { state: project } = await this.sessions.project(state.projectId);
    const result: Omit<CleanupResult, 'session'> = { preserved: [], removed: [], retryRemove: [], stranded: [], skipped: [] };
    if (state.status !== 'terminated') {
      await this.launcher.stop(state.runtime);
      await this.record(sessionId, (at) => ({ type: 'KillSession', data: { reason: 'cleanup', freed: false, at } }), context);
    }
    for (const worktree of Object.values(state.worktrees)) {
      const step = cleanupStep(worktree, project, sessionId);
      if (step.action === 'repo-left') {
        result.skipped.push(worktree.repo);
        await this.record(sessionId, (at) => repoLeftProject(worktree.repo, at), context);
      }
      if (step.action === 'clean') await this.underLease(sessionId, worktree.repo, () => this.cleanFresh(sessionId, worktree.repo, project, result, context));
    }
    const { state: after, revision } = await this.sessions.load(sessionId);
    return { session: this.views.fromState(after, revision), ...result };
  }

  /** Runs `work` holding the worktree's lease, waiting up to CLEANUP_WORKTREE_WAIT_MS for another holder; throws WORKTREE.BUSY (409). */
  private async underLease(sessionId: string, repo: string, work: () => Promise<void>): Promise<void> {
    const resource = worktreeLease(sessionId, repo);
    const owner = processOwnerId();
    const started = Date.now();
    while (!(await acquireOrTakeOver(this.leases, this.db, resource, owner, CLEANUP_WORKTREE_LEASE_TTL_MS))) {
      if (Date.now() - started > CLEANUP_WORKTREE_WAIT_MS) throw worktreeBusy(repo, Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    try {
      await work();
    } finally {
      await this.leases.release(this.db, resource, owner).catch(() => undefined);
    }
  }

  /** Cleans `repo`'s worktree as the log holds it now (under its lease): nothing when another process released it meanwhile. */
  private async cleanFresh(sessionId: string, repo: string, project: RegisteredProject, result: Omit<CleanupResult, 'session'>, context: CommandContext): Promise<void> {
    const { state } = await this.sessions.load(sessionId);
    const worktree = state.worktrees[repo];
    if (!worktree) return;
    const step = cleanupStep(worktree, project, sessionId);
    if (step.action === 'clean') await this.clean(sessionId, worktree, step, result, context);
  }

  /**
   * Preserves one worktree's work (when its directory is there) and records it, then force-removes it; work git cannot
   * preserve strands it instead (never force-removed); a failed removal is recorded for the worker to retry.
   */
  private async clean(sessionId: string, worktree: Worktree, { repoPath, ref }: { repoPath: string; ref: string }, result: Omit<CleanupResult, 'session'>, context: CommandContext): Promise<void> {
    const { repo, path } = worktree;
    let kept: string | undefined;
    if (existsSync(path)) {
      try {
        const preserved = await this.git.preserve({ worktreePath: path, ref, message: `runledger: work of ${sessionId} before cleanup` });
        if (preserved) {
          kept = preserved.ref;
          result.preserved.push({ repo, ref: preserved.ref, commit: preserved.commit });
          await this.recordUnlessReleased(sessionId, repo, (at) => ({ type: 'RecordWorkPreserved', data: { repo, ref: preserved.ref, commit: preserved.commit, at } }), context);
        }
      } catch (error) {
        if (!(error instanceof UnpreservableChangesError)) throw error;
        result.stranded.push({ repo, reason: error.message });
        await this.record(sessionId, (at) => ({ type: 'FlagWorktreeStranded', data: { repo, reason: error.message, at } }), context);
        return; // never force-remove work we could not preserve
      }
    }
    try {
      await this.git.remove({ repoPath, worktreePath: path, force: true });
    } catch (error) {
      const message = (error as Error).message;
      if (await this.recordUnlessReleased(sessionId, repo, (at) => ({ type: 'RecordWorktreeRemovalFailed', data: { repo, error: message, at } }), context)) {
        result.retryRemove.push({ repo, error: message });
      }
      return;
    }
    result.removed.push(repo);
    await this.recordUnlessReleased(sessionId, repo, (at) => ({ type: 'RecordWorktreeRemoved', data: { repo, ...(kept ? { preservedRef: kept } : {}), at } }), context);
  }

  /** Appends the worktree command `build` makes unless the fresh state shows the worktree released meanwhile; true when appended. */
  private async recordUnlessReleased(sessionId: string, repo: string, build: (at: string) => SessionCommand, context: CommandContext): Promise<boolean> {
    const decided = await this.sessions.decide(sessionId, (state) => {
      const command = build(new Date().toISOString());
      return releasedMeanwhile(state, repo, command.type) ? [] : [command];
    }, context);
    return decided.events.length > 0;
  }

  /** Appends the command `build` makes, stamped with the time of the decision. */
  private async record(sessionId: string, build: (at: string) => SessionCommand, context: CommandContext): Promise<void> {
    await this.sessions.decide(sessionId, () => [build(new Date().toISOString())], context);
  }
}
