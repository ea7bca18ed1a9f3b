/** How a refusal maps to HTTP later: invalid → 400, not_found → 404, conflict → 409 (docs/ARCHITECTURE.md §5). */
export type DomainErrorKind = 'invalid' | 'not_found' | 'conflict';

/** HTTP status for each DomainErrorKind, for the one exception filter that maps domain refusals. */
export const domainErrorHttpStatus: Readonly<Record<DomainErrorKind, 400 | 404 | 409>> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
};

/** The single family of domain refusals: a stable `code` (e.g. `TOOL_CALL.NOT_IN_FLIGHT`), a `kind`, and `details` such as the current state. */
export class DomainError extends Error {
  /** Stable machine-readable code, `AREA.REASON`. */
  readonly code: string;
  /** Refusal category (maps to 400/404/409). */
  readonly kind: DomainErrorKind;
  /** Context for the caller, e.g. `{ status }` of the current state or the offending `field`. */
  readonly details?: Record<string, unknown>;

  constructor(code: string, kind: DomainErrorKind, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.kind = kind;
    if (details !== undefined) this.details = details;
  }
}

/** True when `error` is a DomainError (optionally with the given code). */
export const isDomainError = (error: unknown, code?: string): error is DomainError =>
  error instanceof DomainError && (code === undefined || error.code === code);
