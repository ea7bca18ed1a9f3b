import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** Prefix of every fingerprint: the keyed hash it is and its version. */
export const FINGERPRINT_PREFIX = 'hmac-sha256:';
/** Hex characters of the HMAC kept in a fingerprint (96 bits: enough to tell values apart, nothing to brute-force offline without the key). */
const FINGERPRINT_HEX = 24;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEALED_VERSION = 'v1';

/** Thrown when a sealed value cannot be opened: another key sealed it, or it was altered. */
export class SecretDecryptError extends Error {}

const subkey = (master: Buffer, purpose: string): Buffer => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `runledger ${purpose}`, 32));

/**
 * AES-256-GCM sealing and HMAC-SHA256 fingerprints under one 32-byte master key (docs/ARCHITECTURE.md §4c). The
 * encryption, fingerprint and key-id subkeys are derived from the master with HKDF, so no subkey reveals another.
 * A sealed value is `v1:<iv>:<ciphertext>:<tag>` (base64), bound to its `context` (additional authenticated data).
 */
export class SecretCipher {
  private readonly encryptionKey: Buffer;
  private readonly fingerprintKey: Buffer;
  private readonly master: Buffer;
  /** Short public id of the master key (hex): tells which key sealed a row without revealing it. */
  readonly keyId: string;

  /** Throws RangeError unless `master` is 32 bytes. */
  constructor(master: Buffer) {
    if (master.length !== 32) throw new RangeError(`a secret key has 32 bytes, got ${master.length}`);
    this.master = master;
    this.encryptionKey = subkey(master, 'secret encryption');
    this.fingerprintKey = subkey(master, 'secret fingerprint');
    this.keyId = subkey(master, 'secret key id').subarray(0, 8).toString('hex');
  }

  /** Seals `value` (UTF-8) with a fresh random IV, bound to `context` (e.g. project and name). */
  seal(value: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return [SEALED_VERSION, iv.toString('base64'), body.toString('base64'), cipher.getAuthTag().toString('base64')].join(':');
  }

  /** Opens a value sealed for `context`; throws SecretDecryptError for another key, another context or altered text. */
  open(sealed: string, context: string): string {
    const [version, iv, body, tag] = sealed.split(':');
    if (version !== SEALED_VERSION || iv === undefined || body === undefined || tag === undefined) throw new SecretDecryptError('not a sealed secret');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, Buffer.from(iv, 'base64'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptError('the sealed secret does not open with this key (another key sealed it, or it was altered)');
    }
  }

  /** `hmac-sha256:<24 hex>` of `value` under the fingerprint subkey: equal values have equal fingerprints under one key. */
  fingerprint(value: string): string {
    return FINGERPRINT_PREFIX + createHmac('sha256', this.fingerprintKey).update(value, 'utf8').digest('hex').slice(0, FINGERPRINT_HEX);
  }

  /** A 32-byte key for another `purpose` (HKDF of the master): it reveals neither the master nor any other subkey. */
  deriveKey(purpose: string): Buffer {
    return subkey(this.master, purpose);
  }
}
