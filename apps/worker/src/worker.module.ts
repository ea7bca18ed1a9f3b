import { Global, Module } from '@nestjs/common';
import { ApplicationModule, PROJECTION_PROGRESS } from '@runledger/application';
import { ManagedToolExecutor } from './executor/managed-tool-executor';
import { ProjectionRunner } from './projections/projection-runner';
import { BootReconciler } from './recovery/boot-reconciler';
import { WorktreeJanitor } from './reaper/worktree-janitor';

/**
 * The worker role (docs/ARCHITECTURE.md §1): projection runner, boot reconcile, managed tool-call executor, reaper.
 * Global so that, in a process that also serves the api, the api's optional PROJECTION_PROGRESS port resolves to
 * this runner without the api importing the worker.
 */
@Global()
@Module({
  imports: [ApplicationModule],
  providers: [ProjectionRunner, ManagedToolExecutor, BootReconciler, WorktreeJanitor, { provide: PROJECTION_PROGRESS, useExisting: ProjectionRunner }],
  exports: [ProjectionRunner, ManagedToolExecutor, BootReconciler, PROJECTION_PROGRESS],
})
export class WorkerModule {}
