import { SYSTEM_STREAM } from '@runledger/domain';
import { RUNLEDGER_ACTOR } from '../event-sourcing/command-context';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { EVENT_STORE, RUNLEDGER_CONFIG, SQL_DATABASE } from '@runledger/infra/tokens';
import { EventStore } from '@runledger/infra/event-store';
import { RunledgerConfig } from '@runledger/infra/config';
import { SqlDatabase } from '@runledger/infra/database';
import { listDeadLetters } from '@runledger/infra/read-models';

/** The stream of process-level facts: each start of a runledger process appends `ServerStarted`. */
export { SYSTEM_STREAM };

/** Readiness as `GET /health` reports it (docs/ARCHITECTURE.md §5). */
export interface HealthView {
  status: 'ok';
  store: 'pglite' | 'postgres';
  pid: number;
  version: string;
  headPosition: number;
  /** Events the read-model projection could not project and skipped (rl_rm_dead_letters); 0 when healthy. */
  deadLetters: number;
}

/** Appends `ServerStarted {pid, version, store, roles}` at boot and answers health. */
@Injectable()
export class SystemStreamService implements OnApplicationBootstrap {
  private readonly logger = new Logger('System');
  /** Which roles this process runs (`api`, `worker`); set by the composition root. */
  roles: string[] = [];

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SQL_DATABASE) private readonly db: SqlDatabase,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const started = await this.store.appendToStream(
      SYSTEM_STREAM,
      [{
        eventId: randomUUID(),
        type: 'ServerStarted',
        data: { pid: process.pid, version: this.config.version, store: this.db.kind, roles: this.roles, startedAt: new Date().toISOString() },
        metadata: { actor: RUNLEDGER_ACTOR, via: 'server-start', correlationId: randomUUID() },
      }],
      'any',
    );
    this.logger.log(`ServerStarted appended at global position ${started.positions[0]} (store ${this.db.kind}, pid ${process.pid})`);
  }

  /** The health view; throws if the database does not answer. */
  async health(): Promise<HealthView> {
    return {
      status: 'ok',
      store: this.db.kind,
      pid: process.pid,
      version: this.config.version,
      headPosition: await this.store.headPosition(),
      deadLetters: (await listDeadLetters(this.db, 0)).count,
    };
  }
}
