import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Length in bytes of the secret-store master key (AES-256). */
export const SECRET_KEY_BYTES = 32;

/** The secret store's master key and where it came from (docs/ARCHITECTURE.md §4c). */
export interface SecretKey {
  key: Buffer;
  source: 'env' | 'file' | 'generated';
  /** `<dataDir>/secrets/secret.key` when the key lives in the file. */
  path?: string;
}

/** Thrown for a key that is given but unusable; `origin` names where it came from (the variable or the file). */
export class SecretKeyError extends Error {
  constructor(readonly origin: string, message: string) {
    super(`${origin}: ${message}`);
  }
}

/**
 * Parses a 256-bit key written as 64 hex digits or as base64 / base64url of 32 bytes (padding optional); throws
 * SecretKeyError naming `origin` for anything else, never falling back to another key.
 */
export const parseSecretKey = (raw: string, origin = 'RUNLEDGER_SECRET_KEY'): Buffer => {
  const text = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === SECRET_KEY_BYTES) return key;
  }
  throw new SecretKeyError(origin, `expected a 256-bit key as 64 hex digits or 44 base64 characters (e.g. \`openssl rand -base64 32\`), got ${text.length} characters`);
};

/** Where the generated key is kept: `<dataDir>/secrets/secret.key` (mode 0600, in a 0700 directory). */
export const secretKeyPath = (dataDir: string): string => path.join(dataDir, 'secrets', 'secret.key');

/**
 * The master key: `fromEnv` (RUNLEDGER_SECRET_KEY, already parsed) if given; else the key kept in
 * `<dataDir>/secrets/secret.key` (a malformed file is refused with SecretKeyError, never replaced); else 32 random bytes
 * written there with mode 0600, so a restarted server reads the same key.
 */
export const resolveSecretKey = (dataDir: string, fromEnv?: Buffer): SecretKey => {
  if (fromEnv) return { key: fromEnv, source: 'env' };
  const file = secretKeyPath(dataDir);
  let existing: string | undefined;
  try {
    existing = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (existing !== undefined) return { key: parseSecretKey(existing, file), source: 'file', path: file };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  const key = randomBytes(SECRET_KEY_BYTES);
  // `wx`: two processes starting at once never overwrite each other's key; the loser reads the winner's.
  try {
    fs.writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return resolveSecretKey(dataDir);
    throw error;
  }
  fs.chmodSync(file, 0o600);
  return { key, source: 'generated', path: file };
};
