import { HEALTH_FLAGS, parseStreamName, type ParsedStreamName } from '@runledger/domain';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SqlExecutor } from '../database/sql-database';
import { listDeadLetters } from '../read-models/projection-checkpoint';

/** Nest injection token of the process's prom-client Registry (a dedicated one, never prom-client's global registry). */
export const METRICS_REGISTRY = Symbol('MetricsRegistry');

/** The kind of stream an append went to: the `stream_kind` label of the append series. */
export type StreamKind = ParsedStreamName['kind'];

/** Every `stream_kind` value, pre-created at 0 so the series exist before the first append. */
export const STREAM_KINDS: readonly StreamKind[] = ['session', 'project', 'worktree', 'system', 'other'];

/** Session statuses, reported at 0 when no session has them (docs/ARCHITECTURE.md §3). */
export const SESSION_STATUSES = ['starting', 'running', 'interrupted', 'retiring', 'terminated'] as const;

/** Tool-call statuses, reported at 0 when no call has them (docs/ARCHITECTURE.md §2). */
export const TOOL_CALL_STATUSES = ['dispatched', 'completed', 'failed', 'interrupted'] as const;

/** The `outcome` values of `runledger_reconcile_outcomes_total`, one per count of a boot reconcile's report. */
export const RECONCILE_OUTCOMES = [
  'adopted', 'interrupted', 'relaunched', 'not_resumable', 'tool_calls_interrupted', 'transcript_results', 'snapshots_rebuilt',
] as const;

/** One `outcome` label of `runledger_reconcile_outcomes_total`. */
export type ReconcileOutcome = (typeof RECONCILE_OUTCOMES)[number];

/** Buckets of `runledger_append_duration_seconds` (1 ms … 5 s: a PGlite append takes ~0.5–1 ms, a contended one much more). */
export const APPEND_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** `stream_kind` of a stream id: `session-…`, `project-…`, `system`, anything else `other`. */
export const streamKindOf = (streamId: string): StreamKind => parseStreamName(streamId).kind;

/** Where the projection lag comes from: the in-process ProjectionRunner when there is one, else checkpoint vs head. */
export type ProjectionLagSource = () => Promise<number>;

/** Reports a scrape-time query failure (the series is left empty for that scrape rather than failing the whole scrape). */
export type ScrapeErrorHandler = (series: string, error: unknown) => void;

const countByStatus = async (db: SqlExecutor, table: 'rl_rm_sessions' | 'rl_rm_tool_calls'): Promise<Map<string, number>> => {
  const { rows } = await db.query<{ status: string; n: string | number }>(`SELECT status, count(*) AS n FROM ${table} GROUP BY status`);
  return new Map(rows.map((r) => [r.status, Number(r.n)]));
};

/**
 * runledger's Prometheus series (names are a contract, README "Observability") on a dedicated Registry:
 * append counters and latency (fed by the EventStore decorator), reconcile outcomes (fed by the boot reconciler), and
 * gauges computed at scrape time from the read models (`rl_rm_sessions`, `rl_rm_tool_calls`: one GROUP BY each) and
 * from the projection checkpoint.
 */
