import { Inject, Injectable } from '@nestjs/common';
import { SessionStreams } from '@runledger/application';
import { RunledgerConfig } from '@runledger/infra/config';
import { SqlDatabase } from '@runledger/infra/database';
import { EventStore } from '@runledger/infra/event-store';
import { ReadModels } from '@runledger/infra/read-models';
import { EVENT_STORE, RUNLEDGER_CONFIG, SQL_DATABASE } from '@runledger/infra/tokens';
import { ProjectionRunner } from './projections/projection-runner';

/**
 * The log as the worker's background components (boot reconcile, managed executor, orphan reaper) see it: the event
 * store and the SQL database that holds it, the session streams folded from it, the read models projected from it and
 * the runner that catches them up, and the config naming the data directory. One provider, so each component asks for
 * the ledger and for its own collaborators only.
 */
@Injectable()
export class WorkerLedger {
  constructor(
    @Inject(EVENT_STORE) readonly store: EventStore,
    @Inject(SQL_DATABASE) readonly db: SqlDatabase,
    @Inject(RUNLEDGER_CONFIG) readonly config: RunledgerConfig,
    readonly sessions: SessionStreams,
    readonly readModels: ReadModels,
    readonly projections: ProjectionRunner,
  ) {}
}
