import { Controller, Get } from '@nestjs/common';
import { HealthView, SystemStreamService } from '@runledger/application';
import { Public } from '../http/public.decorator';

/** `GET /api/v1/health`: readiness, no token needed (DESIGN §5). */
@Controller('health')
export class HealthController {
  constructor(private readonly system: SystemStreamService) {}

  /** `{status, store, pid, version, headPosition}`; 500 if the store does not answer. */
  @Public()
  @Get()
  health(): Promise<HealthView> {
    return this.system.health();
  }
}
