import { Module } from '@nestjs/common';
import { ApplicationModule } from '@runledger/application';
import { ManagedToolExecutor } from './executor/managed-tool-executor';
import { ProjectionRunner } from './projections/projection-runner';
import { BootReconciler } from './recovery/boot-reconciler';
import { OrphanReaper } from './reaper/orphan-reaper';
import { OrphanReaperScheduler } from './reaper/orphan-reaper.scheduler';
import { WorktreeJanitor } from './reaper/worktree-janitor';

/** The worker role (DESIGN §1): projection runner, boot reconcile, managed tool-call executor, reaper. */
@Module({
  imports: [ApplicationModule],
  providers: [ProjectionRunner, ManagedToolExecutor, BootReconciler, WorktreeJanitor, OrphanReaper, OrphanReaperScheduler],
  exports: [ProjectionRunner, ManagedToolExecutor, BootReconciler, OrphanReaper],
})
export class WorkerModule {}
