import { timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { mayAccess, RouteAccess, routeAccess } from '@runledger/domain';
import { ApiToken } from '@runledger/infra/auth/api-token';
import { SESSION_CREDENTIAL_PREFIX, verifySessionCredential } from '@runledger/infra/auth/session-credential';
import { UserTokens } from '@runledger/infra/auth/user-tokens';
import { ReadModels } from '@runledger/infra/read-models';
import { API_TOKEN } from '@runledger/infra/tokens';
import { readCookie, UI_COOKIE, UI_REQUEST_HEADER, verifyUiSession } from '../ui-auth/ui-session';
import { Principal, ROUTE_ACCESS, roleOf } from './principal';
import { CredentialSession, IS_PUBLIC, SESSION_SCOPED, SessionScope } from './public.decorator';

/** Methods that change nothing: a cookie alone may authenticate them. */
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** A request as the guard sees it. */
interface GuardedRequest {
  method: string;
  headers: Record<string, string | undefined>;
  params: Record<string, string | undefined>;
  credentialSession?: CredentialSession;
  principal?: Principal;
}

/** True when `given` equals the API token (constant time). */
export const isApiToken = (token: ApiToken, given: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(token.token);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Every route not marked @Public needs `Authorization: Bearer <token>` or the web timeline's HttpOnly cookie
 * (docs/ARCHITECTURE.md §5); 401 otherwise, naming what was missing or wrong. A cookie-authenticated request other than
 * GET/HEAD must also carry `X-Runledger-UI: 1` (403 without it), so no other site's page can write with the cookie.
 * The admin token (RUNLEDGER_TOKEN) opens every route. An agent's session credential (invariant 16) opens only the
 * routes marked @SessionScoped, for its own session: 403 for another session's routes, for admin routes, and once its
 * session is terminated (the credential is revoked with it). A hook request without `X-Runledger-Session` is bound to
 * the credential's session. An orchestrator's credential also opens the spawn route (`request.credentialSession` then
 * names it, and the spawned session records it as its parent); any other session's credential gets 403 there.
 * A person's token (or their login cookie) opens what their role allows (docs/ARCHITECTURE.md §8): 403 naming the role
 * and what the route needs otherwise; a revoked token is 401 from its next request on. `request.principal` names who
 * the request acts for (the actor of its events).
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(API_TOKEN) private readonly token: ApiToken,
    private readonly readModels: ReadModels,
    private readonly users: UserTokens,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const header = request.headers.authorization;
    const cookie = readCookie(request.headers.cookie, UI_COOKIE);
    // Read only for a person's request: the hook path (session credentials) pays nothing for roles.
    const access = (): RouteAccess => routeAccess(request.method, this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, targets));
    if (header === undefined && cookie) return this.authorize(request, await this.checkCookie(request.method, cookie, request.headers[UI_REQUEST_HEADER]), access);
    const match = /^Bearer (.+)$/.exec(header ?? '');
    if (!match) throw new UnauthorizedException('missing "Authorization: Bearer <token>" header (or the web timeline\'s login cookie)');
    if (isApiToken(this.token, match[1])) return this.authorize(request, { kind: 'admin' }, access);
    if (UserTokens.isUserToken(match[1])) {
      const holder = await this.users.verify(match[1]);
      if (!holder) throw new UnauthorizedException({ message: 'invalid or revoked personal token', code: 'AUTH.TOKEN_REVOKED' });
      return this.authorize(request, { kind: 'user', name: holder.name, role: holder.role, revision: holder.revision }, access);
    }
    const sessionId = match[1].startsWith(SESSION_CREDENTIAL_PREFIX) ? verifySessionCredential(this.token.token, match[1]) : null;
    if (sessionId === null) throw new UnauthorizedException('invalid bearer token');
    request.principal = { kind: 'session', sessionId };
    return this.checkSessionCredential(sessionId, request, this.reflector.getAllAndOverride<SessionScope | undefined>(SESSION_SCOPED, targets));
  }

  /** Lets `principal` through when its role allows what the route `needs` (403 naming both otherwise) and records it on the request; an admin needs no look. */
  private authorize(request: GuardedRequest, principal: Principal, needs: () => RouteAccess): boolean {
    const role = roleOf(principal)!;
    const access = role === 'admin' ? undefined : needs();
    if (access !== undefined && !mayAccess(role, access)) {
      const who = principal.kind === 'user' ? `user ${principal.name}` : 'this token';
      throw new ForbiddenException({ message: `${who} has role ${role}; ${request.method} here needs ${access === 'admin' ? 'the admin role' : 'the writer or admin role'}`, code: 'AUTH.ROLE', details: { role, needs: access } });
    }
    request.principal = principal;
    return true;
  }

  private async checkSessionCredential(sessionId: string, request: GuardedRequest, scope: SessionScope | undefined): Promise<boolean> {
    if (!scope) throw new ForbiddenException(`a session credential (${sessionId}) opens only its own session's hook and tool-call routes`);
    if ('spawn' in scope) return this.checkOrchestratorSpawn(sessionId, request);
    const named = 'param' in scope ? request.params[scope.param] : request.headers[scope.header];
    if (named !== undefined && named !== sessionId) {
      throw new ForbiddenException(`this session credential belongs to ${sessionId}, not to ${named}`);
    }
    if ('header' in scope && named === undefined) request.headers[scope.header] = sessionId;
    const session = await this.readModels.getSession(sessionId);
    // Not projected yet (a session spawned a moment ago): the MAC proves runledger issued it.
    if (session?.status === 'terminated') throw new ForbiddenException(`the credential of ${sessionId} was revoked: the session is terminated`);
    return true;
  }

  private async checkOrchestratorSpawn(sessionId: string, request: GuardedRequest): Promise<boolean> {
    const session = await this.readModels.getSession(sessionId);
    if (session?.kind !== 'orchestrator') {
      throw new ForbiddenException(`only an orchestrator's credential may spawn sessions; ${sessionId} is ${session ? `a ${session.kind}` : 'not known yet'}`);
    }
    if (session.status === 'terminated') throw new ForbiddenException(`the credential of ${sessionId} was revoked: the session is terminated`);
    request.credentialSession = { sessionId, projectId: session.projectId };
    return true;
  }

  private async checkCookie(method: string, cookie: string, uiHeader: string | undefined): Promise<Principal> {
    const verdict = verifyUiSession(this.token.token, cookie, Date.now());
    if (!verdict.ok) throw new UnauthorizedException({ message: `web timeline login refused (${verdict.reason}): log in again`, code: `UI_SESSION.${verdict.reason.toUpperCase()}` });
    if (!SAFE_METHODS.has(method) && uiHeader !== '1') {
      throw new ForbiddenException({ message: `a ${method} authenticated by the login cookie needs the header "X-Runledger-UI: 1"`, code: 'UI_SESSION.HEADER_REQUIRED', details: { field: UI_REQUEST_HEADER } });
    }
    if (verdict.subject.kind === 'admin') return { kind: 'admin' };
    const holder = await this.users.active(verdict.subject.name);
    // A login outlives neither its token's revocation nor a later token of the same name.
    if (holder?.revision !== verdict.subject.revision) throw new UnauthorizedException({ message: 'web timeline login refused (revoked): log in again', code: 'UI_SESSION.REVOKED' });
    return { kind: 'user', name: holder.name, role: holder.role, revision: holder.revision };
  }
}
