import { Controller, HttpCode, Post, ServiceUnavailableException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ProjectionRunner } from '../../../worker/src/projections/projection-runner';

/** `POST /projections/rebuild`: drop the read models and replay the whole log (DESIGN invariant 8). */
@Controller('projections')
export class ProjectionsController {
  constructor(private readonly modules: ModuleRef) {}

  /** `{events, ms}`; 503 when this process does not run the worker role. */
  @Post('rebuild')
  @HttpCode(200)
  async rebuild(): Promise<{ events: number; ms: number }> {
    let runner: ProjectionRunner;
    try {
      runner = this.modules.get(ProjectionRunner, { strict: false });
    } catch {
      throw new ServiceUnavailableException('this process does not run the projections (start it with `runledger start` or `runledger worker`)');
    }
    return runner.rebuild();
  }
}
