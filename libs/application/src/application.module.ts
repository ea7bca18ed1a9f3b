import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DeciderStreams } from './event-sourcing/decider-streams';
import { SystemStreamService } from './system/system-stream.service';

/** Command handlers, query services and sagas shared by the api and the worker (DESIGN §1). */
@Module({
  imports: [CqrsModule],
  providers: [DeciderStreams, SystemStreamService],
  exports: [CqrsModule, DeciderStreams, SystemStreamService],
})
export class ApplicationModule {}
