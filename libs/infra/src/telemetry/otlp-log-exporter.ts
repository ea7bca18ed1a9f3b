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

/** Most spans in one OTLP request. */
export const OTLP_REQUEST_MAX_SPANS = 1_000;
/** Most attribute text in one OTLP request (characters; a span with content carries up to 2 × 16,384): under a collector's 20 MiB body limit. */
export const OTLP_REQUEST_MAX_CHARS = 4_000_000;
/** OTLP requests of one export in flight at once: the receiver reads one while the next is serialized and sent. */
export const OTLP_REQUESTS_IN_FLIGHT = 3;

/** Characters of a span's attribute text (keys and string values), the bulk of its OTLP JSON. */
const attributeChars = (span: LedgerSpan): number => {
  let chars = 0;
  for (const key in span.attributes) {
    const value = span.attributes[key];
    chars += key.length + (typeof value === 'string' ? value.length : 8);
  }
  return chars;
};

/** `spans` in order, cut into requests of at most OTLP_REQUEST_MAX_SPANS spans and OTLP_REQUEST_MAX_CHARS characters of attributes (a bigger span alone). */
export const otlpRequestsOf = (spans: readonly LedgerSpan[]): LedgerSpan[][] => {
  const requests: LedgerSpan[][] = [];
  let current: LedgerSpan[] = [];
  let chars = 0;
  for (const span of spans) {
    const size = attributeChars(span);
    if (current.length > 0 && (current.length >= OTLP_REQUEST_MAX_SPANS || chars + size > OTLP_REQUEST_MAX_CHARS)) {
      requests.push(current);
      current = [];
      chars = 0;
    }
    current.push(span);
    chars += size;
  }
  if (current.length > 0) requests.push(current);
  return requests;
};

/**
 * The LogExporter adapter for OTLP/HTTP JSON (@opentelemetry/exporter-trace-otlp-http, which reads the standard
 * OTEL_EXPORTER_OTLP_* variables itself: endpoint, headers, timeout, compression). Each LedgerSpan becomes a finished
 * ReadableSpan with its own ids and times; the resource is `service.name` (OTEL_SERVICE_NAME, default `runledger`) and
 * `service.version`. A batch goes out as OTLP requests of otlpRequestsOf, up to OTLP_REQUESTS_IN_FLIGHT at once;
 * `export` resolves once every request was taken and throws SpanExportFailedError when one was not (no new request
 * starts after a failure; the caller sends the whole batch again, with the same span ids).
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
    const requests = otlpRequestsOf(spans);
    let next = 0;
    let failure: string | undefined;
    const sender = async () => {
      while (next < requests.length && failure === undefined) {
        const request = requests[next++];
        const result = await new Promise<ExportResult>((resolve) => this.exporter.export(request.map((s) => this.readable(s)), resolve));
        if (result.code !== ExportResultCode.SUCCESS) failure ??= result.error?.message ?? 'the receiver did not accept the spans';
      }
    };
    await Promise.all(Array.from({ length: Math.min(OTLP_REQUESTS_IN_FLIGHT, requests.length) }, sender));
    if (failure !== undefined) throw new SpanExportFailedError(spans.length, failure);
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
