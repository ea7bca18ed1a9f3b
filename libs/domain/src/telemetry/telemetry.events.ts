/** Claude Code's own telemetry events runledger joins to tool calls (its OTLP log records' `event.name`). */
export type ToolTelemetryEventName = 'tool_decision' | 'tool_result';

/**
 * The agent's own telemetry told of a tool call (docs/ARCHITECTURE.md §4g, the third source beside hooks and
 * transcript): Claude Code's `claude_code.tool_decision` (accept/reject, and who decided) or `claude_code.tool_result`
 * (success, duration, error), joined by `tool_use_id` = `callId`. `key` (`<callId>:<event>`) is the idempotency key:
 * a record sent again appends nothing. `at` is the agent's own event time.
 */
export interface ToolCallTelemetryRecorded {
  type: 'ToolCallTelemetryRecorded';
  data: {
    key: string;
    callId: string;
    event: ToolTelemetryEventName;
    tool?: string;
    agentSessionId?: string;
    decision?: string;
    decisionSource?: string;
    success?: boolean;
    durationMs?: number;
    error?: string;
    at: string;
  };
}

/** Record one telemetry sighting of a tool call; `[]` when its key is already recorded. */
export interface RecordToolCallTelemetry {
  type: 'RecordToolCallTelemetry';
  data: ToolCallTelemetryRecorded['data'];
}

/** The idempotency key of a telemetry sighting: the call and the telemetry event. */
export const telemetryKey = (callId: string, event: ToolTelemetryEventName): string => `${callId}:${event}`;
