import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseSecretKey, SecretKeyError } from '../secrets/secret-key';
import { readVersion } from './version';

/** Runtime configuration from the environment (docs/ARCHITECTURE.md §1, README "Configuration"). */
export interface RunledgerConfig {
  /** Absolute data directory: embedded store, token file, worktrees, logs (`RUNLEDGER_DATA_DIR`, default ./.runledger). */
  dataDir: string;
  /** PostgreSQL URL (`DATABASE_URL`); undefined means the embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  /** HTTP port (`PORT`, default 8787). */
  port: number;
  /** Bind address (`HOST`, default 127.0.0.1). */
  host: string;
  /** Bearer token (`RUNLEDGER_TOKEN`); undefined means generate one into `<dataDir>/token`. */
  token?: string;
  /** Master key of the secret store (`RUNLEDGER_SECRET_KEY`, 64 hex digits or base64 of 32 bytes); undefined means the key file in the data directory (docs/ARCHITECTURE.md §4c). */
  secretKey?: Buffer;
  /** Secret values to redact from tool inputs and outputs (`RUNLEDGER_SECRETS`, comma-separated; invariant 12). */
  secrets: string[];
  /** Grace period in ms between SIGTERM and SIGKILL when a session is killed (`RUNLEDGER_KILL_GRACE_MS`, default 5000). */
  killGraceMs: number;
  /** The installation's own tmux server socket (`RUNLEDGER_TMUX_SOCKET`, default `<dataDir>/tmux.sock`, docs/ARCHITECTURE.md §4a). */
  tmuxSocket: string;
  /** How often the worker checks that the runtimes of running sessions live (ms, RUNLEDGER_WATCH_INTERVAL_MS, default 1000): a dead one is recorded within this plus one reconcile. */
  watchIntervalMs: number;
  /** Most live tails of `GET /events` served at once (`RUNLEDGER_MAX_LIVE_TAILS`, default 256); one more gets 503 with Retry-After. */
  maxLiveTails: number;
  /**
   * Hook-channel health (docs/ARCHITECTURE.md §4a): how often the worker checks it (RUNLEDGER_HEALTH_INTERVAL_MS, default
   * 30000), and after how long hooks silent while working (RUNLEDGER_HEALTH_SILENT_MS) or a call without its result
   * (RUNLEDGER_HEALTH_UNFINISHED_MS) raise a flag (ms, default 600000 each).
   */
  health: { intervalMs: number; silentMs: number; unfinishedMs: number };
  /**
   * File effects (docs/ARCHITECTURE.md §4e): snapshots of a session's files around every call (`RUNLEDGER_SNAPSHOTS`,
   * `on` or `off`, default on), and the size (bytes) over which a file is skipped (`RUNLEDGER_SNAPSHOT_MAX_FILE_BYTES`, default 5 MB).
   */
  snapshots: { enabled: boolean; maxFileBytes: number };
  /**
   * HTTPS served directly (docs/ARCHITECTURE.md §8): `RUNLEDGER_TLS_CERT` and `RUNLEDGER_TLS_KEY` (PEM files, both or
   * neither); `RUNLEDGER_TLS_CA`, the CA that signed the certificate, is handed to the agents' hooks (`RUNLEDGER_CA_FILE`)
   * when it is a private one. Undefined: plain HTTP.
   */
  /**
   * OpenTelemetry (docs/ARCHITECTURE.md §4g): `exportSpans` when OTEL_EXPORTER_OTLP_ENDPOINT or
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (and OTEL_TRACES_EXPORTER is not `none`, OTEL_SDK_DISABLED not `true`);
   * `content` is RUNLEDGER_OTEL_CONTENT (`none`, the default, or `redacted`: inputs and outputs as stored).
   */
  otel: { exportSpans: boolean; content: 'none' | 'redacted' };
  tls?: { certFile: string; keyFile: string; cert: Buffer; key: Buffer; caFile?: string };
  /** runledger's version, from package.json. */
  version: string;
}

/** Thrown for an environment variable with a value runledger cannot use; names the variable. */
export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
  }
}

