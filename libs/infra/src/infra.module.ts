import * as path from 'node:path';
import { DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { LoggerModule, PinoLogger } from 'nestjs-pino';
import { ALL_MIGRATIONS } from './database/all-migrations';
import { migrate } from './database/migrations';
import { openDatabase } from './database/open-database';
import { SqlDatabase } from './database/sql-database';
import { resolveApiToken } from './auth/api-token';
import { RunledgerConfig } from './config/runledger-config';
import { loadCheckpoint } from './event-store/checkpoint-store';
import { loadLogExportCheckpoint } from './telemetry/log-export.store';
import type { EventStore } from './event-store/event-store.port';
import { PostgresEventStore } from './event-store/postgres/postgres-event-store';
import { GitWorktrees } from './git/git-worktrees';
import { GitSnapshotStore } from './file-snapshots/git-snapshot-store';
import { logAppends, loggerParams } from './logging/logging';
import { instrumentEventStore } from './metrics/instrumented-event-store';
import { METRICS_REGISTRY, RunledgerMetrics } from './metrics/runledger-metrics';
import { READ_MODELS_SUBSCRIPTION } from './read-models/projection-checkpoint';
import { ReadModels } from './read-models/read-models';
import { UsageSearchQueries } from './read-models/usage-search.queries';
import { NotificationOutbox } from './notifications/notification-outbox';
import { ProcessRuntime } from './runtime/process-runtime';
import { TmuxRuntime } from './runtime/tmux-runtime';
import { RedactionDoor, redactingEventStore } from './redaction/redaction-door';
import { SecretCipher } from './secrets/secret-cipher';
import { resolveSecretKey } from './secrets/secret-key';
import { SecretVault } from './secrets/secret-vault';
import { UserTokens } from './auth/user-tokens';
import { API_TOKEN, EVENT_STORE, RUNLEDGER_CONFIG, SQL_DATABASE } from './tokens';
import type { ApiToken } from './auth/api-token';

/** How often a process on PostgreSQL re-reads the secret store, to redact values another process sealed (ms). */
const SECRET_REFRESH_MS = 2000;

/** The password of a database URL, if any (a secret the door redacts). */
const databasePassword = (url: string | undefined): string[] => {
  if (!url) return [];
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? [password, url] : [];
  } catch {
    return [];
  }
};

/** Re-reads the secret store every SECRET_REFRESH_MS on PostgreSQL (other processes seal and forget too); stopped at shutdown. */
class SecretRefresher implements OnApplicationShutdown {
  private readonly timer: NodeJS.Timeout | null;
  constructor(@Inject(SQL_DATABASE) db: SqlDatabase, vault: SecretVault) {
    const logger = new Logger('Secrets');
    this.timer = db.kind === 'postgres' ? setInterval(() => void vault.load().catch((error: Error) => logger.warn(`secret store refresh failed: ${error.message}`)), SECRET_REFRESH_MS) : null;
    this.timer?.unref();
  }
  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** Closes the database (and releases the embedded data directory) when Nest shuts down. */
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(SQL_DATABASE) private readonly db: SqlDatabase) {}
  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}

/**
 * Adapters at the edge, as Nest providers: the database (PostgreSQL or the embedded PGlite, migrated at start-up),
 * the event store (instrumented: append metrics and one log line per append), the read-model queries, git worktrees,
 * the process runtime, the Prometheus metrics on their own Registry, and the pino logger (nestjs-pino). Opening fails
 * with DataDirectoryLockedError when another process owns the embedded data directory.
 */
