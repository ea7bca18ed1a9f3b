import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Injectable, Logger } from '@nestjs/common';
import { AgentLauncher, CustodyStreams, reapedRef, SweepDecision, SweepReport, systemContext, WorktreeSweeper } from '@runledger/application';
import {
  CustodyState,
  isWorktreeReleased,
  LiveClaim,
  OwnerFacts,
  REAPER_RULES,
  reaperPolicy,
  ReaperVerdict,
  vanishedRecord,
} from '@runledger/domain';
import { DirtyWorktreeError, GitWorktrees, RUNLEDGER_BRANCH_PREFIX } from '@runledger/infra/git';
import { acquireOrTakeOver, LeaseStore, processOwnerId, worktreeLease } from '@runledger/infra/leases';
import { RunledgerMetrics } from '@runledger/infra/metrics';
import { SessionOwnerRow, WorktreeRecordRow } from '@runledger/infra/read-models';
import { DiskCandidate, WorktreeFacts } from '@runledger/infra/worktree-facts';
import { WorkerLedger } from '../worker-ledger';
import { reaperSettings, ReaperSettingsConfig } from './reaper-settings';

/** Lease time-to-live of one worktree's removal by the reaper (ms). */
const WORKTREE_LEASE_TTL_MS = 60_000;

/** Lease resource of a sweep: one reaper at a time across processes sharing the database. */
export const REAPER_LEASE = 'worktree-reaper';
/** How long a sweep waits for the read models to hold the log's head before it decides (ms). */
export const REAPER_CATCH_UP_MS = 10_000;

const HOLDS_DIRECTORY = new Set(['active', 'restored', 'retry_remove']);
const SESSION_ID = /^[A-Za-z0-9._-]+$/;

/**
 * The orphan-worktree reaper (docs/ARCHITECTURE.md §4b, invariant 10): disk ⇄ log for every repository of every project. Gathers the
 * facts (WorktreeFacts), asks the pure `reaperPolicy`, and applies its verdict: remove (HEAD kept in
 * `refs/runledger/reaped/<key>` first, then a non-forced `git worktree remove`), strand (flag, never remove), keep or
 * release, each recorded once in the path's custody stream naming its rule. Session records whose directory vanished get
 * `WorktreeVanished`. Runs under a lease, on read models caught up with the log's head at the start of the sweep.
 */
@Injectable()
export class OrphanReaper implements WorktreeSweeper {
  private readonly logger = new Logger('OrphanReaper');
  private readonly leases = new LeaseStore();
  private readonly owner = processOwnerId();
  private readonly facts: WorktreeFacts;
  private running?: Promise<SweepReport>;
  private canonicalRoot = '';
  readonly settings: ReaperSettingsConfig;

  constructor(
    private readonly ledger: WorkerLedger,
    private readonly custody: CustodyStreams,
    private readonly git: GitWorktrees,
    private readonly launcher: AgentLauncher,
    private readonly metrics: RunledgerMetrics,
  ) {
    this.facts = new WorktreeFacts(git);
    this.settings = reaperSettings();
  }

  /** `<dataDir>/worktrees`: runledger's worktree root. */
  get root(): string {
    return path.join(this.ledger.config.dataDir, 'worktrees');
  }

