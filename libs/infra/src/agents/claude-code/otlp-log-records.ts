import type { ToolCallTelemetryRecorded, ToolTelemetryEventName } from '@runledger/domain';

/**
 * One Claude Code tool telemetry record read from an OTLP/HTTP JSON logs body (`claude_code.tool_decision` /
 * `claude_code.tool_result`): the fields of ToolCallTelemetryRecorded but its key, with Claude Code's own session id
 * (`session.id`, by which runledger finds the session when no credential names it) and, for a hand-run agent, the
 * folder its resource names (`runledger.cwd`, set by `install-hooks --telemetry`: finds the project of a session no hook announced).
 */
export type ToolTelemetryRecord = Omit<ToolCallTelemetryRecorded['data'], 'key' | 'agentSessionId'> & { agentSessionId: string; cwd?: string };

/** Resource attribute naming the agent's folder (OTEL_RESOURCE_ATTRIBUTES of a hand-run session, docs/ARCHITECTURE.md §4g). */
export const CWD_RESOURCE_ATTRIBUTE = 'runledger.cwd';

/** What a logs body held: the tool records, records of other events (ignored), and records refused with the field at fault. */
export interface OtlpLogsRead {
  records: ToolTelemetryRecord[];
  ignored: number;
  rejected: Array<{ field: string; message: string }>;
}

/** Thrown when the body is not an OTLP/HTTP JSON logs export request; `field` names the path at fault. */
export class OtlpLogsInvalidError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

const TOOL_EVENTS: ReadonlySet<string> = new Set<ToolTelemetryEventName>(['tool_decision', 'tool_result']);

type AnyValue = Record<string, unknown>;
const scalar = (v: AnyValue | undefined): unknown => {
  if (!v || typeof v !== 'object') return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  return undefined;
};
const attributesOf = (list: unknown): Record<string, unknown> =>
  Object.fromEntries((Array.isArray(list) ? list : []).filter((a) => a && typeof a.key === 'string').map((a) => [a.key as string, scalar(a.value as AnyValue)]));
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);
const arrayAt = (value: unknown, field: string): unknown[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new OtlpLogsInvalidError(field, `${field} must be an array`);
  return value;
};

/**
 * Reads an OTLP/HTTP JSON logs body (ExportLogsServiceRequest) for Claude Code's tool events, as 2.1.328 sends them
 * (test/fixtures/otel: `event.name` `tool_decision` | `tool_result`, `session.id`, `tool_use_id`, `tool_name`,
 * `decision`/`source`, `success` "true"/"false", `duration_ms`, `error`, `event.timestamp`). Other events are counted as
 * ignored; a tool event without `tool_use_id` or `session.id` is rejected naming the attribute. Throws
 * OtlpLogsInvalidError when the body's shape is not OTLP's (`resourceLogs` etc. not arrays).
 */
export const readOtlpToolRecords = (body: unknown): OtlpLogsRead => {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new OtlpLogsInvalidError('body', 'expected an OTLP/HTTP JSON logs export request (an object with resourceLogs)');
  const out: OtlpLogsRead = { records: [], ignored: 0, rejected: [] };
  arrayAt((body as AnyValue).resourceLogs, 'resourceLogs').forEach((rl, i) => {
    const resource = attributesOf((rl as AnyValue)?.resource && ((rl as AnyValue).resource as AnyValue).attributes);
    arrayAt((rl as AnyValue)?.scopeLogs, `resourceLogs[${i}].scopeLogs`).forEach((sl, j) => {
      arrayAt((sl as AnyValue)?.logRecords, `resourceLogs[${i}].scopeLogs[${j}].logRecords`).forEach((record, k) => {
        const field = `resourceLogs[${i}].scopeLogs[${j}].logRecords[${k}]`;
        const r = (record ?? {}) as AnyValue;
        const attrs = { ...resource, ...attributesOf(r.attributes) };
        const bodyName = str(scalar(r.body as AnyValue));
        const name = str(attrs['event.name']) ?? (bodyName?.startsWith('claude_code.') ? bodyName.slice('claude_code.'.length) : undefined);
        if (!name || !TOOL_EVENTS.has(name)) {
          out.ignored += 1;
          return;
        }
        const callId = str(attrs.tool_use_id);
        const agentSessionId = str(attrs['session.id']);
        if (!callId) return void out.rejected.push({ field: `${field}.attributes.tool_use_id`, message: `a ${name} record needs tool_use_id` });
        if (!agentSessionId) return void out.rejected.push({ field: `${field}.attributes.session.id`, message: `a ${name} record needs session.id` });
        const nanos = str(r.timeUnixNano);
        const stamp = str(attrs['event.timestamp']);
        const ms = stamp && !Number.isNaN(Date.parse(stamp)) ? Date.parse(stamp) : nanos && /^\d{1,25}$/.test(nanos) ? Number(BigInt(nanos) / 1_000_000n) : NaN;
        const at = Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : undefined; // the range a Date can hold
        if (!at) return void out.rejected.push({ field: `${field}.attributes.event.timestamp`, message: `a ${name} record needs event.timestamp or timeUnixNano` });
        const success = attrs.success === true || attrs.success === 'true' ? true : attrs.success === false || attrs.success === 'false' ? false : undefined;
        const duration = Number(attrs.duration_ms);
        out.records.push({
          agentSessionId, callId, event: name as ToolTelemetryEventName, at,
          ...(str(attrs.tool_name) ? { tool: str(attrs.tool_name) } : {}),
          ...(str(attrs.decision) ? { decision: str(attrs.decision) } : {}),
          ...(name === 'tool_decision' && str(attrs.source) ? { decisionSource: str(attrs.source) } : {}),
          ...(success !== undefined ? { success } : {}),
          ...(attrs.duration_ms !== undefined && Number.isFinite(duration) ? { durationMs: duration } : {}),
          ...(str(attrs.error) ? { error: str(attrs.error) } : {}),
          ...(str(attrs[CWD_RESOURCE_ATTRIBUTE]) ? { cwd: str(attrs[CWD_RESOURCE_ATTRIBUTE]) } : {}),
        });
      });
    });
  });
  return out;
};
