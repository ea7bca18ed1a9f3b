import { existsSync } from 'node:fs';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { repoLeftProject, SessionStreams, systemContext } from '@runledger/application';
import { SqlDatabase } from '@runledger/infra/database';
import { GitWorktrees, UnpreservableChangesError } from '@runledger/infra/git';
import { LeaseStore, processOwnerId, worktreeLease } from '@runledger/infra/leases';
import { SQL_DATABASE } from '@runledger/infra/tokens';
import { BootReconciler } from '../recovery/boot-reconciler';

/** Default interval between retries of failed worktree removals (ms); `RUNLEDGER_JANITOR_INTERVAL_MS` overrides it. */
export const JANITOR_INTERVAL_MS = 60_000;
/** Lease time-to-live of one removal retry (ms). */
export const JANITOR_LEASE_TTL_MS = 60_000;

/** Interval from the environment, validated (1 s to 1 day); throws naming the variable otherwise. */
export const janitorInterval = (env: NodeJS.ProcessEnv = process.env): number => {
  const raw = env.RUNLEDGER_JANITOR_INTERVAL_MS;
  if (raw === undefined || raw === '') return JANITOR_INTERVAL_MS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 100 || n > 86_400_000) throw new Error(`RUNLEDGER_JANITOR_INTERVAL_MS: expected an integer in [100, 86400000], got ${raw}`);
  return n;
};

/**
 * Retries the removal of worktrees left `retry_remove` by a failed cleanup, after the boot reconcile and then
 * every interval: under a lease, it preserves any work added since (a ref, before anything is removed: invariant 10),
 * force-removes, and records `WorktreeRemoved`; a failure stays `retry_remove` for the next round.
 */
@Injectable()
export class WorktreeJanitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WorktreeJanitor');
  private readonly leases = new LeaseStore();
  private readonly owner = processOwnerId();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(SQL_DATABASE) private readonly db: SqlDatabase,
    private readonly sessions: SessionStreams,
    private readonly git: GitWorktrees,
    private readonly reconciler: BootReconciler,
  ) {}

  onApplicationBootstrap(): void {
    const interval = janitorInterval();
    void this.reconciler.done.then(() => {
      if (this.stopped) return;
      this.timer = setInterval(() => this.scheduledSweep(), interval);
      this.timer.unref();
      this.scheduledSweep();
    });
  }

  /** A round of the timer: a failure (the database away) is logged and the next round retries; it never escapes. */
  private scheduledSweep(): void {
    this.sweep().catch((error: Error) => this.logger.warn(`sweep failed, the next round retries: ${error.message}`));
  }

  private stopped = false;

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One round over every `retry_remove` worktree; returns how many were removed. */
  async sweep(): Promise<number> {
    if (this.running || this.stopped) return 0;
    let removed = 0;
    this.running = (async () => {
      const { rows } = await this.db.query<{ session_id: string; repo: string }>(`SELECT session_id, repo FROM rl_rm_worktrees WHERE state = 'retry_remove'`);
      for (const row of rows) {
        if (this.stopped) break;
        const resource = worktreeLease(row.session_id, row.repo);
        if (!(await this.leases.acquire(this.db, resource, this.owner, JANITOR_LEASE_TTL_MS))) continue;
        try {
          if (await this.retry(row.session_id, row.repo)) removed++;
        } catch (error) {
          this.logger.warn(`${row.session_id}/${row.repo}: removal failed again: ${(error as Error).message}`);
        } finally {
          await this.leases.release(this.db, resource, this.owner).catch(() => undefined);
        }
      }
    })().finally(() => (this.running = undefined));
    await this.running;
    return removed;
  }

  private async retry(sessionId: string, repoName: string): Promise<boolean> {
    const context = systemContext(`janitor:${this.owner}`);
    const at = () => new Date().toISOString();
    const { state } = await this.sessions.load(sessionId);
    const worktree = state.worktrees[repoName];
    if (!worktree || worktree.status !== 'retry_remove') return false;
    const { state: project } = await this.sessions.project(state.projectId);
    const repo = project.repos.find((r) => r.name === repoName);
    if (!repo) {
      await this.sessions.decide(sessionId, () => [repoLeftProject(repoName, at())], context);
      return false;
    }
    let preservedRef = worktree.preserved?.ref;
    if (existsSync(worktree.path)) {
      const ref = preservedRef ?? `refs/runledger/preserved/${sessionId}${project.kind === 'workspace' ? `/${repoName}` : ''}`;
      try {
        const preserved = await this.git.preserve({ worktreePath: worktree.path, ref, message: `runledger: work of ${sessionId} before a retried removal` });
        if (preserved) {
          preservedRef = preserved.ref;
          await this.sessions.decide(sessionId, () => [{ type: 'RecordWorkPreserved', data: { repo: repoName, ref: preserved.ref, commit: preserved.commit, at: at() } }], context);
        }
      } catch (error) {
        if (error instanceof UnpreservableChangesError) {
          await this.sessions.decide(sessionId, () => [{ type: 'FlagWorktreeStranded', data: { repo: repoName, reason: error.message, at: at() } }], context);
          return false; // never force-remove what could not be preserved
        }
        throw error;
      }
    }
    await this.git.remove({ repoPath: repo.path, worktreePath: worktree.path, force: true });
    await this.sessions.decide(
      sessionId,
      () => [{ type: 'RecordWorktreeRemoved', data: { repo: repoName, ...(preservedRef ? { preservedRef } : {}), at: at() } }],
      context,
    );
    this.logger.log(`${sessionId}/${repoName}: removal retried and done`);
    return true;
  }
}
