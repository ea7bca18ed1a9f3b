/** Exit codes of the CLI: 0 ok, 1 failure found, 2 usage error, 3 server unreachable. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unreachable: 3 } as const;

/** One of the values of `EXIT`. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The error body of every failed API request (docs/ARCHITECTURE.md §5). */
export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code?: string;
  details?: Record<string, unknown>;
}

/** The command line was wrong (bad argument, missing file, …): exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command ran and found a failure (a broken chain, …): exit 1; `message` has already been printed when empty. */
export class FailureError extends Error {
  override readonly name = 'FailureError';
}

/** No server answered at `url` (connection refused, unknown host, reset, timeout): exit 3. */
export class ServerUnreachableError extends Error {
  override readonly name = 'ServerUnreachableError';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(
      `cannot reach the runledger server at ${url} (${reason}). Start it with \`npm start\` (or \`npx runledger start\`), ` +
        'or point RUNLEDGER_URL at a running one.',
    );
  }
}

/** The server's TLS certificate was not trusted (unknown CA, wrong host name, expired): exit 1, never sent the token. */
export class CertificateRefusedError extends Error {
  override readonly name = 'CertificateRefusedError';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`refused the TLS certificate of ${url} (${reason}); for a private CA pass --ca-file <its PEM> or set RUNLEDGER_CA_FILE`);
  }
}

/** Node's codes for a certificate that does not verify. */
export const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_GET_ISSUER/;

/** HTTP statuses caused by what the user typed (invalid input, unknown id, too large): exit 2 instead of 1. */
const USER_INPUT_STATUSES = new Set([400, 404, 413, 422]);

/** The server answered with an error status; `body` is its `{statusCode, error, message, code?, details?}` (or a stand-in). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly method: string,
    readonly url: string,
    readonly body: ApiErrorBody,
  ) {
    super(`${body.statusCode} ${body.error}${body.code ? ` (${body.code})` : ''}: ${body.message}`);
  }

  /** Exit 2 for a 4xx caused by user input (400, 404, 413, 422), 1 for anything else (401, 409, 5xx, …). */
  get exitCode(): ExitCode {
    return USER_INPUT_STATUSES.has(this.body.statusCode) ? EXIT.usage : EXIT.failure;
  }
}

/** The exit code for an error thrown by a client command (unknown errors are failures). */
export const exitCodeFor = (error: unknown): ExitCode => {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof ServerUnreachableError) return EXIT.unreachable;
  if (error instanceof ApiError) return error.exitCode;
  return EXIT.failure;
};

/** The lines to print on stderr for an error: the server's error body (with details) for an ApiError, a hint on 401. */
export const describeError = (error: unknown): string[] => {
  if (error instanceof ApiError) {
    const lines = [`runledger: ${error.method} ${error.url} failed: ${error.message}`];
    if (error.body.details !== undefined) lines.push(`  details: ${JSON.stringify(error.body.details)}`);
    if (error.body.statusCode === 401) {
      lines.push('  the token was refused: set RUNLEDGER_TOKEN, or RUNLEDGER_DATA_DIR to the server\'s data directory (its token file)');
    }
    return lines;
  }
  if (error instanceof FailureError && error.message === '') return [];
  return [`runledger: ${error instanceof Error ? error.message : String(error)}`];
};
