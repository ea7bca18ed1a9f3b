import { LoginCodes, readCookie, signUiSession, uiCookieHeader, verifyUiSession } from './ui-session';

describe('web timeline login', () => {
  const token = 'the-api-token-0123456789';
  const now = Date.UTC(2026, 0, 1);

  it('accepts its own cookie until it expires, and refuses a forged, altered or foreign one by name', () => {
    const value = signUiSession(token, now, 60);
    expect(value).not.toContain(token);
    expect(verifyUiSession(token, value, now + 59_000)).toEqual({ ok: true, subject: { kind: 'admin' } });
    expect(verifyUiSession(token, value, now + 60_000)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyUiSession('another-token-0123456789', value, now)).toEqual({ ok: false, reason: 'bad_signature' });
    const [v, expiry, nonce, mac] = value.split('.');
    expect(verifyUiSession(token, [v, String(Number(expiry) + 3600), nonce, mac].join('.'), now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyUiSession(token, 'garbage', now)).toEqual({ ok: false, reason: 'malformed' });
    expect(signUiSession(token, now)).not.toBe(signUiSession(token, now)); // a nonce per login
  });

  it("a person's login names them and their token's revision, and cannot be re-signed as another", () => {
    const subject = { kind: 'user' as const, name: 'ada.l', revision: 2 };
    const value = signUiSession(token, now, 60, subject);
    expect(verifyUiSession(token, value, now)).toEqual({ ok: true, subject });
    const parts = value.split('.');
    parts[3] = Buffer.from('root\u00002').toString('base64url');
    expect(verifyUiSession(token, parts.join('.'), now)).toEqual({ ok: false, reason: 'bad_signature' });
    const codes = new LoginCodes();
    expect(codes.redeem(codes.mint(now, subject)!.code, now)).toEqual({ ok: true, subject });
  });

  it('reads one cookie among others and writes HttpOnly, SameSite=Strict cookies', () => {
    expect(readCookie('a=1; runledger_ui=v1.x.y.z; b=2', 'runledger_ui')).toBe('v1.x.y.z');
    expect(readCookie('a=1', 'runledger_ui')).toBeUndefined();
    expect(readCookie(undefined, 'runledger_ui')).toBeUndefined();
    expect(uiCookieHeader('v', false, 10)).toBe('runledger_ui=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=10');
    expect(uiCookieHeader(null, true)).toBe('runledger_ui=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure');
  });

  it('one-time codes work once, expire, and are bounded in number', () => {
    const codes = new LoginCodes(1000, 2);
    const a = codes.mint(now)!;
    expect(codes.redeem(a.code, now + 999)).toEqual({ ok: true, subject: { kind: 'admin' } });
    expect(codes.redeem(a.code, now + 999)).toEqual({ ok: false, reason: 'unknown' });
    const b = codes.mint(now)!;
    expect(codes.redeem(b.code, now + 1000)).toEqual({ ok: false, reason: 'expired' });
    codes.mint(now);
    codes.mint(now);
    expect(codes.mint(now)).toBeNull(); // two unexpired codes held: refused
    expect(codes.mint(now + 1000)).not.toBeNull(); // expired ones are swept
  });
});
