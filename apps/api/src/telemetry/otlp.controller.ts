import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AgentTelemetry, CommandContext } from '@runledger/application';
import { SessionScoped } from '../http/public.decorator';
import { AnswersBeforeProjection } from '../http/read-your-writes.interceptor';
import { Ctx } from '../http/request-context';

/** OTLP's ExportLogsServiceResponse: empty when every record was taken, `partialSuccess` naming how many were refused and why. */
export interface OtlpLogsResponse {
  partialSuccess?: { rejectedLogRecords: number; errorMessage: string };
}

/** `POST /otlp/v1/logs`: an OTLP/HTTP JSON logs receiver for the coding agents' own telemetry (Claude Code's), the third source of a call. */
@ApiTags('telemetry')
@ApiBearerAuth('bearer')
@Controller('otlp')
export class OtlpController {
  constructor(private readonly telemetry: AgentTelemetry) {}

  /**
   * Takes an OTLP/HTTP JSON logs export request (what Claude Code posts with OTEL_LOGS_EXPORTER=otlp and
   * OTEL_EXPORTER_OTLP_PROTOCOL=http/json) and records its `tool_decision` / `tool_result` events on their sessions
   * (docs/ARCHITECTURE.md §4g). A session credential records on its own session; a person's token on the session
   * linked to each record's `session.id`. Answers OTLP's response: `{}`, or `partialSuccess` with the records refused.
   * 400 TELEMETRY.INVALID naming the field for a body that is not OTLP JSON.
   */
  @Post('v1/logs')
  @HttpCode(200)
  @SessionScoped({ header: 'x-runledger-session' })
  @AnswersBeforeProjection() // decides on session streams; finding a session by its agent id waits for the projection itself (AgentSessionDirectory)
  @ApiBody({ description: 'OTLP/HTTP JSON ExportLogsServiceRequest (`resourceLogs[].scopeLogs[].logRecords[]`)', schema: { type: 'object', additionalProperties: true } })
  @ApiOkResponse({ description: 'OTLP ExportLogsServiceResponse', schema: { type: 'object', properties: { partialSuccess: { type: 'object', properties: { rejectedLogRecords: { type: 'integer' }, errorMessage: { type: 'string' } } } } } })
  async logs(@Body() body: unknown, @Ctx() context: CommandContext, @Headers('x-runledger-session') sessionId?: string): Promise<OtlpLogsResponse> {
    const report = await this.telemetry.receiveLogs(body, sessionId || undefined, { ...context, via: 'otlp-logs' });
    if (report.rejected.length === 0) return {};
    const reasons = [...new Set(report.rejected.map((r) => `${r.field}: ${r.message}`))];
    return { partialSuccess: { rejectedLogRecords: report.rejected.length, errorMessage: reasons.slice(0, 5).join('; ') } };
  }
}
