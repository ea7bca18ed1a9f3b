import { timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiToken } from '@runledger/infra/auth/api-token';
import { SESSION_CREDENTIAL_PREFIX, verifySessionCredential } from '@runledger/infra/auth/session-credential';
import { ReadModels } from '@runledger/infra/read-models';
import { API_TOKEN } from '@runledger/infra/tokens';
import { IS_PUBLIC, SESSION_SCOPED, SessionScope } from './public.decorator';

/** A request as the guard sees it. */
interface GuardedRequest {
  headers: Record<string, string | string[] | undefined>;
  params: Record<string, string | undefined>;
}

/**
 * Requires `Authorization: Bearer <token>` on every route not marked @Public (401 otherwise). The admin token
 * (RUNLEDGER_TOKEN) opens every route. An agent's session credential (DESIGN invariant 16) opens only the routes marked
 * @SessionScoped, for its own session (403 for another session's routes, for admin routes, and once its session is
 * terminated: the credential is revoked with it). A hook request without `X-Runledger-Session` is bound to the
 * credential's session.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(API_TOKEN) private readonly token: ApiToken,
    private readonly readModels: ReadModels,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const header = request.headers.authorization;
    const match = /^Bearer (.+)$/.exec(typeof header === 'string' ? header : '');
    if (!match) throw new UnauthorizedException('missing "Authorization: Bearer <token>" header');
    const given = Buffer.from(match[1]);
    const expected = Buffer.from(this.token.token);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
    const sessionId = match[1].startsWith(SESSION_CREDENTIAL_PREFIX) ? verifySessionCredential(this.token.token, match[1]) : null;
    if (sessionId === null) throw new UnauthorizedException('invalid bearer token');
    const scope = this.reflector.getAllAndOverride<SessionScope | undefined>(SESSION_SCOPED, targets);
    if (!scope) throw new ForbiddenException(`a session credential (${sessionId}) opens only its own session's hook and tool-call routes`);
    const named = 'param' in scope ? request.params[scope.param] : request.headers[scope.header];
    if (named !== undefined && named !== sessionId) {
      throw new ForbiddenException(`this session credential belongs to ${sessionId}, not to ${String(named)}`);
    }
    if ('header' in scope && named === undefined) request.headers[scope.header] = sessionId;
    const session = await this.readModels.getSession(sessionId);
    // Not projected yet (a session spawned a moment ago): the MAC proves runledger issued it.
    if (session?.status === 'terminated') throw new ForbiddenException(`the credential of ${sessionId} was revoked: the session is terminated`);
    return true;
  }
}
