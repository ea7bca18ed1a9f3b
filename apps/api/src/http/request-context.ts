import { randomUUID } from 'node:crypto';
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { CommandContext } from '@runledger/application';

const CORRELATION = /^[A-Za-z0-9._:-]{1,100}$/;

/** The CommandContext of an HTTP request: `X-Correlation-Id` (or a new uuid), actor `api`, `Idempotency-Key` if sent. */
export const Ctx = createParamDecorator((_: unknown, host: ExecutionContext): CommandContext => {
  const request = host.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
  const given = request.headers['x-correlation-id'];
  const key = request.headers['idempotency-key'];
  return {
    correlationId: given && CORRELATION.test(given) ? given : randomUUID(),
    actor: 'api',
    ...(key !== undefined ? { idempotencyKey: key } : {}),
  };
});
