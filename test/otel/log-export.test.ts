import { randomUUID } from 'node:crypto';
import type { LedgerSpan, LogExporter } from '@runledger/domain';
import { SpanExportFailedError } from '@runledger/domain';
import { migrate } from '@runledger/infra/database';
import type { RunledgerConfig } from '@runledger/infra/config';
import { NewEvent } from '@runledger/infra/event-store';
import { loadLogExportCheckpoint, logExportMigration } from '@runledger/infra/telemetry';
import { LogExportRunner } from '../../apps/worker/src/telemetry/log-export.runner';
import { eventually } from '../support/http-client';
import { describeEachEngine } from '../support/stores';

/** A LogExporter that keeps what it was sent, and refuses everything while `down` (a receiver that is away). */
class RecordingExporter implements LogExporter {
  readonly destination = 'memory';
  down = false;
  attempts = 0;
  readonly taken: LedgerSpan[] = [];
  async export(spans: readonly LedgerSpan[]): Promise<void> {
    this.attempts += 1;
    if (this.down) throw new SpanExportFailedError(spans.length, 'receiver down');
    this.taken.push(...spans);
  }
  async shutdown(): Promise<void> {}
}

const config = { otel: { exportSpans: true, content: 'none' } } as RunledgerConfig;
const ev = (type: string, data: Record<string, unknown>): NewEvent => ({ eventId: randomUUID(), type, data: { ...data, at: new Date().toISOString() } });

/**
 * The span export's subscription on both engines (docs/ARCHITECTURE.md §4g): the checkpoint and the open spans'
 * state (rl_otel_traces) commit only after the exporter took the batch, so an exporter that is down holds the export
 * and a new runner (a restart) resumes where the last one stopped, with starts seen before the restart, sending each
 * span once.
 */
describeEachEngine('OTLP span export subscription', (engine) => {
  it('holds while the exporter is down, resumes after a restart with the starts it had seen, sends every span once', async () => {
    const { db, store } = engine();
    await migrate(db, [logExportMigration]);
    const stream = `session-ot-${randomUUID().slice(0, 8)}`;
    await store.appendToStream(stream, [ev('AgentRunStarted', { runId: 'r1' }), ev('ToolCallDispatched', { callId: 'c1', tool: 'Bash', input: {}, mode: 'observed', attempt: 1, runId: 'r1' })], 'no_stream');

    const exporter = new RecordingExporter();
    const first = new LogExportRunner(db, store, config, exporter);
    await first.onApplicationBootstrap();
    await eventually(async () => (await loadLogExportCheckpoint(db)).globalPosition > 0 || null, 'the starts to be committed', 15_000);
    expect(exporter.taken).toEqual([]); // nothing ended yet: no span
    exporter.down = true;
    await store.appendToStream(stream, [ev('ToolCallCompleted', { callId: 'c1', attempt: 1, source: 'hook' }), ev('AgentRunCompleted', { runId: 'r1' })], 1);
    await eventually(() => exporter.attempts >= 3 || null, 'retries against the receiver that is down', 15_000);
    const held = await loadLogExportCheckpoint(db);
    await first.beforeApplicationShutdown(); // the restart

    const second = new LogExportRunner(db, store, config, exporter);
    expect(await loadLogExportCheckpoint(db)).toEqual(held);
    exporter.down = false;
    await second.onApplicationBootstrap();
    await eventually(() => exporter.taken.length >= 2 || null, 'both spans after the restart', 15_000);
    await second.beforeApplicationShutdown();
    expect(exporter.taken.map((s) => [s.name, s.attributes['gen_ai.tool.call.id'] ?? s.attributes['gen_ai.agent.id']])).toEqual([['execute_tool Bash', 'c1'], ['invoke_agent agent', 'r1']]);
    expect(exporter.taken[0].parentSpanId).toBe(exporter.taken[1].spanId);
    expect((await loadLogExportCheckpoint(db)).globalPosition).toBeGreaterThan(held.globalPosition);
  });
});
