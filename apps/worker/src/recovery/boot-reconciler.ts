import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { AgentLauncher, CommandContext, RestoreSessionCommand, SessionStreams, SYSTEM_STREAM, systemContext } from '@runledger/application';
import { Session, SessionCommand } from '@runledger/domain';
import { transcriptToolResults } from '@runledger/infra/claude-code/transcript-parser';
import { SqlDatabase } from '@runledger/infra/database';
import { EventStore } from '@runledger/infra/event-store';
import { leaseOwnerAlive, LeaseStore, processOwnerId, toolCallLease } from '@runledger/infra/leases';
import type { RuntimeIdentity } from '@runledger/infra/runtime';
import { RunledgerMetrics } from '@runledger/infra/metrics';
import { findLaggingSnapshots, ReadModels, rebuildSessionSnapshot } from '@runledger/infra/read-models';
import { EVENT_STORE, SQL_DATABASE } from '@runledger/infra/tokens';
import { ProjectionRunner } from '../projections/projection-runner';
import { restoreDecision } from './reconcile-policy';

/** Lease time-to-live of one session's reconcile (ms). */
export const RECONCILE_LEASE_TTL_MS = 60_000;
/** How long reconcile waits for the projections to catch up before it goes on from the log alone (ms). */
export const CATCH_UP_TIMEOUT_MS = 120_000;

/** Counts of one boot reconcile, appended to the `system` stream as `ReconcileCompleted`. */
export interface ReconcileReport {
  pid: number;
  owner: string;
  sessions: number;
  adopted: number;
  interrupted: number;
  relaunched: number;
  notResumable: number;
  toolCallsInterrupted: number;
  transcriptResults: number;
  snapshotsRebuilt: number;
  skippedLeased: number;
  ms: number;
}

/** True when a lease owner id (`host:pid:suffix`) names a live process on this host, or another host (trusted until expiry). */
export const ownerAlive = leaseOwnerAlive;

/**
 * The worker's start-up reconcile (DESIGN §4, seeds 001 and 003), in order: catch the projections up; rebuild snapshots
 * whose revision lags their stream (invariant 8); then, for every session that is not terminated, under a lease so two
 * workers do it once: adopt a live runtime (`SessionAdopted`, same id) or recover Claude Code results from the transcript
 * (`source: transcript`, divergence reported), mark the session interrupted (its open runs and observed calls with it)
 * and apply the restore policy; every managed call `dispatched` with no live lease holder becomes `interrupted`
 * (invariant 6). Ends with `ReconcileCompleted` in the `system` stream. Runs in the background after start-up.
 */
