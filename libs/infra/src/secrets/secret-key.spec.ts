import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, loadConfig } from '../config/runledger-config';
import { parseSecretKey, resolveSecretKey, SecretKeyError, secretKeyPath } from './secret-key';

describe('secret store key', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rl-key-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads 64 hex digits and base64 / base64url of 32 bytes', () => {
    const key = randomBytes(32);
    expect(parseSecretKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretKey(key.toString('base64'))).toEqual(key);
    expect(parseSecretKey(key.toString('base64url'))).toEqual(key);
  });

  it.each([['too short', 'abc'], ['31 bytes', randomBytes(31).toString('base64')], ['33 bytes hex', randomBytes(33).toString('hex')], ['not hex', 'z'.repeat(64)]])(
    'refuses a malformed key (%s) naming where it came from, never falling back',
    (_label, raw) => {
      expect(() => parseSecretKey(raw)).toThrow(SecretKeyError);
      expect(() => loadConfig({ RUNLEDGER_SECRET_KEY: raw }, dir)).toThrow(ConfigError);
      expect(() => loadConfig({ RUNLEDGER_SECRET_KEY: raw }, dir)).toThrow(/^RUNLEDGER_SECRET_KEY: expected a 256-bit key/);
    },
  );

  it('uses RUNLEDGER_SECRET_KEY when given, and writes no key file', () => {
    const key = randomBytes(32);
    expect(loadConfig({ RUNLEDGER_SECRET_KEY: key.toString('hex') }, dir).secretKey).toEqual(key);
    expect(resolveSecretKey(dir, key)).toEqual({ key, source: 'env' });
    expect(() => statSync(secretKeyPath(dir))).toThrow();
  });

  it('generates a key into <dataDir>/secrets/secret.key with mode 0600 (directory 0700) and reads the same key back', () => {
    const generated = resolveSecretKey(dir);
    expect(generated.source).toBe('generated');
    expect(statSync(secretKeyPath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(secretKeyPath(dir))).mode & 0o777).toBe(0o700);
    const again = resolveSecretKey(dir);
    expect(again).toEqual({ key: generated.key, source: 'file', path: secretKeyPath(dir) });
    expect(readFileSync(secretKeyPath(dir), 'utf8').trim()).toBe(generated.key.toString('base64'));
  });

  it('refuses a malformed key file instead of replacing it', () => {
    mkdirSync(dirname(secretKeyPath(dir)), { recursive: true });
    writeFileSync(secretKeyPath(dir), 'not a key\n');
    expect(() => resolveSecretKey(dir)).toThrow(SecretKeyError);
    expect(readFileSync(secretKeyPath(dir), 'utf8')).toBe('not a key\n');
  });
});
