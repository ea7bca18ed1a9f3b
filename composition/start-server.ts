import { INestApplication, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { ApplicationModule, ServerAddress, SystemStreamService } from '@runledger/application';
import { InfraModule } from '@runledger/infra';
import { ApiToken } from '@runledger/infra/auth/api-token';
import { isLoopbackHost, loadConfig, RunledgerConfig } from '@runledger/infra/config';
import { makeDataDirectoryPrivate } from '@runledger/infra/files';
import { API_TOKEN } from '@runledger/infra/tokens';
import { ApiModule } from '../apps/api/src/api.module';
import { configureHttp } from '../apps/api/src/http/configure-http';
import { WorkerModule } from '../apps/worker/src/worker.module';

/** Which parts run in this process: `start` runs both (docs/ARCHITECTURE.md §1). */
export interface ServerRoles {
  api: boolean;
  worker: boolean;
}

/** A running runledger process: its Nest app, configuration and (with the api role) its URL. */
export interface RunningServer {
  app: INestApplication;
  config: RunledgerConfig;
  url?: string;
}

/**
 * Graceful shutdown on SIGTERM/SIGINT (and the restart of `nest start --watch`): stop taking requests, let the
 * providers finish and release what they hold (OnApplicationShutdown), close the store, exit 0. Agent runtimes
 * are detached process groups and are never signalled here (invariant 7). A second signal exits at once.
 */
const closeOnSignals = (app: INestApplication, logger: Logger): void => {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    closing = true;
    logger.log(`${signal}: shutting down gracefully (agent runtimes keep running)`);
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error(`shutdown failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
};

/**
 * Composition root: builds the Nest application for the given roles on the configured store, listens on HOST:PORT
 * when it serves the API, and says where the token is. Throws (DataDirectoryLockedError, ConfigError, EADDRINUSE)
 * instead of exiting, so the CLI prints one clear line.
 */
export const startServer = async (roles: ServerRoles, env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> => {
  const config = loadConfig(env);
  makeDataDirectoryPrivate(config.dataDir); // umask 077 and an owner-only data directory before anything is written (docs/ARCHITECTURE.md §4c)
  @Module({
    imports: [InfraModule.forRoot(config), ApplicationModule, ...(roles.api ? [ApiModule] : []), ...(roles.worker ? [WorkerModule] : [])],
  })
  class ServerModule {}

  // Logs are pino JSON lines (nestjs-pino; level RUNLEDGER_LOG_LEVEL, pretty on a TTY); Nest's own start-up lines are
  // buffered until the pino logger exists.
  const httpsOptions = roles.api && config.tls ? { cert: config.tls.cert, key: config.tls.key } : undefined;
  const app = await NestFactory.create(ServerModule, { bufferLogs: true, abortOnError: false, ...(httpsOptions ? { httpsOptions } : {}) });
  app.useLogger(app.get(PinoNestLogger));
  app.flushLogs();
  app.get(SystemStreamService).roles = Object.entries(roles).filter(([, on]) => on).map(([role]) => role);
  const logger = new Logger('runledger');
  closeOnSignals(app, logger);
  if (!roles.api) {
    await app.init();
    makeDataDirectoryPrivate(config.dataDir); // again after the migrations: PGlite creates its files 0666
    logger.log(`worker started on ${config.databaseUrl ? 'PostgreSQL' : `the embedded store in ${config.dataDir}`}`);
    return { app, config };
  }
  await configureHttp(app);
  makeDataDirectoryPrivate(config.dataDir); // again after the migrations: PGlite creates its files 0666
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as { port: number };
  const url = `${config.tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
  if (!process.env.RUNLEDGER_URL) app.get(ServerAddress).url = url; // the real port, also when PORT=0
  const token = app.get<ApiToken>(API_TOKEN);
  const store = config.databaseUrl ? 'postgres' : `pglite in ${config.dataDir}`;
  if (!config.tls && !isLoopbackHost(config.host)) {
    // Bearer tokens, login cookies and every hook's payload would cross the network in clear (docs/ARCHITECTURE.md §8).
    const warning = `listening on ${config.host} without TLS: tokens, login cookies and agents' hook payloads travel in clear text to anyone on the network path; set RUNLEDGER_TLS_CERT and RUNLEDGER_TLS_KEY, or put an HTTPS reverse proxy in front and bind to 127.0.0.1`;
    process.stderr.write(`runledger: WARNING: ${warning}\n`);
    logger.warn(warning);
  }
  // The one plain-text line on stdout, whatever the log format: scripts and tests read the URL from it.
  process.stdout.write(`listening on ${url}/api/v1 (store: ${store})\n`);
  logger.log({ msg: 'http server listening', url: `${url}/api/v1`, store, docs: `${url}/api/docs` });
  logger.log(token.source === 'env' ? 'bearer token: RUNLEDGER_TOKEN' : `bearer token: ${token.source === 'generated' ? 'generated into' : 'read from'} ${token.path}`);
  return { app, config, url };
};
