/** Seconds a client is told to wait (`Retry-After`) before retrying a request refused because the store is unreachable. */
export const STORE_RETRY_AFTER_SECONDS = 1;

/**
 * Thrown by the PostgreSQL adapter when the server cannot be reached or dropped the connection (refused, reset, shut
 * down, starting up, out of connection slots): a transient condition, not a fault of the request. The api answers it
 * 503 with `Retry-After` (docs/ARCHITECTURE.md §5); loops retry it. A write whose connection dropped during COMMIT may
 * have committed: clients retry with the same ids (invariant 3).
 */
export class DatabaseUnavailableError extends Error {
  readonly code = 'STORE.UNAVAILABLE';
  constructor(override readonly cause: unknown) {
    super(`the database is unreachable (${cause instanceof Error ? cause.message : String(cause)}); retry shortly`);
  }
}

/** Socket-level error codes of a server that is not there (node errno names). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * SQLSTATEs of an unreachable server: class 08 (connection exception), 57P01–57P03 (shut down by an administrator,
 * crash shutdown, cannot connect now: starting up or shutting down), 53300 (too many connections).
 */
const isUnavailableSqlState = (code: string): boolean => code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code);

/** Messages node-postgres gives a dropped or unusable connection (it sets no code on them). */
const DROPPED = /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout exceeded when trying to connect)/;

/**
 * True when an error of the `pg` driver (or one in its `cause` chain) says the database server is unreachable rather
 * than refusing the statement. For errors of the driver only: the socket codes mean something else elsewhere.
 */
export const isDatabaseUnavailable = (error: unknown): boolean => {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof DatabaseUnavailableError) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || isUnavailableSqlState(code))) return true;
    if (current instanceof Error && DROPPED.test(current.message)) return true;
    if (current instanceof AggregateError && current.errors.some((e) => isDatabaseUnavailable(e))) return true;
  }
  return false;
};

/** The DatabaseUnavailableError `error` is or wraps (its `cause` chain), else null: what the api answers 503. */
export const storeUnavailable = (error: unknown): DatabaseUnavailableError | null => {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof DatabaseUnavailableError) return current;
  }
  return null;
};

/** Rethrows `error` as a DatabaseUnavailableError when it says the server is unreachable, else as it is. */
export const asDatabaseError = (error: unknown): never => {
  if (isDatabaseUnavailable(error) && !(error instanceof DatabaseUnavailableError)) throw new DatabaseUnavailableError(error);
  throw error;
};