export class RunledgerMetrics {
  /** The registry every series below is registered in (plus the default process/nodejs series). */
  readonly registry: Registry;
  /** `runledger_appends_total{stream_kind}`: successful appendToStream calls (an idempotent re-append included). */
  readonly appends: Counter<'stream_kind'>;
  /** `runledger_appended_events_total{stream_kind}`: events written (an idempotent re-append writes none). */
  readonly appendedEvents: Counter<'stream_kind'>;
  /** `runledger_append_failures_total{stream_kind}`: appendToStream calls that threw (conflicts included). */
  readonly appendFailures: Counter<'stream_kind'>;
  /** `runledger_append_duration_seconds{stream_kind}`: wall time of appendToStream, successful or not. */
  readonly appendDuration: Histogram<'stream_kind'>;
  /** `runledger_reconcile_outcomes_total{outcome}`: the counts of every boot reconcile's report, summed. */
  readonly reconcileOutcomes: Counter<'outcome'>;
  /** `runledger_sessions{status}`: sessions by status in the read model, at scrape time. */
  readonly sessions: Gauge<'status'>;
  /** `runledger_tool_calls{status}`: tool calls by status in the read model, at scrape time. */
  readonly toolCalls: Gauge<'status'>;
  /** `runledger_projection_lag_events`: events committed that the read models do not hold yet, at scrape time. */
  readonly projectionLag: Gauge;
  /** `runledger_projection_dead_letters`: events the projection could not project and skipped (rl_rm_dead_letters), at scrape time. */
  readonly projectionDeadLetters: Gauge;
  /** `runledger_reaper_decisions_total{action,rule}`: decisions of the orphan-worktree reaper that changed something (docs/ARCHITECTURE.md §4b). */
  readonly reaperDecisions: Counter<'action' | 'rule'>;
  /** `runledger_sessions_health{flag}`: live (running or starting) sessions carrying each hook-channel health flag, at the worker's last health sweep (docs/ARCHITECTURE.md §4a). */
  readonly sessionHealth: Gauge<'flag'>;
  /** `runledger_health_reconciles_total{flag}`: transcript reconciles the worker started because a session carried the flag. */
  readonly healthReconciles: Counter<'flag'>;
  /** `runledger_worktrees_stranded`: worktrees flagged stranded (session records and held orphans), at scrape time. */
  readonly strandedWorktrees: Gauge;
  private lagSource: ProjectionLagSource | null = null;
  /** `runledger_span_export_lag_events`: events committed that the OTLP span export has not sent yet, at scrape time; registered by useSpanExportLag (only with an exporter configured). */
  private spanExportLag: Gauge | null = null;
  private readonly onScrapeError: ScrapeErrorHandler;

  constructor(db: SqlExecutor | null, options: { registry?: Registry; defaultMetrics?: boolean; onScrapeError?: ScrapeErrorHandler } = {}) {
    const registry = (this.registry = options.registry ?? new Registry());
    const onError: ScrapeErrorHandler = (this.onScrapeError = options.onScrapeError ?? (() => undefined));
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
    this.appends = new Counter({
      name: 'runledger_appends_total', help: 'Successful appends to the event store (appendToStream calls), by stream kind.',
      labelNames: ['stream_kind'], registers: [registry],
    });
    this.appendedEvents = new Counter({
      name: 'runledger_appended_events_total', help: 'Events written to the event store, by stream kind.',
      labelNames: ['stream_kind'], registers: [registry],
    });
    this.appendFailures = new Counter({
      name: 'runledger_append_failures_total', help: 'Appends that failed (wrong expected revision, invalid batch, database error), by stream kind.',
      labelNames: ['stream_kind'], registers: [registry],
    });
    this.appendDuration = new Histogram({
      name: 'runledger_append_duration_seconds', help: 'Latency of an append to the event store (one transaction), by stream kind.',
      labelNames: ['stream_kind'], buckets: APPEND_DURATION_BUCKETS, registers: [registry],
    });
    for (const kind of STREAM_KINDS) {
      this.appends.inc({ stream_kind: kind }, 0);
      this.appendedEvents.inc({ stream_kind: kind }, 0);
      this.appendFailures.inc({ stream_kind: kind }, 0);
    }
    this.reconcileOutcomes = new Counter({
      name: 'runledger_reconcile_outcomes_total', help: 'Outcomes of boot reconciles: sessions adopted, interrupted, relaunched, … (summed over reconciles).',
      labelNames: ['outcome'], registers: [registry],
    });
    for (const outcome of RECONCILE_OUTCOMES) this.reconcileOutcomes.inc({ outcome }, 0);
    this.reaperDecisions = new Counter({
      name: 'runledger_reaper_decisions_total', help: 'Decisions of the orphan-worktree reaper that were recorded, by action and rule.',
      labelNames: ['action', 'rule'], registers: [registry],
    });
    this.sessionHealth = new Gauge({
      name: 'runledger_sessions_health', help: 'Live (running or starting) sessions carrying each hook-channel health flag, at the last health sweep.',
      labelNames: ['flag'], registers: [registry],
    });
    this.healthReconciles = new Counter({
      name: 'runledger_health_reconciles_total', help: 'Transcript reconciles started because a session carried a hook-channel health flag.',
      labelNames: ['flag'], registers: [registry],
    });
    for (const flag of HEALTH_FLAGS) {
      this.sessionHealth.set({ flag }, 0);
      this.healthReconciles.inc({ flag }, 0);
    }
    const stranded: Gauge = (this.strandedWorktrees = new Gauge({
      name: 'runledger_worktrees_stranded', help: 'Worktrees flagged stranded (work that would be lost; never removed), at scrape time.', registers: [registry],
      collect: async () => {
        if (!db) return;
        try {
          const { rows } = await db.query<{ n: string | number }>(
            `SELECT (SELECT count(*) FROM rl_rm_worktrees WHERE stranded) + (SELECT count(*) FROM rl_rm_custody_worktrees c WHERE c.stranded AND c.status = 'held'
               AND NOT EXISTS (SELECT 1 FROM rl_rm_worktrees w WHERE w.path = c.path)) AS n`,
          );
          stranded.set(Number(rows[0]?.n ?? 0));
        } catch (error) {
          onError('runledger_worktrees_stranded', error);
        }
      },
    }));

    const byStatus = (gauge: Gauge<'status'>, table: 'rl_rm_sessions' | 'rl_rm_tool_calls', known: readonly string[]) => async () => {
      if (!db) return;
      try {
        const counts = await countByStatus(db, table);
        gauge.reset();
        for (const status of new Set([...known, ...counts.keys()])) gauge.set({ status }, counts.get(status) ?? 0);
      } catch (error) {
        gauge.reset();
        onError(table, error);
      }
    };
    const sessions: Gauge<'status'> = (this.sessions = new Gauge({
      name: 'runledger_sessions', help: 'Sessions by status (read model, at scrape time).', labelNames: ['status'], registers: [registry],
      collect: () => byStatus(sessions, 'rl_rm_sessions', SESSION_STATUSES)(),
    }));
    const toolCalls: Gauge<'status'> = (this.toolCalls = new Gauge({
      name: 'runledger_tool_calls', help: 'Tool calls by status (read model, at scrape time).', labelNames: ['status'], registers: [registry],
      collect: () => byStatus(toolCalls, 'rl_rm_tool_calls', TOOL_CALL_STATUSES)(),
    }));
    this.projectionLag = this.lagGauge('runledger_projection_lag_events', 'Events committed to the log that the read-model projection has not processed yet.', 'projection_lag', () => this.lagSource);
    const deadLetters: Gauge = (this.projectionDeadLetters = new Gauge({
      name: 'runledger_projection_dead_letters', help: 'Events the read-model projection could not project and skipped (GET /projections/status lists them); 0 when healthy.',
      registers: [registry],
      collect: async () => {
        if (!db) return;
        try {
          deadLetters.set((await listDeadLetters(db, 0)).count);
        } catch (error) {
          deadLetters.reset();
          onError('runledger_projection_dead_letters', error);
        }
      },
    }));
  }