  /** One sweep; a sweep already running in this process is joined, not repeated. */
  sweep(): Promise<SweepReport> {
    this.running ??= this.sweepOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepOnce(): Promise<SweepReport> {
    const started = Date.now();
    const report: SweepReport = { mode: this.settings.mode, scanned: 0, decisions: [], changed: 0, unreadableRepos: [], ms: 0 };
    if (!(await this.leases.acquire(this.ledger.db, REAPER_LEASE, this.owner, 5 * 60_000))) {
      return { ...report, skipped: 'another reaper holds the lease', ms: Date.now() - started };
    }
    try {
      try {
        await this.ledger.projections.catchUp(REAPER_CATCH_UP_MS);
      } catch (error) {
        return { ...report, skipped: `read models lag the log: ${(error as Error).message}`, ms: Date.now() - started };
      }
      await this.run(report);
    } finally {
      await this.leases.release(this.ledger.db, REAPER_LEASE, this.owner).catch(() => undefined);
    }
    report.changed = report.decisions.filter((d) => d.recorded).length;
    report.ms = Date.now() - started;
    if (report.changed > 0) this.logger.log(`sweep: ${report.changed} decision(s) recorded over ${report.scanned} path(s) in ${report.ms} ms`);
    return report;
  }

  private async run(report: SweepReport): Promise<void> {
    this.canonicalRoot = await WorktreeFacts.canonical(this.root);
    const [projects, owners, records, held] = await Promise.all([
      this.ledger.readModels.registeredProjects(),
      this.ledger.readModels.sessionOwners(),
      this.ledger.readModels.worktreeRecords(),
      this.ledger.readModels.custodyWorktrees(),
    ]);
    const repoPaths = projects.flatMap((p) => p.repos.map((r) => r.path));
    const disk = await this.facts.scan({ root: this.root, repoPaths });
    report.unreadableRepos = disk.unreadableRepos;
    const defaultBranchOf = new Map<string, string>();
    for (const project of projects) {
      for (const repo of project.repos) {
        if (project.defaultBranch) defaultBranchOf.set(await WorktreeFacts.canonical(repo.path), project.defaultBranch);
      }
    }

    // Claims by canonical path, across ALL projects (never scoped to one repository).
    const claims = new Map<string, WorktreeRecordRow[]>();
    for (const record of records) {
      if (!HOLDS_DIRECTORY.has(record.state)) continue;
      const key = await WorktreeFacts.canonical(record.path);
      claims.set(key, [...(claims.get(key) ?? []), record]);
    }

    // log → disk: a record holding a directory that is gone becomes unavailable.
    for (const record of records) {
      if (!vanishedRecord({ status: record.state }, await this.facts.exists(record.path))) continue;
      const decided = await this.ledger.sessions.decide(
        record.sessionId,
        (s) => (s.status !== 'none' && s.worktrees[record.repo] && !existsSync(record.path) ? [{ type: 'RecordWorktreeVanished', data: { repo: record.repo, rule: REAPER_RULES.directoryVanished, at: new Date().toISOString() } }] : []),
        systemContext(`reaper:${this.owner}`),
      );
      this.decided(report, { path: record.path, action: 'vanished', rule: REAPER_RULES.directoryVanished, detail: `record of ${record.sessionId}/${record.repo}`, recorded: decided.events.length > 0, sessionId: record.sessionId });
    }

    // disk → log: every candidate on disk, and every path held in custody (to release those gone or claimed).
    const heldByPath = new Map(held.map((h) => [h.state.path, h.state]));
    const paths = new Set<string>([...disk.candidates.keys(), ...held.filter((h) => h.state.status === 'held').map((h) => h.state.path)]);
    report.scanned = paths.size;
    for (const candidatePath of [...paths].sort()) {
      const claimedBy = claims.get(candidatePath) ?? [];
      const liveClaims: LiveClaim[] = claimedBy.filter((c) => c.sessionStatus !== 'terminated').map((c) => ({ sessionId: c.sessionId, projectId: c.projectId }));
      const custody: CustodyState = heldByPath.get(candidatePath) ?? { status: 'none' };
      const isHeld = custody.status === 'held';
      if (liveClaims.length > 0 && !isHeld) continue; // tracked and live: not an orphan, nothing to decide
      try {
        await this.decide(report, candidatePath, disk.candidates.get(candidatePath), custody, liveClaims, claimedBy, owners, defaultBranchOf);
      } catch (error) {
        this.logger.warn(`${candidatePath}: ${(error as Error).message}`);
      }
    }
  }

  private async decide(
    report: SweepReport,
    candidatePath: string,
    candidate: DiskCandidate | undefined,
    custody: CustodyState,
    liveClaims: LiveClaim[],
    claimedBy: WorktreeRecordRow[],
    owners: Map<string, SessionOwnerRow>,
    defaultBranchOf: Map<string, string>,
  ): Promise<void> {
    const onDisk = candidate !== undefined && (await this.facts.exists(candidatePath));
    const branch = candidate ? await this.facts.branchOf(candidate) : custody.status === 'held' ? custody.branch : undefined;
    const repoPath = candidate ? await this.facts.repositoryOf(candidate) : custody.status === 'held' ? custody.repoPath : undefined;
    const record = claimedBy[0]; // a non-live record (its session terminated) holding the path
    const ownerId = record?.sessionId ?? (custody.status === 'held' ? custody.ownerSessionId : undefined) ?? this.sessionNamedBy(candidatePath, branch, owners);
    const owner = this.ownerFacts(ownerId, owners);
    const needsLand = onDisk && liveClaims.length === 0 && owner.state !== 'alive';
    const land = needsLand && candidate
      ? await this.facts.landState(candidate, repoPath ? defaultBranchOf.get(repoPath) : undefined)
      : ({ kind: 'unknown', reason: 'not inspected' } as const);
    const inNamespace = candidatePath.startsWith(`${this.canonicalRoot}${path.sep}`) || branch?.startsWith(RUNLEDGER_BRANCH_PREFIX) === true;
    const now = new Date().toISOString();
    const verdict = reaperPolicy({ path: candidatePath, onDisk, inNamespace, land, liveClaims, owner, custody }, { now, graceMs: this.settings.graceMs, mode: this.settings.mode });
    const context = systemContext(`reaper:${this.owner}`);
    const base = { path: candidatePath, action: verdict.action, rule: verdict.rule, detail: verdict.detail, ...(ownerId ? { sessionId: ownerId } : {}) };

    if (verdict.action === 'keep' && verdict.rule === 'outside-namespace') return;
    if (verdict.action === 'release') {
      const decided = await this.custody.decide(candidatePath, () => [{ type: 'RecordReaperVerdict', data: { path: candidatePath, verdict, strandCooldownMs: this.settings.strandCooldownMs, at: now } }], context);
      this.decided(report, { ...base, recorded: decided.events.length > 0 });
      return;
    }
    const take = { type: 'TakeOrphanWorktree' as const, data: { path: candidatePath, at: now, ...(repoPath ? { repoPath } : {}), ...(branch ? { branch } : {}), ...(ownerId ? { ownerSessionId: ownerId } : {}) } };
    if (verdict.action !== 'remove') {
      const decided = await this.custody.decide(candidatePath, () => [take, { type: 'RecordReaperVerdict', data: { path: candidatePath, verdict, strandCooldownMs: this.settings.strandCooldownMs, at: now } }], context);
      if (verdict.action === 'strand' && record) {
        await this.ledger.sessions.decide(record.sessionId, (s) => (s.status === 'none' ? [] : [{ type: 'FlagWorktreeStranded', data: { repo: record.repo, reason: `${verdict.rule}: ${verdict.detail}`, at: now } }]), context);
      }
      this.decided(report, { ...base, recorded: decided.events.length > 0 });
      return;
    }
    await this.underWorktreeLease(record, () => this.remove(report, base, candidatePath, candidate as DiskCandidate, repoPath, record, take, context));
  }

  /**
   * Runs `work` (a removal) under the worktree lease of `record`'s session and repo (the one a cleanup and the janitor
   * take), and only while the session still holds that worktree's directory; without a record, runs it as is. When
   * another process holds the lease the path is left to the next sweep.
   */
  private async underWorktreeLease(record: WorktreeRecordRow | undefined, work: () => Promise<void>): Promise<void> {
    if (!record) return work();
    const resource = worktreeLease(record.sessionId, record.repo);
    if (!(await acquireOrTakeOver(this.leases, this.ledger.db, resource, this.owner, WORKTREE_LEASE_TTL_MS))) return;
    try {
      const fresh = await this.ledger.sessions.load(record.sessionId).catch(() => null);
      const worktree = fresh?.state.worktrees[record.repo];
      if (!worktree || isWorktreeReleased(worktree)) return; // released meanwhile (a cleanup, the janitor)
      await work();
    } finally {
      await this.leases.release(this.ledger.db, resource, this.owner).catch(() => undefined);
    }
  }

  /** Removes a lost-nothing, unused worktree: re-checks the owner, keeps HEAD in a ref, removes without force. */
  private async remove(
    report: SweepReport,
    base: Omit<SweepDecision, 'recorded'>,
    candidatePath: string,
    candidate: DiskCandidate,
    repoPath: string | undefined,
    record: WorktreeRecordRow | undefined,
    take: { type: 'TakeOrphanWorktree'; data: { path: string; at: string } },
    context: ReturnType<typeof systemContext>,
  ): Promise<void> {
    // Defense in depth: the owner re-read from its stream (not the read model) must still not be alive.
    if (base.sessionId) {
      const fresh = await this.ledger.sessions.load(base.sessionId).catch(() => null);
      if (fresh && fresh.state.status !== 'terminated' && this.launcher.isAlive(fresh.state.runtime)) {
        this.decided(report, { ...base, action: 'keep', rule: REAPER_RULES.ownerAlive, detail: 'owner came back before removal', recorded: false });
        return;
      }
    }
    await this.custody.decide(candidatePath, () => [take], context);
    const at = () => new Date().toISOString();
    let preservedRef: string | undefined;
    if (candidate.isWorktree) {
      if (!repoPath) return; // unreachable: without a repository the land state is unknown and the worktree stranded
      const ref = reapedRef(candidatePath);
      const commit = await this.git.pinHead(candidatePath, ref);
      if (commit) {
        preservedRef = ref;
        await this.custody.decide(candidatePath, () => [{ type: 'RecordCustodyPreserved', data: { path: candidatePath, ref, commit, at: at() } }], context);
      }
      try {
        await this.git.remove({ repoPath, worktreePath: candidatePath, force: false });
      } catch (error) {
        if (!(error instanceof DirtyWorktreeError)) throw error;
        const verdict: ReaperVerdict = { action: 'strand', rule: 'dirty', detail: `became dirty before removal (${error.message})` };
        await this.custody.decide(candidatePath, () => [{ type: 'RecordReaperVerdict', data: { path: candidatePath, verdict, strandCooldownMs: this.settings.strandCooldownMs, at: at() } }], context);
        this.decided(report, { ...base, ...verdict, recorded: true });
        return;
      }
    } else {
      await fsp.rmdir(candidatePath); // an empty directory only: rmdir refuses anything else
    }
    await this.custody.decide(candidatePath, () => [{ type: 'RecordCustodyRemoved', data: { path: candidatePath, rule: base.rule, at: at(), ...(preservedRef ? { preservedRef } : {}) } }], context);
    if (record) {
      await this.ledger.sessions.decide(record.sessionId, (s) => (s.status === 'none' ? [] : [{ type: 'RecordWorktreeRemoved', data: { repo: record.repo, at: at(), ...(preservedRef ? { preservedRef } : {}) } }]), context);
    }
    this.decided(report, { ...base, recorded: true, ...(preservedRef ? { preservedRef } : {}) });
  }

  private decided(report: SweepReport, decision: SweepDecision): void {
    report.decisions.push(decision);
    if (decision.recorded) this.metrics.reaperDecisions.inc({ action: decision.action, rule: decision.rule });
  }

  /** The session a branch or path names: `runledger/<sessionId>[.…][/…]`, else `<root>/<projectId>/<sessionId>[.…][/…]`. */
  private sessionNamedBy(candidatePath: string, branch: string | undefined, owners: Map<string, SessionOwnerRow>): string | undefined {
    const named = (segment: string | undefined): string | undefined =>
      [segment, segment?.split('.')[0]].find((id) => id !== undefined && SESSION_ID.test(id) && owners.has(id));
    const fromBranch = branch?.startsWith(RUNLEDGER_BRANCH_PREFIX) ? named(branch.slice(RUNLEDGER_BRANCH_PREFIX.length).split('/')[0]) : undefined;
    if (fromBranch) return fromBranch;
    const relative = path.relative(this.canonicalRoot, candidatePath).split(path.sep);
    return relative.length >= 2 ? named(relative[1]) : undefined;
  }

  /** Alive: starting, restoring, retiring, or a runtime that answers (a runtime type this process cannot probe counts as alive). */
  private ownerFacts(sessionId: string | undefined, owners: Map<string, SessionOwnerRow>): OwnerFacts {
    const row = sessionId ? owners.get(sessionId) : undefined;
    if (!sessionId || !row) return { state: 'unknown' };
    if (row.status === 'terminated') return { state: 'terminated', sessionId, since: row.terminatedAt ?? new Date(0).toISOString() };
    if (row.status === 'starting' || row.status === 'retiring' || row.restoring) return { state: 'alive', sessionId };
    if (row.runtime && (row.runtime.type !== 'process' || this.launcher.isAlive(row.runtime))) return { state: 'alive', sessionId };
    return { state: 'dead', sessionId };
  }
}
