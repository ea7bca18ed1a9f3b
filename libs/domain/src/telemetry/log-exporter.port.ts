/** Status of an exported span: `ok`, or `error` with the reason the log gives (a failed call, an interrupted run). */
export type LedgerSpanStatus = { code: 'ok' } | { code: 'error'; message: string };

/** Attribute values a span carries (OTLP's scalar kinds). */
export type LedgerSpanAttributes = Record<string, string | number | boolean>;

/**
 * One finished span derived from the log (docs/ARCHITECTURE.md §4g): ids are lowercase hex (trace 32 chars, span 16),
 * derived from the events, so the same events always give the same span; times are epoch milliseconds from the events.
 */
export interface LedgerSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'internal' | 'client';
  startMs: number;
  endMs: number;
  status: LedgerSpanStatus;
  attributes: LedgerSpanAttributes;
}

/** Thrown by a LogExporter when the receiver did not take the spans (down, refused, timed out): the batch is sent again later. */
export class SpanExportFailedError extends Error {
  readonly code = 'TELEMETRY.EXPORT_FAILED';
  constructor(readonly spans: number, readonly reason: string) {
    super(`export of ${spans} spans failed: ${reason}`);
  }
}

/**
 * Where the log's spans go (the exporter port, declared here so the adapter in libs/infra/src/telemetry and the export subscription share it). `export`
 * resolves once the receiver took every span, and throws SpanExportFailedError otherwise (nothing is taken as sent).
 */
export interface LogExporter {
  /** Human-readable destination for logs (e.g. the OTLP traces URL). */
  readonly destination: string;
  export(spans: readonly LedgerSpan[]): Promise<void>;
  shutdown(): Promise<void>;
}
