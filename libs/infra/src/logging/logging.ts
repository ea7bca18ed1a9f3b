import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params, PinoLogger } from 'nestjs-pino';
import { stdTimeFunctions, type Level, type LevelWithSilent } from 'pino';
import { ConfigError } from '../config/runledger-config';
import type { AppendObserver } from '../metrics/instrumented-event-store';

/** Shape of a correlation id taken from `X-Correlation-Id` (anything else is replaced by a new uuid). */
export const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;

/** Response header echoing the request's correlation id. */
export const CORRELATION_HEADER = 'x-correlation-id';

/** The correlation id of a request: its `X-Correlation-Id` header when well-formed, else a new uuid. */
export const correlationIdFrom = (header: string | string[] | undefined): string => {
  const given = Array.isArray(header) ? header[0] : header;
  return given && CORRELATION_ID_PATTERN.test(given) ? given : randomUUID();
};

const LEVELS: Record<string, LevelWithSilent> = {
  trace: 'trace', verbose: 'trace', debug: 'debug', info: 'info', log: 'info', warn: 'warn', error: 'error', fatal: 'fatal', silent: 'silent',
};

/** The pino level of `RUNLEDGER_LOG_LEVEL` (trace, debug, info, warn, error, fatal, silent; Nest's `log`/`verbose` too); default info. */
export const logLevelOf = (env: NodeJS.ProcessEnv = process.env): LevelWithSilent => {
  const raw = (env.RUNLEDGER_LOG_LEVEL ?? '').trim().toLowerCase();
  if (raw === '') return 'info';
  const level = LEVELS[raw];
  if (!level) throw new ConfigError('RUNLEDGER_LOG_LEVEL', `expected one of ${Object.keys(LEVELS).join(', ')}, got ${JSON.stringify(env.RUNLEDGER_LOG_LEVEL)}`);
  return level;
};

const prettyAvailable = (): boolean => {
  try {
    require.resolve('pino-pretty'); // a devDependency: absent from a production install, where logs stay JSON
    return true;
  } catch {
    return false;
  }
};

type Request = IncomingMessage & { id?: unknown; originalUrl?: string };

/** Requests logged at debug rather than info: probes and scrapes that would drown the log. */
const QUIET = /^\/api\/(v1\/health|v1\/metrics|docs)/;

/**
 * Level of one request's log line, from its status (number), path (string) and whether it threw: a fault of ours (5xx,
 * or a throw) is `error`; a 503 (the store is unreachable, answered with Retry-After: an outage the client waits out,
 * not a bug) and every 4xx (the client's input) are `warn`; health, metrics and docs are `debug`; the rest `info`.
 */
export const httpLogLevel = (status: number, path: string, threw: boolean): Level => {
  if (status === 503) return 'warn';
  if (threw || status >= 500) return 'error';
  if (status >= 400) return 'warn';
  return QUIET.test(path) ? 'debug' : 'info';
};

/**
 * nestjs-pino/pino-http options: JSON lines on stdout (pino-pretty only when stdout is a TTY), level from
 * `RUNLEDGER_LOG_LEVEL`, one line per request carrying `correlationId` (= `X-Correlation-Id` or a new uuid, set as
 * `request.id` so the API's command context and thus the events' metadata use the same id, and echoed as a response
 * header). Logs made while a request is handled carry its `correlationId` too. Request headers are never logged.
 */
export const loggerParams = (env: NodeJS.ProcessEnv = process.env, tty: boolean = process.stdout.isTTY === true): Params => ({
  pinoHttp: {
    level: logLevelOf(env),
    base: { pid: process.pid },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    ...(tty && prettyAvailable()
      ? { transport: { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
    genReqId: (request: IncomingMessage, response: ServerResponse) => {
      const id = correlationIdFrom(request.headers[CORRELATION_HEADER]);
      if (!response.headersSent) response.setHeader(CORRELATION_HEADER, id);
      return id;
    },
    customProps: (request: IncomingMessage) => ({ correlationId: String((request as Request).id) }),
    serializers: {
      req: (request: { method?: string; url?: string }) => ({ method: request.method, url: request.url }),
      res: (response: { statusCode?: number }) => ({ statusCode: response.statusCode }),
    },
    customLogLevel: (request: IncomingMessage, response: ServerResponse, error?: Error): Level =>
      httpLogLevel(response.statusCode, (request as Request).originalUrl ?? request.url ?? '', error !== undefined),
    customSuccessMessage: (request: IncomingMessage, response: ServerResponse, ms: number) =>
      `${request.method} ${(request as Request).originalUrl ?? request.url} ${response.statusCode} ${ms} ms`,
    customErrorMessage: (request: IncomingMessage, response: ServerResponse, error: Error) =>
      `${request.method} ${(request as Request).originalUrl ?? request.url} ${response.statusCode}: ${error.message}`,
  },
});

/**
 * One structured line per append (`EventStore` context, info level): stream, event types, revision, global positions,
 * and the ids of the events' metadata (`correlationId`, `causationId`, `actor`). Inside a request the line already
 * carries the request's `correlationId`, which is the one the events got (the API's command context reads it), so it is
 * not repeated (a different one would be logged as `eventCorrelationId`); appends made outside a request (worker,
 * reconcile, start-up) name theirs.
 */
export const logAppends = (logger: PinoLogger): AppendObserver => {
  logger.setContext('EventStore');
  return (streamId, events, result, seconds) => {
    if (!logger.logger.isLevelEnabled('info')) return;
    const metadata = events[0]?.metadata ?? {};
    const bound = logger.logger.bindings() as { correlationId?: unknown };
    logger.info(
      {
        streamId,
        types: events.map((e) => e.type),
        revision: result.nextRevision,
        positions: result.positions,
        ...(result.idempotent ? { idempotent: true } : {}),
        ms: Math.round(seconds * 10_000) / 10,
        ...(metadata.correlationId === undefined || metadata.correlationId === bound.correlationId
          ? {}
          : bound.correlationId === undefined ? { correlationId: metadata.correlationId } : { eventCorrelationId: metadata.correlationId }),
        ...(metadata.causationId ? { causationId: metadata.causationId } : {}),
        ...(metadata.actor ? { actor: metadata.actor } : {}),
      },
      `appended ${events.length} event${events.length === 1 ? '' : 's'} to ${streamId}`,
    );
  };
};
