import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { HealthView, SystemStreamService } from '@runledger/application';
import { Public } from '../http/public.decorator';
import { ref } from '../openapi/schemas';

/** `GET /api/v1/health`: readiness, no token needed (docs/ARCHITECTURE.md §5). */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly system: SystemStreamService) {}

  /** `{status, store, pid, version, headPosition}`; 500 if the store does not answer. */
  @Public()
  @Get()
  @ApiOkResponse({ description: 'ready', schema: ref('Health') })
  health(): Promise<HealthView> {
    return this.system.health();
  }
}
