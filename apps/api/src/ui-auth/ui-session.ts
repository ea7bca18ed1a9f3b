import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Name of the HttpOnly cookie that authenticates the web timeline (docs/ARCHITECTURE.md §5). */
export const UI_COOKIE = 'runledger_ui';
/** Lifetime of a web-timeline login (seconds): 12 hours, then the page asks again. */
export const UI_SESSION_SECONDS = 12 * 60 * 60;
/** Lifetime of a one-time login code minted by `runledger ui` (ms). */
export const LOGIN_CODE_TTL_MS = 60_000;
/** Most unexpired login codes held at once; minting beyond it is refused (429) rather than growing without bound. */
export const MAX_LOGIN_CODES = 100;
/**
 * Header a cookie-authenticated request must carry on every method but GET/HEAD: a cross-site form cannot set it and no
 * CORS is served, so a page of another origin cannot make the browser send a write with the cookie (CSRF).
 */
export const UI_REQUEST_HEADER = 'x-runledger-ui';

const VERSION = 'v1';
/** Cookies of a person's login carry their subject (base64url) as a fourth part before the MAC. */
const VERSION_SUBJECT = 'v2';

/** Whose login a cookie is: the bootstrap admin token's, or person `name`'s token of `UserAdded` revision `revision`. */
export type UiSubject = { kind: 'admin' } | { kind: 'user'; name: string; revision: number };

const ADMIN: UiSubject = { kind: 'admin' };

const mac = (token: string, payload: string): string => createHmac('sha256', token).update(`runledger-ui:${payload}`).digest('base64url');

const encodeSubject = (subject: UiSubject): string => (subject.kind === 'admin' ? '' : Buffer.from(`${subject.name}\0${subject.revision}`, 'utf8').toString('base64url'));

const decodeSubject = (encoded: string): UiSubject | null => {
  const [name, revision, extra] = Buffer.from(encoded, 'base64url').toString('utf8').split('\0');
  return name && extra === undefined && /^\d{1,15}$/.test(revision ?? '') ? { kind: 'user', name, revision: Number(revision) } : null;
};

/**
 * A new cookie value `v1.<expiresAt epoch s>.<nonce>.<HMAC-SHA256 keyed by the API token>` (the admin token's login), or
 * `v2.<expiresAt>.<nonce>.<subject>.<HMAC>` for a person's login (docs/ARCHITECTURE.md §8): stateless, so every API
 * process holding the token accepts it, and changing the token logs every page out; a person's login also ends when
 * their token is revoked (the guard checks the subject). No token ever leaves the server in it.
 */
export const signUiSession = (token: string, nowMs: number, lifetimeSeconds = UI_SESSION_SECONDS, subject: UiSubject = ADMIN): string => {
  const head = `${Math.floor(nowMs / 1000) + lifetimeSeconds}.${randomBytes(12).toString('base64url')}`;
  const payload = subject.kind === 'admin' ? `${VERSION}.${head}` : `${VERSION_SUBJECT}.${head}.${encodeSubject(subject)}`;
  return `${payload}.${mac(token, payload)}`;
};

/** Why a cookie value was refused (named, for the 401 message). */
export type UiSessionRejection = 'malformed' | 'bad_signature' | 'expired';

/** Checks a cookie value made by signUiSession: `ok` with whose login it is, or the reason it is refused (constant-time signature check). */
export const verifyUiSession = (token: string, value: string, nowMs: number): { ok: true; subject: UiSubject } | { ok: false; reason: UiSessionRejection } => {
  const parts = value.split('.');
  const withSubject = parts[0] === VERSION_SUBJECT;
  if (parts.length !== (withSubject ? 5 : 4) || (parts[0] !== VERSION && !withSubject) || !/^\d{1,12}$/.test(parts[1])) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(parts[parts.length - 1]);
  const expected = Buffer.from(mac(token, parts.slice(0, -1).join('.')));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  if (Number(parts[1]) * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  const subject = withSubject ? decodeSubject(parts[3]) : ADMIN;
  return subject ? { ok: true, subject } : { ok: false, reason: 'malformed' };
};

/** The value of cookie `name` in a `Cookie` request header, or undefined (first occurrence wins). */
export const readCookie = (header: string | undefined, name: string): string | undefined => {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
};

/**
 * `Set-Cookie` for a login (`value`) or a logout (`null`, expired at once): HttpOnly (no script reads it), SameSite=Strict
 * (never sent by another site's page), Path=/, and Secure when the request came over HTTPS.
 */
export const uiCookieHeader = (value: string | null, secure: boolean, lifetimeSeconds = UI_SESSION_SECONDS): string =>
  [`${UI_COOKIE}=${value ?? ''}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${value === null ? 0 : lifetimeSeconds}`, ...(secure ? ['Secure'] : [])].join('; ');

/** A login code that could not be used: unknown (never minted here, or already used) or past its 60 s. */
export type LoginCodeRejection = 'unknown' | 'expired';

/**
 * One-time login codes for `runledger ui` (held in this process's memory): minted by a bearer-token holder, valid for
 * LOGIN_CODE_TTL_MS, usable once, then exchanged for the UI cookie. A code is only known to the process that minted it.
 */
export class LoginCodes {
  private readonly codes = new Map<string, { expiresAt: number; subject: UiSubject }>();

  constructor(private readonly ttlMs = LOGIN_CODE_TTL_MS, private readonly max = MAX_LOGIN_CODES) {}

  /** A new code for `subject`'s login and its expiry (epoch ms); null when MAX_LOGIN_CODES unexpired codes are already held. */
  mint(nowMs: number, subject: UiSubject = ADMIN): { code: string; expiresAt: number } | null {
    this.sweep(nowMs);
    if (this.codes.size >= this.max) return null;
    const code = randomBytes(18).toString('base64url');
    const expiresAt = nowMs + this.ttlMs;
    this.codes.set(code, { expiresAt, subject });
    return { code, expiresAt };
  }

  /** Uses a code up: `ok` with whose login it is, once, then `unknown`; `expired` after its TTL (and it is forgotten). */
  redeem(code: string, nowMs: number): { ok: true; subject: UiSubject } | { ok: false; reason: LoginCodeRejection } {
    const held = this.codes.get(code);
    if (held === undefined) return { ok: false, reason: 'unknown' };
    this.codes.delete(code);
    return held.expiresAt > nowMs ? { ok: true, subject: held.subject } : { ok: false, reason: 'expired' };
  }

  private sweep(nowMs: number): void {
    for (const [code, { expiresAt }] of this.codes) if (expiresAt <= nowMs) this.codes.delete(code);
  }
}
