import { randomBytes } from 'node:crypto';
import { SecretCipher, SecretDecryptError } from './secret-cipher';

describe('SecretCipher', () => {
  const cipher = new SecretCipher(randomBytes(32));

  it('seals a value that opens only with the same key and context, each seal different', () => {
    const a = cipher.seal('hunter2-value', 'p/NAME');
    expect(a).not.toContain('hunter2');
    expect(cipher.seal('hunter2-value', 'p/NAME')).not.toBe(a); // fresh IV
    expect(cipher.open(a, 'p/NAME')).toBe('hunter2-value');
    expect(() => cipher.open(a, 'p/OTHER')).toThrow(SecretDecryptError);
    expect(() => new SecretCipher(randomBytes(32)).open(a, 'p/NAME')).toThrow(SecretDecryptError);
  });

  it('detects an altered ciphertext', () => {
    const [v, iv, body, tag] = cipher.seal('hunter2-value', 'c').split(':');
    const flipped = Buffer.from(body, 'base64');
    flipped[0] ^= 1;
    expect(() => cipher.open([v, iv, flipped.toString('base64'), tag].join(':'), 'c')).toThrow(SecretDecryptError);
    expect(() => cipher.open('garbage', 'c')).toThrow(SecretDecryptError);
  });

  it('fingerprints with a keyed hash: stable under one key, different under another, never the value', () => {
    const fp = cipher.fingerprint('hunter2-value');
    expect(fp).toMatch(/^hmac-sha256:[0-9a-f]{24}$/);
    expect(cipher.fingerprint('hunter2-value')).toBe(fp);
    expect(cipher.fingerprint('hunter3-value')).not.toBe(fp);
    expect(new SecretCipher(randomBytes(32)).fingerprint('hunter2-value')).not.toBe(fp);
  });

  it('refuses a master key of the wrong size', () => {
    expect(() => new SecretCipher(randomBytes(16))).toThrow(RangeError);
  });
});
