import type { AgentTelemetryTarget } from '../agent-adapter';

/** How often Claude Code sends its buffered telemetry logs (ms): short, so a call's telemetry joins it within about a second. */
export const CLAUDE_TELEMETRY_INTERVAL_MS = 1000;

/**
 * The environment that turns Claude Code's own telemetry on and sends its logs (only: no metrics, no traces) to
 * runledger as OTLP/HTTP JSON with the session's credential (docs/ARCHITECTURE.md §4g; the variables Claude Code 2.1.328
 * reads, measured in test/fixtures/otel). Prompts and tool details stay as Claude Code redacts them by default.
 */
export const claudeTelemetryEnv = (target: AgentTelemetryTarget): Record<string, string> => ({
  CLAUDE_CODE_ENABLE_TELEMETRY: '1',
  OTEL_LOGS_EXPORTER: 'otlp',
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_TRACES_EXPORTER: 'none',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
  OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: target.logsUrl,
  ...(target.credential
    ? { OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${target.credential}`, OTEL_EXPORTER_OTLP_LOGS_HEADERS: `Authorization=Bearer ${target.credential}` }
    : {}),
  OTEL_LOGS_EXPORT_INTERVAL: String(CLAUDE_TELEMETRY_INTERVAL_MS),
  ...(target.caFile ? { OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: target.caFile } : {}),
});

/** Every variable claudeTelemetryEnv may set, and the resource attributes install-hooks adds: what uninstall-hooks takes back out. */
export const CLAUDE_TELEMETRY_ENV_KEYS: readonly string[] = [
  ...Object.keys(claudeTelemetryEnv({ logsUrl: '', credential: 'x', caFile: 'x' })),
  'OTEL_RESOURCE_ATTRIBUTES',
];
