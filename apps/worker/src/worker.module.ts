import { Module } from '@nestjs/common';
import { ApplicationModule } from '@runledger/application';

/** The worker role (DESIGN §1): projection runner, boot reconcile, managed tool-call executor, reaper. */
@Module({
  imports: [ApplicationModule],
})
export class WorkerModule {}
