import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SessionReconciler, SessionViews, systemContext, Notifications } from '@runledger/application';
import { HEALTH_FLAGS, HealthFlag, sessionStreamName } from '@runledger/domain';
import { RunledgerConfig } from '@runledger/infra/config';
import { RunledgerMetrics } from '@runledger/infra/metrics';
import { ReadModels } from '@runledger/infra/read-models';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { BootReconciler } from './boot-reconciler';

/** One health sweep: the live sessions (running or starting) carrying each flag, and those reconciled because of it. */
export interface HealthSweep {
  flagged: Record<HealthFlag, string[]>;
  reconciled: string[];
}

/**
 * Watches the hook channel of live sessions (docs/ARCHITECTURE.md §4a): every `health.intervalMs` it computes the health
 * flags of each running or starting session (hooks silent while working, a call dispatched without its result, a runtime gone
 * without SessionEnd) with the same rule the snapshots use, publishes the counts as `runledger_sessions_health{flag}`,
 * and reconciles a flagged session with its transcript (a result the hooks missed is healed, a dead runtime recorded).
 * A session is reconciled again only after its log changed, so a flag that stays raised costs one reconcile.
 */
@Injectable()
export class HealthWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('HealthWatcher');
  private timer?: NodeJS.Timeout;
  private running?: Promise<HealthSweep>;
  private stopped = false;
  /** The snapshot revision each session was last reconciled at by this watcher. */
  private readonly reconciledAt = new Map<string, number>();

  constructor(
    private readonly readModels: ReadModels,
    private readonly views: SessionViews,
    private readonly reconciler: SessionReconciler,
    private readonly metrics: RunledgerMetrics,
    private readonly boot: BootReconciler,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
    private readonly notifications: Notifications,
  ) {}

  onApplicationBootstrap(): void {
    void this.boot.done.then(() => {
      if (this.stopped) return;
      this.timer = setInterval(() => void this.sweep(), this.config.health.intervalMs);
      this.timer.unref();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One sweep (a sweep already running is joined, not doubled); never throws (failures are logged). */
  sweep(): Promise<HealthSweep> {
    this.running ??= this.sweepOnce()
      .catch((error: Error) => {
        this.logger.warn(`health sweep failed: ${error.message}`);
        return { flagged: { no_signal: [], unfinished_call: [], no_session_end: [] }, reconciled: [] };
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepOnce(): Promise<HealthSweep> {
    // Claude sessions recorded through installed hooks (external) stay `starting`: they have no runtime to launch.
    const sessions = [...(await this.readModels.listSessions({ status: 'running' })), ...(await this.readModels.listSessions({ status: 'starting' }))];
    const open = await this.readModels.openCallsSince(sessions.map((s) => s.id));
    const flagged: Record<HealthFlag, string[]> = { no_signal: [], unfinished_call: [], no_session_end: [] };
    const reconciled: string[] = [];
    for (const stored of sessions) {
      if (this.stopped) break;
      const view = this.views.withLiveness(stored, open.get(stored.id));
      const flags = (view.health ?? []) as HealthFlag[];
      for (const flag of flags) flagged[flag].push(view.id);
      // A person is needed when the hooks went silent while the agent works (docs/ARCHITECTURE.md §4i): once per revision.
      if (flags.includes('no_signal')) {
        await this.notifications
          .raise({ kind: 'no_signal', sessionId: view.id, summary: `${view.id}: its agent's hooks are silent while it works (no_signal)` }, { streamId: sessionStreamName(view.id), revision: view.revision, type: 'health:no_signal' }, systemContext('health-watcher'))
          .catch((error: Error) => this.logger.warn(`${view.id}: no_signal notification failed: ${error.message}`));
      }
      if (flags.length === 0 || this.reconciledAt.get(view.id) === view.revision) continue;
      try {
        const result = await this.reconciler.reconcile(view.id, 'watch', systemContext('health-watcher'));
        if (result.outcome === 'skipped') continue;
        for (const flag of flags) this.metrics.healthReconciles.inc({ flag });
        this.reconciledAt.set(view.id, result.session?.revision ?? view.revision);
        reconciled.push(view.id);
        this.logger.log(`${view.id} (${flags.join(', ')}): reconciled with its transcript, ${result.outcome}, ${result.appended} events appended`);
      } catch (error) {
        this.logger.warn(`${view.id}: reconcile on its health flags failed: ${(error as Error).message}`);
      }
    }
    for (const flag of HEALTH_FLAGS) this.metrics.sessionHealth.set({ flag }, flagged[flag].length);
    const live = new Set(sessions.map((s) => s.id));
    for (const id of this.reconciledAt.keys()) if (!live.has(id)) this.reconciledAt.delete(id);
    return { flagged, reconciled };
  }
}
