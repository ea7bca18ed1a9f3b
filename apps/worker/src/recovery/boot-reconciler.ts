import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { AgentLauncher, RUNLEDGER_ACTOR, SessionReconciler, SYSTEM_STREAM, systemContext } from '@runledger/application';
import type { RuntimeIdentity, TmuxPane } from '@runledger/infra/runtime';
import { RunledgerMetrics } from '@runledger/infra/metrics';
import { findLaggingSnapshots, loadSessionSnapshots, rebuildSessionSnapshot, sessionHeads, SnapshotFallbackReason } from '@runledger/infra/read-models';
import { WorkerLedger } from '../worker-ledger';

/** How long reconcile waits for the projections to catch up before it goes on from the log alone (ms). */
export const CATCH_UP_TIMEOUT_MS = 120_000;
/** Sessions read in one bulk pass before their reconciles (two chunks, this one and the next, stay below the decider's stream cache, so none is evicted before use). */
const PRELOAD_CHUNK = 200;
/** Sessions of a chunk reconciled at once: their round trips (lease, fresh read, append, release) overlap; below the pool's 10 connections. */
export const RECONCILE_CONCURRENCY = 4;

/** Counts of one boot reconcile, appended to the `system` stream as `ReconcileCompleted`. */
export interface ReconcileReport {
  pid: number;
  owner: string;
  sessions: number;
  adopted: number;
  interrupted: number;
  relaunched: number;
  notResumable: number;
  /** Sessions whose agent had finished: recorded `exited`, never relaunched (invariant 14). */
  exited: number;
  /** Calls appended from transcripts that the log never saw (invariant 15). */
  transcriptCalls: number;
  toolCallsInterrupted: number;
  transcriptResults: number;
  snapshotsRebuilt: number;
  skippedLeased: number;
  ms: number;
  /**
   * Where the sessions' states came from: their read-model snapshots (at their stream's head, loadSessionSnapshots), or
   * a fold of their log, with how many were folded for each reason a snapshot could not serve.
   */
  loadedFrom: { snapshots: number; log: number; why: Partial<Record<SnapshotFallbackReason, number>> };
  /** Where the time went (ms): projections caught up, lagging snapshots found and rebuilt, sessions listed, sessions read and reconciled. */
  phases: { catchUp: number; snapshots: number; list: number; sessions: number };
}

/**
 * The worker's start-up reconcile (docs/ARCHITECTURE.md §4), in order: catch the projections up; rebuild snapshots whose revision lags
 * their stream (invariant 8); then every session that is not terminated (and any with a dispatched call) goes through
 * the SessionReconciler (its lease makes two workers do it once; the pure reconcile policy decides: adopted, exited,
 * interrupted and relaunched natively or fresh, the log made equal to the transcript). Ends with `ReconcileCompleted`
 * in the `system` stream. Runs in the background after start-up.
 */
