import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './client-errors';

/** Default server of every client command (docs/ARCHITECTURE.md §6). */
export const DEFAULT_URL = 'http://127.0.0.1:8787';

/** Where a client command sends its requests and the bearer token it sends (`undefined`: none found). */
export interface ClientConfig {
  /** Server origin without a trailing slash and without `/api/v1`, e.g. `http://127.0.0.1:8787`. */
  baseUrl: string;
  token?: string;
  /** Where the token came from: `RUNLEDGER_TOKEN`, the token file's path, or `none`. */
  tokenSource: string;
  /** PEM file of a private CA an `https:` server's certificate is verified with (`RUNLEDGER_CA_FILE`, or `--ca-file`); absent: the system's CAs. */
  caFile?: string;
}

/**
 * RUNLEDGER_URL (default http://127.0.0.1:8787; a trailing `/` or `/api/v1` is dropped) and the token: RUNLEDGER_TOKEN,
 * else the first line of `<RUNLEDGER_DATA_DIR or ./.runledger>/token` (resolved against `cwd`), else none.
 * RUNLEDGER_CA_FILE (resolved against `cwd`) names a private CA for an https server. Throws UsageError when RUNLEDGER_URL
 * is not an http(s) URL.
 */
export const resolveClientConfig = (env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): ClientConfig => {
  const raw = (env.RUNLEDGER_URL || DEFAULT_URL).trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`RUNLEDGER_URL is not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`RUNLEDGER_URL must be http(s): ${raw}`);
  const baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}`;
  const ca = env.RUNLEDGER_CA_FILE ? { caFile: path.resolve(cwd, env.RUNLEDGER_CA_FILE) } : {};
  if (env.RUNLEDGER_TOKEN) return { baseUrl, token: env.RUNLEDGER_TOKEN, tokenSource: 'RUNLEDGER_TOKEN', ...ca };
  const file = path.join(path.resolve(cwd, env.RUNLEDGER_DATA_DIR || '.runledger'), 'token');
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return { baseUrl, token, tokenSource: file, ...ca };
  } catch {
    /* no token file: the server will answer 401 with a hint */
  }
  return { baseUrl, tokenSource: 'none', ...ca };
};
