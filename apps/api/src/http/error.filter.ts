import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { DomainError, domainErrorHttpStatus } from '@runledger/domain';
import { STORE_RETRY_AFTER_SECONDS, storeUnavailable } from '@runledger/infra/database';
import { EventIdConflictError, InvalidAppendError, WrongExpectedRevisionError } from '@runledger/infra/event-store';

/** The error body of every failed request (docs/ARCHITECTURE.md §5). */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code?: string;
  details?: Record<string, unknown>;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict',
  413: 'Payload Too Large', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/**
 * Maps an error to its HTTP body: DomainError by kind (400/404/409), store conflicts 409, an unreachable database 503
 * (sent with Retry-After), Nest HTTP errors as they are, the rest 500.
 */
export const toErrorBody = (error: unknown): ErrorBody => {
  const unavailable = storeUnavailable(error);
  if (unavailable) return { statusCode: 503, error: REASONS[503], message: unavailable.message, code: unavailable.code };
  if (error instanceof DomainError) {
    const statusCode = domainErrorHttpStatus[error.kind];
    return { statusCode, error: REASONS[statusCode], message: error.message, code: error.code, ...(error.details ? { details: error.details } : {}) };
  }
  if (error instanceof WrongExpectedRevisionError || error instanceof EventIdConflictError) {
    return { statusCode: 409, error: REASONS[409], message: error.message, code: error.code };
  }
  if (error instanceof InvalidAppendError) return { statusCode: 400, error: REASONS[400], message: error.message, code: error.code };
  if (error instanceof HttpException) {
    const statusCode = error.getStatus();
    const response = error.getResponse();
    const body = typeof response === 'string' ? { message: response } : (response as Record<string, unknown>);
    const message = Array.isArray(body.message) ? body.message.join('; ') : String(body.message ?? error.message);
    return {
      statusCode,
      error: REASONS[statusCode] ?? String(body.error ?? 'Error'),
      message,
      ...(typeof body.code === 'string' ? { code: body.code } : {}),
      ...(body.details ? { details: body.details as Record<string, unknown> } : {}),
    };
  }
  // body-parser and other middleware errors carry their own 4xx status (413 too large, 400 malformed JSON).
  const status = (error as { status?: unknown; statusCode?: unknown })?.status ?? (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = status === 413 ? 'request body too large' : (error as Error).message;
    return { statusCode: status, error: REASONS[status] ?? 'Error', message, code: status === 413 ? 'REQUEST.TOO_LARGE' : 'REQUEST.MALFORMED' };
  }
  return { statusCode: 500, error: REASONS[500], message: 'internal error (see the server log)' };
};

/** One exception filter for the whole API: every error leaves as `{statusCode, error, message, code?, details?}` (a 503 with Retry-After). */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const body = toErrorBody(error);
    if (body.statusCode === 503) this.logger.warn(body.message);
    else if (body.statusCode >= 500) this.logger.error(error instanceof Error ? error.stack ?? error.message : String(error));
    const response = host.switchToHttp().getResponse<{ headersSent: boolean; setHeader(name: string, value: string): void; status(code: number): { json(body: unknown): void } }>();
    if (response.headersSent) return;
    if (body.statusCode === 503) response.setHeader('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
    response.status(body.statusCode).json(body);
  }
}
