import { timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiToken } from '@runledger/infra/auth/api-token';
import { API_TOKEN } from '@runledger/infra/tokens';
import { readCookie, UI_COOKIE, UI_REQUEST_HEADER, verifyUiSession } from '../ui-auth/ui-session';
import { IS_PUBLIC } from './public.decorator';

/** Methods that change nothing: a cookie alone may authenticate them. */
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** True when `given` equals the API token (constant time). */
export const isApiToken = (token: ApiToken, given: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(token.token);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Every route not marked @Public needs `Authorization: Bearer <RUNLEDGER_TOKEN>` or the web timeline's HttpOnly cookie
 * (docs/ARCHITECTURE.md §5); 401 otherwise, naming what was missing or wrong. A cookie-authenticated request other than
 * GET/HEAD must also carry `X-Runledger-UI: 1` (403 without it), so no other site's page can write with the cookie.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  constructor(private readonly reflector: Reflector, @Inject(API_TOKEN) private readonly token: ApiToken) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<{ method: string; headers: Record<string, string | undefined> }>();
    const header = request.headers.authorization;
    const cookie = readCookie(request.headers.cookie, UI_COOKIE);
    if (header === undefined && cookie) return this.checkCookie(request.method, cookie, request.headers[UI_REQUEST_HEADER]);
    const match = /^Bearer (.+)$/.exec(header ?? '');
    if (!match) throw new UnauthorizedException('missing "Authorization: Bearer <token>" header (or the web timeline\'s login cookie)');
    if (!isApiToken(this.token, match[1])) throw new UnauthorizedException('invalid bearer token');
    return true;
  }

  private checkCookie(method: string, cookie: string, uiHeader: string | undefined): boolean {
    const verdict = verifyUiSession(this.token.token, cookie, Date.now());
    if (!verdict.ok) throw new UnauthorizedException({ message: `web timeline login refused (${verdict.reason}): log in again`, code: `UI_SESSION.${verdict.reason.toUpperCase()}` });
    if (!SAFE_METHODS.has(method) && uiHeader !== '1') {
      throw new ForbiddenException({ message: `a ${method} authenticated by the login cookie needs the header "X-Runledger-UI: 1"`, code: 'UI_SESSION.HEADER_REQUIRED', details: { field: UI_REQUEST_HEADER } });
    }
    return true;
  }
}
