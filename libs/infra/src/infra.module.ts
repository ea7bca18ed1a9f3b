import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { ALL_MIGRATIONS } from './database/all-migrations';
import { migrate } from './database/migrations';
import { openDatabase } from './database/open-database';
import { SqlDatabase } from './database/sql-database';
import { resolveApiToken } from './auth/api-token';
import { RunledgerConfig } from './config/runledger-config';
import { PostgresEventStore } from './event-store/postgres/postgres-event-store';
import { GitWorktrees } from './git/git-worktrees';
import { ReadModels } from './read-models/read-models';
import { ProcessRuntime } from './runtime/process-runtime';
import { API_TOKEN, EVENT_STORE, RUNLEDGER_CONFIG, SQL_DATABASE } from './tokens';

/** Closes the database (and releases the embedded data directory) when Nest shuts down. */
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(SQL_DATABASE) private readonly db: SqlDatabase) {}
  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}

/**
 * Adapters at the edge, as Nest providers: the database (PostgreSQL or the embedded PGlite, migrated at start-up),
 * the event store, the read-model queries, git worktrees and the process runtime. Opening fails with
 * DataDirectoryLockedError when another process owns the embedded data directory.
 */
@Global()
@Module({})
export class InfraModule {
  /** The module for one process with the given configuration. */
  static forRoot(config: RunledgerConfig): DynamicModule {
    return {
      module: InfraModule,
      providers: [
        { provide: RUNLEDGER_CONFIG, useValue: config },
        { provide: API_TOKEN, useFactory: () => resolveApiToken(config.dataDir, config.token) },
        {
          provide: SQL_DATABASE,
          useFactory: async () => {
            const db = await openDatabase(config.databaseUrl ? { databaseUrl: config.databaseUrl } : { dataDir: config.dataDir });
            try {
              await migrate(db, ALL_MIGRATIONS);
            } catch (error) {
              await db.close();
              throw error;
            }
            return db;
          },
        },
        { provide: EVENT_STORE, useFactory: (db: SqlDatabase) => new PostgresEventStore(db), inject: [SQL_DATABASE] },
        { provide: ReadModels, useFactory: (db: SqlDatabase) => new ReadModels(db), inject: [SQL_DATABASE] },
        { provide: GitWorktrees, useFactory: () => new GitWorktrees() },
        { provide: ProcessRuntime, useFactory: () => new ProcessRuntime() },
        DatabaseCloser,
      ],
      exports: [RUNLEDGER_CONFIG, API_TOKEN, SQL_DATABASE, EVENT_STORE, ReadModels, GitWorktrees, ProcessRuntime],
    };
  }
}
