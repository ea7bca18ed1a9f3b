import { ConfigError } from '@runledger/infra/config';
import { AppendResult, EventStore, WrongExpectedRevisionError } from '@runledger/infra/event-store';
import { correlationIdFrom, httpLogLevel, logLevelOf } from '@runledger/infra/logging';
import { instrumentEventStore, RunledgerMetrics, streamKindOf } from '@runledger/infra/metrics';

/** A stand-in store: appendToStream answers from a script, everything else is a marker the decorator must pass through. */
class FakeStore {
  appended: string[] = [];
  constructor(private readonly fail = false) {}
  async appendToStream(streamId: string, events: { type: string }[]): Promise<AppendResult> {
    if (this.fail) throw new WrongExpectedRevisionError(streamId, 0, 3);
    this.appended.push(...events.map((e) => e.type));
    return { nextRevision: events.length - 1, positions: events.map((_, i) => i + 1), idempotent: false };
  }
  async headPosition(): Promise<number> {
    return this.appended.length; // uses `this`: must be bound to the real store
  }
  async *readStream(): AsyncIterable<string> {
    yield* this.appended;
  }
}

const sample = async (metrics: RunledgerMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> => {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value;
};

describe('append instrumentation and logging helpers', () => {
  it('classifies streams by kind', () => {
    expect(['session-p-1', 'project-p', 'system', 'import-x'].map(streamKindOf)).toEqual(['session', 'project', 'system', 'other']);
  });

  it('counts appends, events, failures and latency, and passes every other member through to the store', async () => {
    const metrics = new RunledgerMetrics(null, { defaultMetrics: false });
    const fake = new FakeStore();
    const seen: string[] = [];
    const store = instrumentEventStore(fake as unknown as EventStore, metrics, (streamId, events) => seen.push(`${streamId}:${events.length}`));
    await store.appendToStream('session-a', [{ eventId: 'e1', type: 'A', data: {} }, { eventId: 'e2', type: 'B', data: {} }], 'no_stream');
    await store.appendToStream('system', [{ eventId: 'e3', type: 'C', data: {} }], 'any');
    expect(await store.headPosition()).toBe(3);
    const read: unknown[] = [];
    for await (const e of store.readStream('x')) read.push(e);
    expect(read).toEqual(['A', 'B', 'C']);
    expect(store).toBeInstanceOf(FakeStore);
    expect(seen).toEqual(['session-a:2', 'system:1']);
    expect(await sample(metrics, 'runledger_appends_total', { stream_kind: 'session' })).toBe(1);
    expect(await sample(metrics, 'runledger_appended_events_total', { stream_kind: 'session' })).toBe(2);
    expect(await sample(metrics, 'runledger_appends_total', { stream_kind: 'system' })).toBe(1);
    const text = await metrics.scrape();
    expect(text).toContain('runledger_append_duration_seconds_count{stream_kind="session"} 1');

    const failing = instrumentEventStore(new FakeStore(true) as unknown as EventStore, metrics);
    await expect(failing.appendToStream('session-a', [{ eventId: 'e4', type: 'D', data: {} }], 0)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    expect(await sample(metrics, 'runledger_append_failures_total', { stream_kind: 'session' })).toBe(1);
    expect(await sample(metrics, 'runledger_appends_total', { stream_kind: 'session' })).toBe(1);
    expect(await metrics.scrape()).toContain('runledger_append_duration_seconds_count{stream_kind="session"} 2');
  });

  it('sums reconcile reports and uses the projection lag source it is given', async () => {
    const metrics = new RunledgerMetrics(null, { defaultMetrics: false });
    const report = { adopted: 1, interrupted: 2, relaunched: 1, not_resumable: 1, tool_calls_interrupted: 3, transcript_results: 0, snapshots_rebuilt: 1 };
    metrics.recordReconcile(report);
    metrics.recordReconcile(report);
    expect(await sample(metrics, 'runledger_reconcile_outcomes_total', { outcome: 'tool_calls_interrupted' })).toBe(6);
    expect(await sample(metrics, 'runledger_reconcile_outcomes_total', { outcome: 'transcript_results' })).toBe(0);
    metrics.useProjectionLag(async () => 7);
    expect(await metrics.scrape()).toContain('runledger_projection_lag_events 7');
  });

  it('reads the correlation id from the header when well-formed, and the level from RUNLEDGER_LOG_LEVEL', () => {
    expect(correlationIdFrom('test-corr-1')).toBe('test-corr-1');
    expect(correlationIdFrom(['a:b.c', 'x'])).toBe('a:b.c');
    expect(correlationIdFrom('bad id with spaces')).toMatch(/^[0-9a-f-]{36}$/);
    expect(correlationIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
    expect(logLevelOf({})).toBe('info');
    expect(logLevelOf({ RUNLEDGER_LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(logLevelOf({ RUNLEDGER_LOG_LEVEL: 'log' })).toBe('info');
    expect(() => logLevelOf({ RUNLEDGER_LOG_LEVEL: 'loud' })).toThrow(ConfigError);
  });

  it('logs a request by what its status says: faults at error, an outage (503) and refusals at warn, probes at debug', () => {
    expect(httpLogLevel(500, '/api/v1/sessions', false)).toBe('error');
    expect(httpLogLevel(200, '/api/v1/sessions', true)).toBe('error');
    expect(httpLogLevel(503, '/api/v1/sessions', false)).toBe('warn');
    expect(httpLogLevel(503, '/api/v1/sessions', true)).toBe('warn');
    expect(httpLogLevel(409, '/api/v1/sessions/s-1/resume', false)).toBe('warn');
    expect(httpLogLevel(200, '/api/v1/health', false)).toBe('debug');
    expect(httpLogLevel(200, '/api/v1/metrics', false)).toBe('debug');
    expect(httpLogLevel(201, '/api/v1/sessions', false)).toBe('info');
  });
});
