import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { LOG_EXPORTER, SpanContentMode, spansOfEvents, TraceState, sessionOfStream } from '@runledger/application';
import type { LogExporter } from '@runledger/domain';
import { SqlDatabase } from '@runledger/infra/database';
import { Checkpoint, EventStore, LogEntry, START, Subscription } from '@runledger/infra/event-store';
import { commitLogExport, loadLogExportCheckpoint, loadTraceStates, LogExportCheckpointMovedError } from '@runledger/infra/telemetry';
import { EVENT_STORE, RUNLEDGER_CONFIG, SQL_DATABASE } from '@runledger/infra/tokens';
import type { RunledgerConfig } from '@runledger/infra/config';

/** Events per export batch: one read of the log, one commit of the checkpoint; its spans go out as several OTLP requests at once (OtlpLogExporter). */
const BATCH_SIZE = 8_000;
/** Once caught up, appends gather this long before the next batch (ms): fewer, fuller OTLP requests, so a live export costs appends little (bench/otel). */
export const LOG_EXPORT_COALESCE_MS = 2_000;
/** Backoff after a failed export (ms): doubles from the first to the last while the receiver stays away. */
const BACKOFF_MS = { first: 250, max: 5_000 };

/** Thrown by a batch that waits out the backoff: not an error, the subscription offers the batch again after its poll interval. */
class BackingOff extends Error {}

/**
 * The OTLP span export (docs/ARCHITECTURE.md §4g): a checkpointed subscription to the whole log, apart from the read
 * models'. Each batch is folded into spans (`spansOfEvents`, with each session's state from `rl_otel_traces`), sent
 * through the LogExporter port, and only once the receiver took them are the states and the checkpoint committed in
 * one transaction. A receiver that is down holds the checkpoint (the same batch is sent again, with backoff), so
 * nothing is lost; a restart resumes from the checkpoint; the span ids derive from the events, so the one batch that
 * can be sent twice (taken by the receiver, then runledger stopped before its commit) carries the same ids again.
 */
@Injectable()
export class LogExportRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SpanExport');
  private subscription: Subscription | null = null;
  private readFrom: Checkpoint = START;
  private retryAt = 0;
  private backoffMs = BACKOFF_MS.first;
  private lastError = '';
  /** Spans the receiver took since this process started. */
  exported = 0;

  constructor(
    @Inject(SQL_DATABASE) private readonly db: SqlDatabase,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
    @Optional() @Inject(LOG_EXPORTER) private readonly exporter: LogExporter | null,
  ) {}

  /** Nest hook: starts the export from its stored checkpoint when an exporter is configured. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.exporter) await this.start();
  }

  /** Nest hook: stops the subscription (the batch in flight ends first) and shuts the exporter down. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
    await this.exporter?.shutdown().catch(() => undefined);
  }

  private async start(): Promise<void> {
    this.readFrom = await loadLogExportCheckpoint(this.db);
    // Entries, not whole events: spans read no metadata, event ids or hashes (bench/otel).
    this.subscription = this.store.subscribeToAllEntries({
      from: this.readFrom,
      batchSize: BATCH_SIZE,
      coalesceMs: LOG_EXPORT_COALESCE_MS,
      // While catching up, the next batch is read from the log while this one's spans are with the receiver.
      readAhead: true,
      onEvents: (events) => this.onEvents(events),
      onError: (error) => this.onError(error),
    });
    this.logger.log(`exporting spans to ${this.exporter!.destination} after position ${this.readFrom.globalPosition} (content: ${this.config.otel.content})`);
  }

  private async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = null;
    await subscription?.stop();
  }

  private async onEvents(events: LogEntry[]): Promise<void> {
    if (Date.now() < this.retryAt) throw new BackingOff();
    const sessions = [...new Set(events.map((e) => sessionOfStream(e.streamId)).filter((s): s is string => s !== null))];
    const traces = (await loadTraceStates(this.db, sessions)) as Map<string, TraceState>;
    const { spans, changed } = spansOfEvents(events, traces, this.config.otel.content as SpanContentMode);
    try {
      await this.exporter!.export(spans);
    } catch (error) {
      this.retryAt = Date.now() + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MS.max);
      throw error;
    }
    this.backoffMs = BACKOFF_MS.first;
    this.retryAt = 0;
    const last = events[events.length - 1];
    const checkpoint = { transactionId: last.transactionId, globalPosition: last.globalPosition };
    await this.db.transaction((tx) => commitLogExport(tx, this.readFrom, checkpoint, new Map([...changed].map((id) => [id, traces.get(id)]))));
    this.readFrom = checkpoint;
    this.exported += spans.length;
    if (this.lastError) this.logger.log(`span export resumed: ${spans.length} spans taken by ${this.exporter!.destination}`);
    this.lastError = '';
  }

  private onError(error: unknown): void {
    if (error instanceof BackingOff) return;
    if (error instanceof LogExportCheckpointMovedError) {
      // Another exporter committed this batch: continue from the stored checkpoint, outside the subscription's handler.
      void (async () => {
        await this.stop();
        await this.start();
      })().catch((e) => this.logger.error(`span export could not resubscribe: ${(e as Error).message}`));
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (message !== this.lastError) this.logger.warn(`span export held at position ${this.readFrom.globalPosition} (retrying with backoff): ${message}`);
    this.lastError = message;
  }
}
