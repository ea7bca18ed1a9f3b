import { Body, Controller, Delete, ForbiddenException, Get, HttpCode, HttpException, Inject, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { DomainError } from '@runledger/domain';
import { ApiToken } from '@runledger/infra/auth/api-token';
import { UserTokens } from '@runledger/infra/auth/user-tokens';
import { API_TOKEN } from '@runledger/infra/tokens';
import { isApiToken } from '../http/bearer-token.guard';
import { IsOptional } from '../http/field-rules';
import { actorOf, Principal, RequiresAccess, roleOf } from '../http/principal';
import { Public } from '../http/public.decorator';
import { AnswersBeforeProjection } from '../http/read-your-writes.interceptor';
import { LoginCodes, signUiSession, uiCookieHeader, UiSubject, UI_SESSION_SECONDS } from './ui-session';

/** Body of `POST /ui/session`: exactly one of the API token (typed into the page) or a one-time login code. */
export class UiLoginDto {
  @ApiPropertyOptional({ description: 'the API token (RUNLEDGER_TOKEN or <dataDir>/token), or a personal token', maxLength: 500 })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(500)
  token?: string;

  @ApiPropertyOptional({ description: 'a one-time login code from `runledger ui` (60 s, once)', maxLength: 100 })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(100)
  code?: string;
}

/** `POST /ui/login-codes` answer. */
export class LoginCodeView {
  @ApiProperty({ description: 'one-time code for `POST /ui/session {code}`' })
  code!: string;
  @ApiProperty({ description: 'ISO-8601 expiry (60 s after minting)' })
  expiresAt!: string;
}

/** `POST /ui/session` answer. */
export class UiSessionView {
  @ApiProperty({ description: 'ISO-8601 time the login cookie expires' })
  expiresAt!: string;
}

/** `GET /ui/session` answer. */
export class UiWhoAmIView {
  @ApiProperty({ enum: ['cookie', 'bearer'], description: 'how this request was authenticated' })
  via!: 'cookie' | 'bearer';
  @ApiProperty({ description: 'who the request acts for: `user:<name>`, `user:admin` or `session:<id>`' })
  actor!: string;
  @ApiPropertyOptional({ enum: ['admin', 'writer', 'reader'], description: 'the role (absent for an agent\'s session credential)' })
  role?: string;
}

interface CookieResponse {
  setHeader(name: string, value: string): void;
}

/** Injection token of this process's one-time login codes (LoginCodes). */
export const LOGIN_CODES = Symbol('LOGIN_CODES');

/**
 * Login of the web timeline (docs/ARCHITECTURE.md §5): the API token typed once into the page, or a one-time code from
 * `runledger ui`, is exchanged for an HttpOnly cookie (the page never keeps the token; the code travels in the URL's
 * fragment, which no server or log ever sees). Tokens and codes come in request bodies only, never in a query string.
 */
@ApiTags('ui-auth')
@Controller('ui')
export class UiAuthController {
  constructor(@Inject(API_TOKEN) private readonly token: ApiToken, @Inject(LOGIN_CODES) private readonly codes: LoginCodes, private readonly users: UserTokens) {}

  /** 200 with the cookie set (the admin token's or a person's login); 400 unless exactly one of `token`/`code` is given; 401 for a wrong or revoked token or an unknown, used or expired code. */
  @Public()
  @ApiOperation({ security: [] })
  @Post('session')
  @HttpCode(200)
  @AnswersBeforeProjection() // appends nothing and reads no read model (docs/ARCHITECTURE.md §5)
  @ApiOkResponse({ description: 'logged in: `Set-Cookie: runledger_ui=…; HttpOnly; SameSite=Strict`', type: UiSessionView })
  async login(@Body() body: UiLoginDto, @Req() request: { secure?: boolean }, @Res({ passthrough: true }) response: CookieResponse): Promise<UiSessionView> {
    if ((body.token === undefined) === (body.code === undefined)) {
      throw new DomainError('UI_SESSION.CREDENTIALS', 'invalid', 'give exactly one of "token" or "code"', { field: body.token === undefined ? 'token' : 'code' });
    }
    const now = Date.now();
    let subject: UiSubject;
    if (body.token !== undefined) {
      const holder = isApiToken(this.token, body.token) ? null : await this.users.verify(body.token);
      if (!isApiToken(this.token, body.token) && !holder) throw new UnauthorizedException({ message: 'invalid token', code: 'UI_SESSION.BAD_TOKEN' });
      subject = holder ? { kind: 'user', name: holder.name, revision: holder.revision } : { kind: 'admin' };
    } else {
      const verdict = this.codes.redeem(body.code!, now);
      if (!verdict.ok) throw new UnauthorizedException({ message: `login code refused (${verdict.reason}): run \`runledger ui\` again`, code: `UI_SESSION.CODE_${verdict.reason.toUpperCase()}` });
      subject = verdict.subject;
    }
    response.setHeader('set-cookie', uiCookieHeader(signUiSession(this.token.token, now, UI_SESSION_SECONDS, subject), request.secure === true));
    response.setHeader('cache-control', 'no-store');
    return { expiresAt: new Date(now + UI_SESSION_SECONDS * 1000).toISOString() };
  }

  /** Who is asking: 200 `{via: "cookie" | "bearer"}` when the request is authenticated, 401 otherwise (the page's login check). */
  @Get('session')
  @ApiBearerAuth('bearer')
  @ApiOkResponse({ description: 'authenticated', type: UiWhoAmIView })
  whoAmI(@Req() request: { headers: Record<string, string | undefined>; principal: Principal }): UiWhoAmIView {
    const role = roleOf(request.principal);
    return { via: request.headers.authorization === undefined ? 'cookie' : 'bearer', actor: actorOf(request.principal), ...(role ? { role } : {}) };
  }

  /** 204, the cookie cleared in this browser (the cookie is stateless: changing the token is what revokes every login). */
  @Public()
  @ApiOperation({ security: [] })
  @Delete('session')
  @HttpCode(204)
  @AnswersBeforeProjection() // appends nothing and reads no read model (docs/ARCHITECTURE.md §5)
  @ApiNoContentResponse({ description: 'logged out: the cookie is expired' })
  logout(@Req() request: { secure?: boolean }, @Res({ passthrough: true }) response: CookieResponse): void {
    response.setHeader('set-cookie', uiCookieHeader(null, request.secure === true));
  }

  /** 201 with a one-time code (60 s) for `POST /ui/session {code}`, logging in as the token's holder; needs the bearer token itself (403 with the cookie); 429 past 100 open codes. */
  @Post('login-codes')
  @RequiresAccess('read') // changes no state: a reader may log their own page in (docs/ARCHITECTURE.md §8)
  @AnswersBeforeProjection() // appends nothing and reads no read model (docs/ARCHITECTURE.md §5)
  @ApiBearerAuth('bearer')
  @ApiCreatedResponse({ description: 'a one-time login code', type: LoginCodeView })
  async mintCode(@Req() request: { headers: Record<string, string | undefined>; principal: Principal }): Promise<LoginCodeView> {
    if (request.headers.authorization === undefined) throw new ForbiddenException({ message: 'minting a login code needs the bearer token, not the login cookie', code: 'UI_SESSION.BEARER_REQUIRED' });
    const subject = await this.subjectOf(request.principal);
    const minted = this.codes.mint(Date.now(), subject);
    if (!minted) throw new HttpException({ message: 'too many unused login codes: wait a minute', code: 'UI_SESSION.TOO_MANY_CODES' }, 429);
    return { code: minted.code, expiresAt: new Date(minted.expiresAt).toISOString() };
  }

  /** Whose login a code of `principal` makes: the admin's, or the person's current token; 403 for an agent's credential. */
  private async subjectOf(principal: Principal): Promise<UiSubject> {
    if (principal.kind === 'admin') return { kind: 'admin' };
    const holder = principal.kind === 'user' ? await this.users.active(principal.name) : null;
    if (!holder) throw new ForbiddenException({ message: 'a login code needs a person\'s token or the admin token', code: 'UI_SESSION.BEARER_REQUIRED' });
    return { kind: 'user', name: holder.name, revision: holder.revision };
  }
}
