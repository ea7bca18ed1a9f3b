import { Inject, Injectable } from '@nestjs/common';
import { SqlDatabase } from '@runledger/infra/database';
import { EventStore } from '@runledger/infra/event-store';
import { loadCheckpoint } from '@runledger/infra/event-store/checkpoint-store';
import { SESSION_STATUSES } from '@runledger/infra/metrics';
import { READ_MODELS_SUBSCRIPTION } from '@runledger/infra/read-models/projection-checkpoint';
import { GitSnapshotStore } from '@runledger/infra/file-snapshots';
import { EVENT_STORE, SQL_DATABASE } from '@runledger/infra/tokens';
import { HealthView, SYSTEM_STREAM, SystemStreamService } from './system-stream.service';

/** The last boot reconcile's `ReconcileCompleted` event: its counts (`data`), when, and where in the log. */
export interface LastReconcileView {
  globalPosition: number;
  recordedAt: string;
  report: Record<string, unknown>;
}

/** `GET /status` (docs/ARCHITECTURE.md §6 `runledger status`): server health, sessions by status, projection lag, last reconcile. */
export interface StatusView {
  server: HealthView;
  /** Session count per status in the read model (every status of the catalog, 0 when none). */
  sessions: Record<string, number>;
  projections: {
    /** Global position of the read models' checkpoint (0 before the first event is projected). */
    checkpointPosition: number;
    /** Events committed that the read models do not hold yet. */
    lagEvents: number;
    /** Events the projection could not project and skipped (rl_rm_dead_letters; `GET /projections/status` lists them). */
    deadLetters: number;
  };
  /** Null until a worker has completed a reconcile against this store. */
  lastReconcile: LastReconcileView | null;
  /** The file snapshot store of this process's data directory (docs/ARCHITECTURE.md §4e): bytes on disk, every session. */
  snapshots: { bytes: number };
}

/** Reads the whole-system status from the store and the read models: a few small queries, no lock taken. */
@Injectable()
export class SystemStatusService {
  constructor(
    private readonly system: SystemStreamService,
    @Inject(SQL_DATABASE) private readonly db: SqlDatabase,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly snapshots: GitSnapshotStore,
  ) {}

  /** The status view; throws if the database does not answer. */
  async status(): Promise<StatusView> {
    const server = await this.system.health();
    const checkpoint = await loadCheckpoint(this.db, READ_MODELS_SUBSCRIPTION);
    const lagEvents = await this.store.countAfter(checkpoint);
    const counts = await this.db.query<{ status: string; n: string | number }>('SELECT status, count(*) AS n FROM rl_rm_sessions GROUP BY status');
    const sessions: Record<string, number> = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0]));
    for (const row of counts.rows) sessions[row.status] = Number(row.n);
    // The system stream holds one ServerStarted per start and one ReconcileCompleted per worker start: read it backwards.
    const last = await this.store.lastEventOfType(SYSTEM_STREAM, 'ReconcileCompleted');
    return {
      server,
      sessions,
      projections: { checkpointPosition: checkpoint.globalPosition, lagEvents, deadLetters: server.deadLetters },
      lastReconcile: last
        ? { globalPosition: last.globalPosition, recordedAt: new Date(last.metadata.recordedAt!).toISOString(), report: last.data as Record<string, unknown> }
        : null,
      snapshots: { bytes: await this.snapshots.sizeBytes() },
    };
  }
}
