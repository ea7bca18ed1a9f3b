import { performance } from 'node:perf_hooks';
import { sessionIdOfStream } from '@runledger/domain';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { loadCheckpoint, RecordedEvent, saveCheckpoint, START, Subscription } from '@runledger/infra/event-store';
import { LeaseStore, processOwnerId, toolCallLease } from '@runledger/infra/leases';
import { BootReconciler } from '../recovery/boot-reconciler';
import { WorkerLedger } from '../worker-ledger';
import { runTool, ToolInputError, validateToolCall } from '@runledger/infra/tools';
import { ProjectEnv, ServerAddress, sessionWorkdir, systemContext, ToolCallIntake } from '@runledger/application';

/** Subscription (and checkpoint) id of the executor. */
export const EXECUTOR_SUBSCRIPTION = 'managed-executor';
/** Lease time-to-live of an executing call (ms); renewed every third of it while the tool runs. */
export const EXECUTION_LEASE_TTL_MS = 15_000;
/** How long a graceful shutdown waits for running tools before leaving them to lease expiry and reconcile (ms). */
export const SHUTDOWN_WAIT_MS = 10_000;
/**
 * A batch with no managed call moves the stored checkpoint at most this often (ms): skipping it costs a restart only a
 * re-read of those events (a re-read attempt is leased again and finds its call settled), and saves a transaction per
 * batch of hook traffic.
 */
export const IDLE_CHECKPOINT_EVERY_MS = 1_000;

interface Dispatched {
  callId: string;
  tool: string;
  input: unknown;
  mode: string;
  attempt: number;
}

/**
 * Executes managed tool calls after their `ToolCallDispatched` is committed (invariant 4): a checkpointed
 * subscription takes a lease on each new managed attempt in the same transaction as its checkpoint, so each attempt
 * is executed at most once across workers and restarts; a crash mid-execution leaves the lease to expire and reconcile
 * marks the call interrupted (invariant 6). The result is appended as soon as the tool ends (invariant 5), through the
 * tool-call intake (redacted).
 */
@Injectable()
export class ManagedToolExecutor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ManagedToolExecutor');
  private readonly leases = new LeaseStore();
  readonly owner = processOwnerId();
  private subscription?: Subscription;
  private readonly running = new Set<Promise<void>>();
  /** When the checkpoint was last stored (ms, performance clock). */
  private checkpointSavedAt = 0;

  constructor(
    private readonly ledger: WorkerLedger,
    private readonly intake: ToolCallIntake,
    private readonly projectEnv: ProjectEnv,
    private readonly address: ServerAddress,
    private readonly reconciler: BootReconciler,
  ) {}

  onApplicationBootstrap(): void {
    // Calls dispatched before this start are reconcile's to settle first (interrupted, or left to a live owner).
    void this.reconciler.done.then(() => (this.stopped ? undefined : this.start())).catch((error: Error) => this.logger.error(`start: ${error.message}`));
  }

  private stopped = false;

  private async start(): Promise<void> {
    let from = await loadCheckpoint(this.ledger.db, EXECUTOR_SUBSCRIPTION);
    if (from === START || from.globalPosition === 0) {
      // First start: calls dispatched before this executor existed are reconcile's business, not re-executed.
      from = await this.ledger.store.headCheckpoint();
      await this.ledger.db.transaction((tx) => saveCheckpoint(tx, EXECUTOR_SUBSCRIPTION, from));
    }
    this.subscription = this.ledger.store.subscribeToAll({
      from,
      onEvents: (events) => this.claim(events),
      onError: (error) => this.logger.error(`subscription: ${(error as Error).message}`),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.subscription?.stop();
    const all = Promise.allSettled([...this.running]);
    await Promise.race([all, new Promise((r) => setTimeout(r, SHUTDOWN_WAIT_MS).unref())]);
    await this.leases.releaseAll(this.ledger.db, this.owner).catch(() => undefined);
  }

  /**
   * Leases the batch's new managed attempts and stores the checkpoint in one transaction, then starts them. A batch
   * without managed attempts stores its checkpoint only every IDLE_CHECKPOINT_EVERY_MS.
   */
  private async claim(events: RecordedEvent[]): Promise<void> {
    const candidates: { sessionId: string; call: Dispatched }[] = [];
    for (const event of events) {
      const sessionId = sessionIdOfStream(event.streamId);
      if (event.type !== 'ToolCallDispatched' || sessionId === undefined) continue;
      const call = event.data as Dispatched;
      if (call.mode === 'managed') candidates.push({ sessionId, call });
    }
    const now = performance.now();
    if (candidates.length === 0 && now - this.checkpointSavedAt < IDLE_CHECKPOINT_EVERY_MS) return;
    const mine: { sessionId: string; call: Dispatched }[] = [];
    const last = events[events.length - 1];
    await this.ledger.db.transaction(async (tx) => {
      for (const candidate of candidates) {
        if (await this.leases.acquire(tx, toolCallLease(candidate.sessionId, candidate.call.callId, candidate.call.attempt), this.owner, EXECUTION_LEASE_TTL_MS)) {
          mine.push(candidate);
        }
      }
      await saveCheckpoint(tx, EXECUTOR_SUBSCRIPTION, { transactionId: last.transactionId, globalPosition: last.globalPosition });
    });
    this.checkpointSavedAt = now;
    for (const item of mine) {
      const run = this.execute(item.sessionId, item.call).catch((error: Error) =>
        this.logger.error(`${item.sessionId}/${item.call.callId}: ${error.message}`),
      );
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }
  }

  private async execute(sessionId: string, dispatched: Dispatched): Promise<void> {
    const resource = toolCallLease(sessionId, dispatched.callId, dispatched.attempt);
    const context = systemContext(`executor:${this.owner}`);
    const renew = setInterval(() => void this.leases.renew(this.ledger.db, resource, this.owner, EXECUTION_LEASE_TTL_MS).catch(() => undefined), EXECUTION_LEASE_TTL_MS / 3);
    try {
      const { state } = await this.ledger.sessions.load(sessionId);
      const call = state.toolCalls.get(dispatched.callId);
      if (!call || call.status !== 'dispatched' || call.attempt !== dispatched.attempt) return; // already settled
      const { state: project } = await this.ledger.sessions.project(state.projectId);
      const workdir = sessionWorkdir(this.ledger.config.dataDir, project, sessionId);
      let outcome;
      try {
        outcome = await runTool(validateToolCall(call.tool, call.input, workdir), workdir, {
          ...(await this.projectEnv.values(project)),
          RUNLEDGER_URL: this.address.url,
          ...(this.address.caFile ? { RUNLEDGER_CA_FILE: this.address.caFile } : {}),
          RUNLEDGER_SESSION_ID: sessionId,
        });
      } catch (error) {
        if (!(error instanceof ToolInputError)) throw error;
        outcome = { status: 'failed' as const, output: null, error: `${error.field}: ${error.message}` };
      }
      await this.intake.recordResult(
        sessionId,
        dispatched.callId,
        { attempt: dispatched.attempt, status: outcome.status, source: 'executor', output: outcome.output, exitCode: outcome.exitCode, error: outcome.error },
        context,
      );
    } finally {
      clearInterval(renew);
      await this.leases.release(this.ledger.db, resource, this.owner).catch(() => undefined);
    }
  }
}
