import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OtlpLogsInvalidError, readOtlpToolRecords } from './otlp-log-records';

/** Claude Code 2.1.328's own OTLP logs as captured from the real CLI (see the fixture's `source`). */
const fixture = JSON.parse(readFileSync(join(__dirname, '../../../../../test/fixtures/otel/claude-code-2.1.328-otlp-logs.json'), 'utf8')) as {
  toolUseIds: string[];
  requests: Array<{ body: unknown }>;
};

describe('readOtlpToolRecords (Claude Code telemetry, docs/ARCHITECTURE.md §4g)', () => {
  it('reads the tool_decision and tool_result records of the real CLI, joined by tool_use_id; other events ignored', () => {
    const all = fixture.requests.map((r) => readOtlpToolRecords(r.body));
    const records = all.flatMap((r) => r.records);
    const [ok, failing] = fixture.toolUseIds;
    expect(records.map((r) => [r.callId, r.event, r.success, r.tool])).toEqual([
      [ok, 'tool_decision', undefined, 'Bash'],
      [ok, 'tool_result', true, 'Bash'],
      [failing, 'tool_decision', undefined, 'Bash'],
      [failing, 'tool_result', false, 'Bash'],
    ]);
    expect(records[0]).toMatchObject({ decision: 'accept', decisionSource: 'config', agentSessionId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(records[3]).toMatchObject({ error: 'Shell command failed', durationMs: expect.any(Number) });
    expect(Date.parse(records[1].at)).toBeGreaterThan(Date.parse(records[0].at) - 1);
    expect(all.reduce((n, r) => n + r.ignored, 0)).toBeGreaterThan(0);
    expect(all.every((r) => r.rejected.length === 0)).toBe(true);
  });

  it('rejects a tool record without tool_use_id naming it, and refuses a body that is not OTLP', () => {
    const body = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: [{ key: 'event.name', value: { stringValue: 'tool_result' } }, { key: 'session.id', value: { stringValue: 's' } }] }] }] }] };
    expect(readOtlpToolRecords(body).rejected).toEqual([{ field: 'resourceLogs[0].scopeLogs[0].logRecords[0].attributes.tool_use_id', message: 'a tool_result record needs tool_use_id' }]);
    const far = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '9'.repeat(25), attributes: [{ key: 'event.name', value: { stringValue: 'tool_result' } }, { key: 'session.id', value: { stringValue: 's' } }, { key: 'tool_use_id', value: { stringValue: 't' } }] }] }] }] };
    expect(readOtlpToolRecords(far).rejected).toEqual([expect.objectContaining({ field: 'resourceLogs[0].scopeLogs[0].logRecords[0].attributes.event.timestamp' })]);
    expect(() => readOtlpToolRecords({ resourceLogs: 'x' })).toThrow(OtlpLogsInvalidError);
    expect(() => readOtlpToolRecords([])).toThrow(expect.objectContaining({ field: 'body' }));
  });
});
