import { Global, Module } from '@nestjs/common';
import { ApplicationModule, LOG_EXPORTER, PROJECTION_PROGRESS, WORKTREE_SWEEPER } from '@runledger/application';
import type { RunledgerConfig } from '@runledger/infra/config';
import { OtlpLogExporter } from '@runledger/infra/telemetry';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { LogExportRunner } from './telemetry/log-export.runner';
import { ManagedToolExecutor } from './executor/managed-tool-executor';
import { NotificationSubscriber } from './notifications/notification-subscriber';
import { WebhookDeliverer } from './notifications/webhook-deliverer';
import { ProjectionRunner } from './projections/projection-runner';
import { BootReconciler } from './recovery/boot-reconciler';
import { HealthWatcher } from './recovery/health-watcher';
import { RuntimeWatcher } from './recovery/runtime-watcher';
import { OrphanReaper } from './reaper/orphan-reaper';
import { OrphanReaperScheduler } from './reaper/orphan-reaper.scheduler';
import { WorktreeJanitor } from './reaper/worktree-janitor';
import { WorkerLedger } from './worker-ledger';

/**
 * The worker role (docs/ARCHITECTURE.md §1): projection runner, boot reconcile, runtime and health watchers, managed tool-call executor, reaper.
 * Global so that, in a process that also serves the api, the api's optional PROJECTION_PROGRESS and WORKTREE_SWEEPER ports resolve to
 * this runner without the api importing the worker.
 */
@Global()
@Module({
  imports: [ApplicationModule],
  providers: [
    ProjectionRunner, WorkerLedger, ManagedToolExecutor, NotificationSubscriber, WebhookDeliverer, BootReconciler, WorktreeJanitor, OrphanReaper, OrphanReaperScheduler, RuntimeWatcher, HealthWatcher,
    LogExportRunner,
    // The OTLP adapter of the LogExporter port, only when an OTEL_EXPORTER_OTLP_* endpoint is set (docs/ARCHITECTURE.md §4g).
    { provide: LOG_EXPORTER, useFactory: (config: RunledgerConfig) => (config.otel.exportSpans ? new OtlpLogExporter(process.env, config.version) : null), inject: [RUNLEDGER_CONFIG] },
    { provide: PROJECTION_PROGRESS, useExisting: ProjectionRunner },
    { provide: WORKTREE_SWEEPER, useExisting: OrphanReaper },
  ],
  exports: [ProjectionRunner, ManagedToolExecutor, BootReconciler, OrphanReaper, RuntimeWatcher, HealthWatcher, PROJECTION_PROGRESS, WORKTREE_SWEEPER],
})
export class WorkerModule {}