const integer = (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(name, `expected an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  return n;
};

/** Reads and validates the configuration; throws ConfigError naming the bad variable. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): RunledgerConfig => {
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'expected a postgres:// or postgresql:// URL');
  }
  const eventStore = env.EVENT_STORE;
  if (eventStore && eventStore !== 'postgres') {
    throw new ConfigError('EVENT_STORE', `only "postgres" is available in this build (got ${JSON.stringify(eventStore)}); the KurrentDB adapter is not built yet`);
  }
  const dataDir = path.resolve(cwd, env.RUNLEDGER_DATA_DIR || '.runledger');
  return {
    dataDir,
    databaseUrl,
    port: integer(env, 'PORT', 8787, 0, 65535),
    host: env.HOST || '127.0.0.1',
    token: env.RUNLEDGER_TOKEN || undefined,
    secretKey: secretKeyOf(env),
    secrets: (env.RUNLEDGER_SECRETS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    killGraceMs: integer(env, 'RUNLEDGER_KILL_GRACE_MS', 5000, 0, 600_000),
    tmuxSocket: env.RUNLEDGER_TMUX_SOCKET ? path.resolve(cwd, env.RUNLEDGER_TMUX_SOCKET) : path.join(dataDir, 'tmux.sock'),
    watchIntervalMs: integer(env, 'RUNLEDGER_WATCH_INTERVAL_MS', 1000, 100, 60_000),
    maxLiveTails: integer(env, 'RUNLEDGER_MAX_LIVE_TAILS', 256, 1, 100_000),
    health: {
      intervalMs: integer(env, 'RUNLEDGER_HEALTH_INTERVAL_MS', 30_000, 100, 3_600_000),
      silentMs: integer(env, 'RUNLEDGER_HEALTH_SILENT_MS', 600_000, 0, 86_400_000),
      unfinishedMs: integer(env, 'RUNLEDGER_HEALTH_UNFINISHED_MS', 600_000, 0, 86_400_000),
    },
    snapshots: { enabled: switchOf(env, 'RUNLEDGER_SNAPSHOTS', true), maxFileBytes: integer(env, 'RUNLEDGER_SNAPSHOT_MAX_FILE_BYTES', 5 * 1024 * 1024, 0, 2 ** 40) },
    otel: otelOf(env),
    tls: tlsOf(env, cwd),
    version: readVersion(),
  };
};

/** An `on`/`off` variable (unset or empty: `fallback`); any other value is refused naming the variable. */
const switchOf = (env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError(name, `expected "on" or "off", got ${JSON.stringify(raw)}`);
};

/** The OpenTelemetry export settings; a value runledger cannot honour is refused naming its variable. */
const otelOf = (env: NodeJS.ProcessEnv): RunledgerConfig['otel'] => {
  const content = env.RUNLEDGER_OTEL_CONTENT || 'none';
  if (content !== 'none' && content !== 'redacted') throw new ConfigError('RUNLEDGER_OTEL_CONTENT', `expected "none" or "redacted", got ${JSON.stringify(content)}`);
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const disabled = env.OTEL_SDK_DISABLED === 'true' || (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim()).includes('none');
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const protocol = env[name];
    if (endpoint && !disabled && protocol && protocol !== 'http/json') throw new ConfigError(name, `runledger exports spans over OTLP/HTTP JSON only ("http/json"), got ${JSON.stringify(protocol)}`);
    if (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) break; // the traces-specific one wins over the general one
  }
  return { exportSpans: Boolean(endpoint) && !disabled, content };
};

/** The TLS files, read now so a missing or unreadable one refuses the start naming its variable. */
const tlsOf = (env: NodeJS.ProcessEnv, cwd: string): RunledgerConfig['tls'] => {
  const certFile = env.RUNLEDGER_TLS_CERT || undefined;
  const keyFile = env.RUNLEDGER_TLS_KEY || undefined;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new ConfigError(certFile ? 'RUNLEDGER_TLS_KEY' : 'RUNLEDGER_TLS_CERT', 'HTTPS needs both RUNLEDGER_TLS_CERT and RUNLEDGER_TLS_KEY');
  const read = (variable: string, file: string): Buffer => {
    try {
      return readFileSync(path.resolve(cwd, file));
    } catch (error) {
      throw new ConfigError(variable, `cannot read ${file}: ${(error as Error).message}`);
    }
  };
  const caFile = env.RUNLEDGER_TLS_CA ? path.resolve(cwd, env.RUNLEDGER_TLS_CA) : undefined;
  if (caFile) read('RUNLEDGER_TLS_CA', caFile);
  return { certFile: path.resolve(cwd, certFile), keyFile: path.resolve(cwd, keyFile), cert: read('RUNLEDGER_TLS_CERT', certFile), key: read('RUNLEDGER_TLS_KEY', keyFile), ...(caFile ? { caFile } : {}) };
};

/** True for an address only this machine can reach (`127.0.0.0/8`, `::1`, `localhost`). */
export const isLoopbackHost = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/** RUNLEDGER_SECRET_KEY parsed; a value that is set but malformed is refused (ConfigError), never replaced by another key. */
const secretKeyOf = (env: NodeJS.ProcessEnv): Buffer | undefined => {
  const raw = env.RUNLEDGER_SECRET_KEY;
  if (raw === undefined || raw === '') return undefined;
  try {
    return parseSecretKey(raw);
  } catch (error) {
    if (error instanceof SecretKeyError) throw new ConfigError('RUNLEDGER_SECRET_KEY', error.message.replace(/^RUNLEDGER_SECRET_KEY: /, ''));
    throw error;
  }
};
