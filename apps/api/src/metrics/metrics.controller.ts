import { Controller, Get, Header, Inject, Optional } from '@nestjs/common';
import { PROJECTION_PROGRESS, ProjectionProgress } from '@runledger/application';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { RunledgerMetrics } from '@runledger/infra/metrics';
import { Registry } from 'prom-client';

/** `GET /api/v1/metrics`: Prometheus text exposition of the process's dedicated registry (bearer token, docs/ARCHITECTURE.md §5). */
@ApiTags('observability')
@ApiBearerAuth('bearer')
@Controller('metrics')
export class MetricsController {
  private runnerLooked = false;

  constructor(
    private readonly metrics: RunledgerMetrics,
    @Optional() @Inject(PROJECTION_PROGRESS) private readonly progress: ProjectionProgress | null,
  ) {}

  /** Every runledger series (appends, append latency, tool calls and sessions by status, projection lag, reconcile outcomes) and the process defaults. */
  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format 0.0.4)' })
  @ApiProduces(Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOkResponse({ description: 'Prometheus text format', content: { [Registry.PROMETHEUS_CONTENT_TYPE]: { schema: { type: 'string' } } } })
  scrape(): Promise<string> {
    this.useInProcessProjectionLag();
    return this.metrics.scrape();
  }

  /** With the worker role in this process, the lag is the projection's own (ProjectionProgress); otherwise the registry reads checkpoint vs head. */
  private useInProcessProjectionLag(): void {
    if (this.runnerLooked) return;
    this.runnerLooked = true;
    const progress = this.progress;
    if (progress) this.metrics.useProjectionLag(() => progress.lag());
  }
}
