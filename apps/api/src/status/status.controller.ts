import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { StatusView, SystemStatusService } from '@runledger/application';
import { ref } from '../openapi/schemas';

/** `GET /api/v1/status`: what `runledger status` prints (docs/ARCHITECTURE.md §6). */
@ApiTags('health')
@ApiBearerAuth('bearer')
@Controller('status')
export class StatusController {
  constructor(private readonly status: SystemStatusService) {}

  /** Server health, sessions by status, projection checkpoint and lag, the last reconcile report (null before one). */
  @Get()
  @ApiOkResponse({ description: 'server, sessions by status, projections, last reconcile', schema: ref('Status') })
  get(): Promise<StatusView> {
    return this.status.status();
  }
}