@Injectable()
export class BootReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('BootReconciler');
  private readonly leases = new LeaseStore();
  private readonly owner = processOwnerId();
  private stopping = false;
  private readonly bootedAt = Date.now();
  /** Agent processes found at the start of this reconcile, by session id (one /proc scan, not one per session). */
  private agents?: Map<string, RuntimeIdentity[]>;
  private finished!: () => void;
  /** Resolves when the boot reconcile has ended (successfully or not). */
  readonly done = new Promise<void>((resolve) => (this.finished = resolve));
  /** The last report, once done. */
  report?: ReconcileReport;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SQL_DATABASE) private readonly db: SqlDatabase,
    private readonly projections: ProjectionRunner,
    private readonly readModels: ReadModels,
    private readonly sessions: SessionStreams,
    private readonly launcher: AgentLauncher,
    private readonly commands: CommandBus,
    @Optional() private readonly metrics?: RunledgerMetrics,
  ) {}

  onApplicationBootstrap(): void {
    void this.reconcile()
      .then((report) => (this.report = report))
      .catch((error: Error) => this.logger.error(`boot reconcile failed: ${error.stack ?? error.message}`))
      .finally(() => this.finished());
  }

  onApplicationShutdown(): void {
    this.stopping = true;
  }

  /** Runs the whole reconcile once and returns its counts. */
  async reconcile(): Promise<ReconcileReport> {
    const started = Date.now();
    const report: ReconcileReport = {
      pid: process.pid, owner: this.owner, sessions: 0, adopted: 0, interrupted: 0, relaunched: 0, notResumable: 0,
      toolCallsInterrupted: 0, transcriptResults: 0, snapshotsRebuilt: 0, skippedLeased: 0, ms: 0,
    };
    try {
      await this.projections.catchUp(CATCH_UP_TIMEOUT_MS);
    } catch (error) {
      this.logger.warn(`projections did not catch up (${(error as Error).message}); reconciling from the log`);
    }
    for (const lag of await findLaggingSnapshots(this.db)) {
      await rebuildSessionSnapshot(this.db, this.store, lag.sessionId);
      report.snapshotsRebuilt++;
      this.logger.warn(`snapshot of ${lag.sessionId} was at revision ${lag.snapshotRevision ?? 'none'}, stream at ${lag.streamRevision}: rebuilt`);
    }
    // Not terminated, plus any session (a killed one too) that still has a dispatched tool call (invariant 6).
    const { rows: withDispatched } = await this.db.query<{ session_id: string }>(`SELECT DISTINCT session_id FROM rl_rm_tool_calls WHERE status = 'dispatched'`);
    const ids = new Set([...(await this.readModels.listSessions({})).filter((s) => s.status !== 'terminated').map((s) => s.id), ...withDispatched.map((r) => r.session_id)]);
    const live = [...ids].map((id) => ({ id }));
    for (const view of live) {
      if (this.stopping) break;
      const resource = `reconcile:${view.id}`;
      if (!(await this.acquireOrTakeOver(resource))) {
        report.skippedLeased++;
        continue;
      }
      try {
        report.sessions++;
        await this.reconcileSession(view.id, report);
      } catch (error) {
        this.logger.error(`reconcile of ${view.id} failed: ${(error as Error).message}`);
      } finally {
        await this.leases.release(this.db, resource, this.owner).catch(() => undefined);
      }
    }
    report.ms = Date.now() - started;
    this.metrics?.recordReconcile({
      adopted: report.adopted, interrupted: report.interrupted, relaunched: report.relaunched, not_resumable: report.notResumable,
      tool_calls_interrupted: report.toolCallsInterrupted, transcript_results: report.transcriptResults, snapshots_rebuilt: report.snapshotsRebuilt,
    });
    await this.store.appendToStream(
      SYSTEM_STREAM,
      [{ eventId: randomUUID(), type: 'ReconcileCompleted', data: report, metadata: { actor: `reconciler:${this.owner}`, correlationId: randomUUID() } }],
      'any',
    );
    this.logger.log(
      `reconcile done in ${report.ms} ms: ${report.sessions} sessions, ${report.adopted} adopted, ${report.interrupted} interrupted ` +
        `(${report.relaunched} relaunched, ${report.notResumable} not resumable), ${report.toolCallsInterrupted} tool calls interrupted, ` +
        `${report.transcriptResults} results from transcripts, ${report.snapshotsRebuilt} snapshots rebuilt`,
    );
    return report;
  }

  /** Managed calls belong to their executor: each `dispatched` one is interrupted unless a live process holds its lease (invariant 6). */
  private async interruptOrphanedManagedCalls(sessionId: string, state: Session, report: ReconcileReport, context: CommandContext): Promise<void> {
    const orphans: SessionCommand[] = [];
    for (const call of state.toolCalls.values()) {
      if (call.status !== 'dispatched' || call.mode !== 'managed') continue;
      const lease = await this.leases.holder(this.db, toolCallLease(sessionId, call.callId, call.attempt));
      if (lease && ownerAlive(lease.owner)) continue;
      orphans.push({ type: 'InterruptToolCall', data: { callId: call.callId, reason: 'its executor is gone (runledger restarted)', at: new Date().toISOString() } });
    }
    if (orphans.length === 0) return;
    await this.sessions.decide(sessionId, () => orphans, context);
    report.toolCallsInterrupted += orphans.length;
  }

  /** Our lease on `resource`, taken over at once from a holder that is a dead process on this host (a crashed reconcile). */
  private async acquireOrTakeOver(resource: string): Promise<boolean> {
    if (await this.leases.acquire(this.db, resource, this.owner, RECONCILE_LEASE_TTL_MS)) return true;
    const holder = await this.leases.holder(this.db, resource);
    if (!holder) return (await this.leases.acquire(this.db, resource, this.owner, RECONCILE_LEASE_TTL_MS)) !== null;
    if (ownerAlive(holder.owner)) return false;
    return (await this.leases.takeOver(this.db, resource, holder.owner, this.owner, RECONCILE_LEASE_TTL_MS)) !== null;
  }

  private async reconcileSession(sessionId: string, report: ReconcileReport): Promise<void> {
    const context = systemContext(`reconciler:${this.owner}`);
    const at = () => new Date().toISOString();
    const { state } = await this.sessions.load(sessionId);
    if (state.status === 'terminated') {
      await this.interruptOrphanedManagedCalls(sessionId, state, report, context);
      return;
    }

    // Seed 003: results the agent's own transcript holds but the log lacks are appended first, and reported.
    let recoveredAny = false;
    if (state.transcriptPath && existsSync(state.transcriptPath)) {
      const results = await transcriptToolResults(state.transcriptPath);
      const recovered: SessionCommand[] = [];
      for (const call of state.toolCalls.values()) {
        const result = results.get(call.callId);
        if (!result || (call.status !== 'dispatched' && call.status !== 'interrupted')) continue;
        if (call.status === 'interrupted' && state.lateResults.some((late) => late.callId === call.callId && late.attempt === call.attempt)) continue;
        recovered.push(
          { type: 'RecordToolCallResult', data: { callId: call.callId, status: result.status, output: result.output, source: 'transcript', at: at() } },
          { type: 'RecordDivergence', data: { callId: call.callId, kind: 'result_only_in_transcript', detail: `the log showed ${call.status}; the transcript has a ${result.status} result`, at: at() } },
        );
        this.logger.warn(`${sessionId}: ${call.callId} was ${call.status} in the log but ${result.status} in the transcript: result appended from the transcript`);
      }
      if (recovered.length > 0) {
        await this.sessions.decide(sessionId, () => recovered, context);
        report.transcriptResults += recovered.length / 2;
        recoveredAny = true;
      }
    }

    const current = recoveredAny ? (await this.sessions.load(sessionId)).state : state;
    await this.interruptOrphanedManagedCalls(sessionId, current, report, context);
    // A spawn or restore this process started after boot is in the hands of its command handler, not reconcile's.
    if ((current.status === 'starting' || current.restoring) && Date.parse(current.updatedAt) >= this.bootedAt) return;

    if (current.agent === 'external') {
      // No runtime of ours to adopt or relaunch, and its agent's liveness is unknown: a call still dispatched has no
      // owner runledger can vouch for (invariant 6). It is interrupted; a result the agent posts later is kept as late.
      const unowned = current.toolCalls.values().filter((c) => c.status === 'dispatched' && c.mode === 'observed');
      if (unowned.length > 0) {
        await this.sessions.decide(
          sessionId,
          () => unowned.map((c): SessionCommand => ({ type: 'InterruptToolCall', data: { callId: c.callId, reason: 'owner unknown after a runledger restart (external session)', at: at() } })),
          context,
        );
        report.toolCallsInterrupted += unowned.length;
      }
      return;
    }
    // A retiring orchestrator belongs to its replacement: never adopted back, interrupted or relaunched (invariant 11).
    if (current.status === 'retiring') return;
    if (!this.launcher.isAlive(current.runtime)) {
      // Launched but never recorded (runledger died between the two): adopt it rather than launch a second agent.
      this.agents ??= this.launcher.agentProcesses();
      const unrecorded = this.launcher.findUnrecorded(sessionId, current.runtime, this.agents);
      if (unrecorded) {
        await this.sessions.decide(
          sessionId,
          (s) =>
            s.status === 'starting' || (s.status !== 'none' && s.restoring)
              ? [{ type: 'RecordRuntimeLaunched', data: { runtime: unrecorded, at: at() } }]
              : s.status === 'running' || s.status === 'interrupted'
                ? [{ type: 'AdoptSession', data: { runtime: unrecorded, at: at() } }]
                : [],
          context,
        );
        report.adopted++;
        this.logger.warn(`${sessionId}: adopted agent pid ${(unrecorded as { pid: number }).pid}, launched but never recorded`);
        return;
      }
    }
    if (this.launcher.isAlive(current.runtime)) {
      await this.sessions.decide(sessionId, (s) => (s.status === 'running' || s.status === 'interrupted' ? [{ type: 'AdoptSession', data: { runtime: current.runtime!, at: at() } }] : []), context);
      report.adopted++;
      return;
    }
    const decision = restoreDecision(current);
    const observed = current.toolCalls.values().filter((c) => c.status === 'dispatched' && c.mode === 'observed').length;
    if (current.status !== 'interrupted') {
      await this.sessions.decide(
        sessionId,
        () => [{ type: 'InterruptSession', data: { reason: 'runtime gone after a runledger restart', resumable: decision.relaunch, at: at() } }],
        context,
      );
      report.interrupted++;
      report.toolCallsInterrupted += observed; // the decider interrupts in-flight observed calls with their session
    }
    if (!decision.relaunch) {
      report.notResumable++;
      this.logger.warn(`${sessionId}: ${decision.why}`);
      return;
    }
    const restored = await this.commands.execute(new RestoreSessionCommand(sessionId, context));
    if ((restored as { status: string }).status === 'running') report.relaunched++;
    this.logger.log(`${sessionId}: ${decision.why}`);
  }
}
