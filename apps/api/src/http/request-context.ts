import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { CommandContext } from '@runledger/application';
import { correlationIdFrom } from '@runledger/infra/logging';
import { actorOf, Principal } from './principal';

/**
 * The CommandContext of an HTTP request: the request's correlation id, its actor (who the bearer guard authenticated:
 * `user:<name>`, `user:admin` or `session:<id>`, docs/ARCHITECTURE.md §8), `Idempotency-Key` if sent. The correlation id
 * is `request.id`, set by the pino-http middleware from `X-Correlation-Id` (or a new uuid), so the id in the request's
 * log lines is the one in its events' metadata; without that middleware it is read from the header here.
 */
export const Ctx = createParamDecorator((_: unknown, host: ExecutionContext): CommandContext => {
  const request = host.switchToHttp().getRequest<{ id?: unknown; headers: Record<string, string | undefined>; principal?: Principal }>();
  const key = request.headers['idempotency-key'];
  return {
    correlationId: typeof request.id === 'string' && request.id !== '' ? request.id : correlationIdFrom(request.headers['x-correlation-id']),
    // Public routes append nothing; a route the guard passed always has its principal.
    actor: request.principal ? actorOf(request.principal) : 'anonymous',
    ...(key !== undefined ? { idempotencyKey: key } : {}),
  };
});
