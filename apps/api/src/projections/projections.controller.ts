import { Controller, Get, HttpCode, Inject, Optional, Post, ServiceUnavailableException } from '@nestjs/common';
import { PROJECTION_PROGRESS, ProjectionProgress } from '@runledger/application';
import { ApiBearerAuth, ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { SqlDatabase } from '@runledger/infra/database';
import { DeadLetter, listDeadLetters } from '@runledger/infra/read-models';
import { SQL_DATABASE } from '@runledger/infra/tokens';
import { ref } from '../openapi/schemas';

/** Progress of the rebuild running in this process, if any. */
export interface RebuildStatus {
  rebuilding: boolean;
  done: number;
  total: number;
  lag: number | null;
  /** Events the projection dead-lettered: how many, and the first ones in log order. */
  deadLetters: { count: number; first: DeadLetter[] };
}

/** `/projections`: rebuild the read models from the log (invariant 8) and watch its progress. */
@ApiTags('projections')
@ApiBearerAuth('bearer')
@ApiServiceUnavailableResponse({ description: 'this process does not run the worker role', schema: ref('Error') })
@Controller('projections')
export class ProjectionsController {
  private progress = { rebuilding: false, done: 0, total: 0 };

  constructor(
    @Optional() @Inject(PROJECTION_PROGRESS) private readonly progressPort: ProjectionProgress | null,
    @Inject(SQL_DATABASE) private readonly db: SqlDatabase,
  ) {}

  /** Drops and replays the read models; `{events, ms}` when done; 503 without the worker role, 409 if one is running. */
  @Post('rebuild')
  @HttpCode(200)
  // Waits for the projection like any write: it rebuilds the read models themselves (docs/ARCHITECTURE.md §5).
  @ApiOkResponse({ description: 'events replayed and wall time', schema: ref('RebuildResult') })
  async rebuild(): Promise<{ events: number; ms: number }> {
    const runner = this.runner();
    this.progress = { rebuilding: true, done: 0, total: 0 };
    try {
      const result = await runner.rebuild((done, total) => (this.progress = { rebuilding: true, done, total }));
      return { events: result.events, ms: result.ms };
    } finally {
      this.progress = { ...this.progress, rebuilding: false };
    }
  }

  /** `{rebuilding, done, total, lag, deadLetters}`: rebuild progress, the live projection's lag in events, and what it skipped. */
  @Get('status')
  @ApiOkResponse({ description: 'rebuild progress and live lag', schema: ref('RebuildStatus') })
  async status(): Promise<RebuildStatus> {
    const runner = this.runner();
    const { count, deadLetters } = await listDeadLetters(this.db, 100);
    return { ...this.progress, lag: this.progress.rebuilding ? null : await runner.lag(), deadLetters: { count, first: deadLetters } };
  }

  private runner(): ProjectionProgress {
    if (!this.progressPort) {
      throw new ServiceUnavailableException('this process does not run the projections (start it with `runledger start` or `runledger worker`)');
    }
    return this.progressPort;
  }
}
