import { timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiToken } from '@runledger/infra/auth/api-token';
import { API_TOKEN } from '@runledger/infra/tokens';
import { IS_PUBLIC } from './public.decorator';

/** Requires `Authorization: Bearer <RUNLEDGER_TOKEN>` on every route not marked @Public (401 otherwise). */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  constructor(private readonly reflector: Reflector, @Inject(API_TOKEN) private readonly token: ApiToken) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match) throw new UnauthorizedException('missing "Authorization: Bearer <token>" header');
    const given = Buffer.from(match[1]);
    const expected = Buffer.from(this.token.token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new UnauthorizedException('invalid bearer token');
    return true;
  }
}