@Injectable()
export class BootReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('BootReconciler');
  private stopping = false;
  /** Agent processes found at the start of this reconcile, by session id (one /proc scan, not one per session). */
  private agents?: Map<string, RuntimeIdentity[]>;
  /** The tmux server's panes at the start of this reconcile (one `tmux list-panes`, not one per session). */
  private panes?: TmuxPane[];
  private finished!: () => void;
  /** Resolves when the boot reconcile has ended (successfully or not). */
  readonly done = new Promise<void>((resolve) => (this.finished = resolve));
  /** The last report, once done. */
  report?: ReconcileReport;

  constructor(
    private readonly ledger: WorkerLedger,
    private readonly launcher: AgentLauncher,
    private readonly reconciler: SessionReconciler,
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
      pid: process.pid, owner: this.reconciler.owner, sessions: 0, adopted: 0, interrupted: 0, relaunched: 0, notResumable: 0, exited: 0, transcriptCalls: 0,
      toolCallsInterrupted: 0, transcriptResults: 0, snapshotsRebuilt: 0, skippedLeased: 0, ms: 0,
      loadedFrom: { snapshots: 0, log: 0, why: {} }, phases: { catchUp: 0, snapshots: 0, list: 0, sessions: 0 },
    };
    let mark = started;
    const phase = (name: keyof ReconcileReport['phases']) => {
      report.phases[name] = Date.now() - mark;
      mark = Date.now();
    };
    try {
      await this.ledger.projections.catchUp(CATCH_UP_TIMEOUT_MS);
    } catch (error) {
      this.logger.warn(`projections did not catch up (${(error as Error).message}); reconciling from the log`);
    }
    phase('catchUp');
    // Stream heads read once: to find lagging snapshots, then to take the states of sessions from snapshots at their head.
    const heads = await sessionHeads(this.ledger.store);
    for (const lag of await findLaggingSnapshots(this.ledger.db, this.ledger.store, heads)) {
      heads.set(lag.sessionId, await rebuildSessionSnapshot(this.ledger.db, this.ledger.store, lag.sessionId));
      report.snapshotsRebuilt++;
      this.logger.warn(`snapshot of ${lag.sessionId} was at revision ${lag.snapshotRevision ?? 'none'}, stream at ${lag.streamRevision}: rebuilt`);
    }
    phase('snapshots');
    // Not terminated, plus any session (a killed one too) that still has a dispatched tool call (invariant 6).
    const { rows: withDispatched } = await this.ledger.db.query<{ session_id: string }>(`SELECT DISTINCT session_id FROM rl_rm_tool_calls WHERE status = 'dispatched'`);
    const ids = new Set([...(await this.ledger.readModels.listSessions({})).filter((s) => s.status !== 'terminated').map((s) => s.id), ...withDispatched.map((r) => r.session_id)]);
    const live = [...ids];
    phase('list');
    // Sessions are read in bulk, a chunk at a time: from their read-model snapshots where these are at the stream's head
    // and can be vouched for, else folded from the log (one pass over their streams instead of a read per session); then
    // reconciled a few at a time (each under its own lease, so the order between sessions is free).
    // The next chunk is read while this one is reconciled (its read overlaps this chunk's appends).
    const read = (from: number) => {
      const reading = this.loadChunk(live.slice(from, from + PRELOAD_CHUNK), heads, report);
      reading.catch(() => undefined); // awaited below; not an unhandled rejection if the reconcile stops first
      return reading;
    };
    let reading = read(0);
    for (let i = 0; i < live.length && !this.stopping; i += PRELOAD_CHUNK) {
      const chunk = live.slice(i, i + PRELOAD_CHUNK);
      const loaded = await reading;
      if (i + PRELOAD_CHUNK < live.length) reading = read(i + PRELOAD_CHUNK);
      let next = 0;
      const lane = async () => {
        while (next < chunk.length && !this.stopping) {
          const id = chunk[next++];
          try {
            await this.reconcileSession(id, report, loaded.has(id));
          } catch (error) {
            this.logger.error(`reconcile of ${id} failed: ${(error as Error).message}`);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(RECONCILE_CONCURRENCY, chunk.length) }, lane));
    }
    phase('sessions');
    const why = Object.entries(report.loadedFrom.why).map(([reason, n]) => `${n} ${reason}`).join(', ');
    this.logger.log(`sessions read: ${report.loadedFrom.snapshots} from snapshots, ${report.loadedFrom.log} folded from the log${why ? ` (${why})` : ''}`);
    report.ms = Date.now() - started;
    this.metrics?.recordReconcile({
      adopted: report.adopted, interrupted: report.interrupted, relaunched: report.relaunched, not_resumable: report.notResumable,
      tool_calls_interrupted: report.toolCallsInterrupted, transcript_results: report.transcriptResults, snapshots_rebuilt: report.snapshotsRebuilt,
    });
    await this.ledger.store.appendToStream(
      SYSTEM_STREAM,
      [{ eventId: randomUUID(), type: 'ReconcileCompleted', data: report, metadata: { actor: RUNLEDGER_ACTOR, via: `reconciler:${this.reconciler.owner}`, correlationId: randomUUID() } }],
      'any',
    );
    this.logger.log(
      `reconcile done in ${report.ms} ms: ${report.sessions} sessions, ${report.adopted} adopted, ${report.interrupted} interrupted ` +
        `(${report.relaunched} relaunched, ${report.notResumable} not resumable), ${report.toolCallsInterrupted} tool calls interrupted, ` +
        `${report.transcriptResults} results from transcripts, ${report.snapshotsRebuilt} snapshots rebuilt`,
    );
    return report;
  }

  /**
   * Reads the states of a chunk of sessions into the session streams' cache: from their read-model snapshots
   * (loadSessionSnapshots, against `heads`), the others folded from the log (SessionStreams.loadMany); counted in
   * `report.loadedFrom` with the reason of each fold. Returns the ids read (a session with no stream is left out).
   */
  private async loadChunk(ids: string[], heads: ReadonlyMap<string, number>, report: ReconcileReport): Promise<Set<string>> {
    const load = await loadSessionSnapshots(this.ledger.db, ids, heads);
    const loaded = await this.ledger.sessions.loadManyFrom(load);
    report.loadedFrom.snapshots += load.snapshots.size;
    report.loadedFrom.log += load.fallbacks.size;
    for (const reason of load.fallbacks.values()) report.loadedFrom.why[reason] = (report.loadedFrom.why[reason] ?? 0) + 1;
    return new Set(loaded.keys());
  }

  /** One session through the shared reconciler, its outcome added to the report. */
  private async reconcileSession(sessionId: string, report: ReconcileReport, loaded: boolean): Promise<void> {
    const context = systemContext(`reconciler:${this.reconciler.owner}`);
    this.agents ??= this.launcher.agentProcesses();
    this.panes ??= this.launcher.tmuxPanes();
    const result = await this.reconciler.reconcile(sessionId, 'boot', context, { agents: this.agents, panes: this.panes, loaded });
    if (result.outcome === 'skipped') {
      report.skippedLeased++;
      return;
    }
    report.sessions++;
    report.toolCallsInterrupted += result.counts.toolCallsInterrupted;
    report.transcriptResults += result.counts.resultsFromTranscript;
    report.transcriptCalls += result.counts.callsFromTranscript;
    if (result.outcome === 'adopted') report.adopted++;
    if (result.outcome === 'exited') report.exited++;
    if (result.outcome === 'interrupted' && result.appended > 0) report.interrupted++;
    if (result.relaunched?.status === 'running') report.relaunched++;
    if (result.outcome === 'interrupted' && !result.relaunched) report.notResumable++;
    // A line for a session the reconcile acted on; the others (nothing appended, nothing relaunched) are in the counts.
    if (result.outcome !== 'unchanged' && result.outcome !== 'terminal' && (result.appended > 0 || result.relaunched)) {
      this.logger.log(`${sessionId}: ${result.outcome}: ${result.why}`);
    }
  }
}
