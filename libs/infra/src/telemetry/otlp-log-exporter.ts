import { SpanKind, SpanStatusCode, type HrTime } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { LedgerSpan, LogExporter, SpanExportFailedError } from '@runledger/domain';

const hr = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/** The traces URL the OTLP/HTTP exporter posts to, from the standard variables (`…_TRACES_ENDPOINT` as is, else `…_ENDPOINT` + `/v1/traces`). */
export const otlpTracesUrl = (env: NodeJS.ProcessEnv): string | undefined => {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
};

/**
 * The LogExporter adapter for OTLP/HTTP JSON (@opentelemetry/exporter-trace-otlp-http, which reads the standard
 * OTEL_EXPORTER_OTLP_* variables itself: endpoint, headers, timeout, compression). Each LedgerSpan becomes a finished
 * ReadableSpan with its own ids and times; the resource is `service.name` (OTEL_SERVICE_NAME, default `runledger`) and
 * `service.version`. `export` throws SpanExportFailedError when the receiver did not take the batch.
 */
export class OtlpLogExporter implements LogExporter {
  readonly destination: string;
  private readonly exporter: OTLPTraceExporter;
  private readonly resource;
  private readonly scope = { name: 'runledger', version: '' };

  constructor(env: NodeJS.ProcessEnv, version: string) {
    this.destination = otlpTracesUrl(env) ?? 'http://localhost:4318/v1/traces';
    // The URL from `env` (the same standard variables the package reads from process.env, which stay in force for headers and timeout).
    this.exporter = new OTLPTraceExporter({ url: this.destination });
    this.resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || 'runledger', [ATTR_SERVICE_VERSION]: version });
    this.scope.version = version;
  }

  async export(spans: readonly LedgerSpan[]): Promise<void> {
    if (spans.length === 0) return;
    const result = await new Promise<ExportResult>((resolve) => this.exporter.export(spans.map((s) => this.readable(s)), resolve));
    if (result.code !== ExportResultCode.SUCCESS) throw new SpanExportFailedError(spans.length, result.error?.message ?? 'the receiver did not accept the spans');
  }

  async shutdown(): Promise<void> {
    await this.exporter.shutdown();
  }

  private readable(span: LedgerSpan): ReadableSpan {
    const context = { traceId: span.traceId, spanId: span.spanId, traceFlags: 1 };
    return {
      name: span.name,
      kind: span.kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL,
      spanContext: () => context,
      ...(span.parentSpanId ? { parentSpanContext: { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: 1 } } : {}),
      startTime: hr(span.startMs),
      endTime: hr(span.endMs),
      duration: hr(span.endMs - span.startMs),
      status: span.status.code === 'ok' ? { code: SpanStatusCode.OK } : { code: SpanStatusCode.ERROR, message: span.status.message },
      attributes: span.attributes,
      links: [],
      events: [],
      ended: true,
      resource: this.resource,
      instrumentationScope: this.scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  }
}