  /** Measures `runledger_projection_lag_events` with `source` (events after the read models' checkpoint); unset, the gauge is not reported. */
  useProjectionLag(source: ProjectionLagSource): void {
    this.lagSource = source;
  }

  /** Registers `runledger_span_export_lag_events`, measured with `source` (events after the span export's checkpoint); never called, the series does not exist. */
  useSpanExportLag(source: ProjectionLagSource): void {
    this.spanExportLag ??= this.lagGauge(
      'runledger_span_export_lag_events',
      'Events committed to the log that the OTLP span export has not sent yet.',
      'span_export_lag', () => source,
    );
  }

  /** A gauge of events after a subscription's checkpoint, read from `source()` at scrape time (skipped while it is null; reset and reported to onScrapeError when it throws). */
  private lagGauge(name: string, help: string, errorKey: string, source: () => ProjectionLagSource | null): Gauge {
    const gauge: Gauge = new Gauge({
      name, help, registers: [this.registry],
      collect: async () => {
        const read = source();
        if (!read) return;
        try {
          gauge.set(await read());
        } catch (error) {
          gauge.reset();
          this.onScrapeError(errorKey, error);
        }
      },
    });
    return gauge;
  }

  /** Adds one boot reconcile's counts to `runledger_reconcile_outcomes_total`. */
  recordReconcile(counts: Record<ReconcileOutcome, number>): void {
    for (const outcome of RECONCILE_OUTCOMES) this.reconcileOutcomes.inc({ outcome }, counts[outcome]);
  }

  /** The exposition text of every series (Prometheus text format 0.0.4). */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type of `scrape()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
