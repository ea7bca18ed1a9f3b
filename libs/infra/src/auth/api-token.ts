import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The bearer token every route but health requires, and where it came from. */
export interface ApiToken {
  token: string;
  source: 'env' | 'file' | 'generated';
  /** `<dataDir>/token` when the token lives in the file. */
  path?: string;
}

/**
 * RUNLEDGER_TOKEN if set; else the token kept in `<dataDir>/token` (mode 0600); else a new random one written there,
 * so the CLI and a restarted server keep working with it.
 */
export const resolveApiToken = (dataDir: string, fromEnv?: string): ApiToken => {
  if (fromEnv) return { token: fromEnv, source: 'env' };
  const file = path.join(dataDir, 'token');
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing) return { token: existing, source: 'file', path: file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return { token, source: 'generated', path: file };
};
