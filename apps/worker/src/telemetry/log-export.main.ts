import { Logger } from '@nestjs/common';
import { loadConfig } from '@runledger/infra/config';
import { openDatabase } from '@runledger/infra/database';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { OtlpLogExporter } from '@runledger/infra/telemetry';
import { lowerCpuPriority } from './cpu-priority';
import { LogExportRunner } from './log-export.runner';

/**
 * `node dist/apps/worker/src/telemetry/log-export.main.js`: the OTLP span export alone, at the least CPU share, spawned
 * by a worker on PostgreSQL in a session of its own (SpanExportHost, docs/ARCHITECTURE.md §4g). It reads the log and
 * commits its checkpoint on the database of DATABASE_URL (the worker migrated it), sends to the OTEL_EXPORTER_OTLP_*
 * endpoint, and stops (its batch in flight ends first) on SIGTERM or when its worker's IPC channel closes (the worker
 * died): it never outlives its worker.
 */
const main = async (): Promise<void> => {
  const logger = new Logger('SpanExport');
  const config = loadConfig(process.env);
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set: the span export runs in a process of its own only on PostgreSQL');
  const priority = lowerCpuPriority();
  const db = await openDatabase({ databaseUrl: config.databaseUrl });
  const runner = new LogExportRunner(db, new PostgresEventStore(db), config, new OtlpLogExporter(process.env, config.version));
  let stopping: Promise<void> | null = null;
  const stop = (why: string) =>
    (stopping ??= (async () => {
      logger.log(`stopping (${why})`);
      await runner.beforeApplicationShutdown();
      await db.close();
      process.exit(0);
    })());
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('disconnect', () => void stop('its worker is gone'));
  logger.log(`span export process ${process.pid}: nice ${priority.nice}, ${priority.autogroupNice === null ? 'no autogroup' : `autogroup nice ${priority.autogroupNice}`}`);
  await runner.onApplicationBootstrap();
  process.send?.({ ready: true });
};

main().catch((error: Error) => {
  process.stderr.write(`runledger span export: ${error.message}\n`);
  process.exit(1);
});