@Global()
@Module({})
export class InfraModule {
  /** The module for one process with the given configuration. */
  static forRoot(config: RunledgerConfig): DynamicModule {
    return {
      module: InfraModule,
      imports: [LoggerModule.forRoot(loggerParams())],
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
        {
          provide: RunledgerMetrics,
          useFactory: (db: SqlDatabase) => {
            const logger = new Logger('Metrics');
            return new RunledgerMetrics(db, { onScrapeError: (series, error) => logger.warn(`scrape of ${series} failed: ${(error as Error).message}`) });
          },
          inject: [SQL_DATABASE],
        },
        { provide: METRICS_REGISTRY, useFactory: (metrics: RunledgerMetrics) => metrics.registry, inject: [RunledgerMetrics] },
        {
          provide: SecretVault,
          useFactory: async (db: SqlDatabase) => {
            const key = resolveSecretKey(config.dataDir, config.secretKey);
            const logger = new Logger('Secrets');
            if (key.source === 'generated') logger.warn(`no RUNLEDGER_SECRET_KEY: generated the secret store key into ${key.path} (mode 0600); back it up, and give every process sharing this database the same key`);
            else logger.log(key.source === 'env' ? 'secret store key: RUNLEDGER_SECRET_KEY' : `secret store key: read from ${key.path}`);
            const vault = new SecretVault(db, new SecretCipher(key.key));
            await vault.load(); // a store sealed under another key refuses to start here
            return vault;
          },
          inject: [SQL_DATABASE],
        },
        {
          provide: RedactionDoor,
          useFactory: (token: ApiToken, vault: SecretVault) => new RedactionDoor([...config.secrets, token.token, ...databasePassword(config.databaseUrl)], vault),
          inject: [API_TOKEN, SecretVault],
        },
        SecretRefresher,
        {
          provide: UserTokens,
          useFactory: (db: SqlDatabase, vault: SecretVault) => new UserTokens(db, vault.cipher.deriveKey('user token hash')),
          inject: [SQL_DATABASE, SecretVault],
        },
        {
          provide: EVENT_STORE,
          useFactory: (db: SqlDatabase, metrics: RunledgerMetrics, logger: PinoLogger, door: RedactionDoor) => {
            const store = new PostgresEventStore(db);
            metrics.useProjectionLag(async () => store.countAfter(await loadCheckpoint(db, READ_MODELS_SUBSCRIPTION)));
            if (config.otel.exportSpans) metrics.useSpanExportLag(async () => store.countAfter(await loadLogExportCheckpoint(db)));
            // The door is outermost: the metrics, the append log line and the store only ever see redacted events (invariant 12).
            return redactingEventStore(instrumentEventStore(store, metrics, logAppends(logger)), door);
          },
          inject: [SQL_DATABASE, RunledgerMetrics, PinoLogger, RedactionDoor],
        },
        { provide: ReadModels, useFactory: (db: SqlDatabase) => new ReadModels(db), inject: [SQL_DATABASE] },
        { provide: UsageSearchQueries, useFactory: (db: SqlDatabase, store: EventStore) => new UsageSearchQueries(db, store), inject: [SQL_DATABASE, EVENT_STORE] },
        { provide: NotificationOutbox, useFactory: (db: SqlDatabase) => new NotificationOutbox(db), inject: [SQL_DATABASE] },
        { provide: GitWorktrees, useFactory: () => new GitWorktrees() },
        {
          provide: GitSnapshotStore,
          useFactory: () => new GitSnapshotStore({ dir: path.join(config.dataDir, 'file-snapshots'), maxFileBytes: config.snapshots.maxFileBytes }),
        },
        { provide: ProcessRuntime, useFactory: () => new ProcessRuntime() },
        { provide: TmuxRuntime, useFactory: () => new TmuxRuntime(config.tmuxSocket, config.dataDir) },
        DatabaseCloser,
      ],
      exports: [RUNLEDGER_CONFIG, API_TOKEN, SQL_DATABASE, EVENT_STORE, SecretVault, UserTokens, RedactionDoor, ReadModels, UsageSearchQueries, NotificationOutbox, GitWorktrees, GitSnapshotStore, ProcessRuntime, TmuxRuntime, RunledgerMetrics, METRICS_REGISTRY],
    };
  }
}
