import { Module } from '@nestjs/common';
import { ApplicationModule } from '@runledger/application';
import { ManagedToolExecutor } from './executor/managed-tool-executor';
import { ProjectionRunner } from './projections/projection-runner';

/** The worker role (DESIGN §1): projection runner, boot reconcile, managed tool-call executor, reaper. */
@Module({
  imports: [ApplicationModule],
  providers: [ProjectionRunner, ManagedToolExecutor],
  exports: [ProjectionRunner, ManagedToolExecutor],
})
export class WorkerModule {}
