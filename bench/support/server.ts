/**
 * Bench support: a real `runledger start` child process (PGlite in a temp data directory, or a fresh PostgreSQL
 * database), a keep-alive HTTP client timing each request, a git repository for a project, and percentiles.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { PgliteDatabase, PostgresDatabase, SqlDatabase } from '@runledger/infra/database';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'runledger.js');
const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const BENCH_TOKEN = 'bench-token-0123456789abcdef';

/** Which engine the server runs on: the embedded default, or a fresh database on DATABASE_URL's server. */
export type BenchEngine = 'pglite' | 'postgres';

/** A fresh database on the PostgreSQL server of DATABASE_URL (default the local one); `drop` removes it. */
export const freshPostgres = async (): Promise<{ url: string; drop: () => Promise<void> }> => {
  const serverUrl = process.env.DATABASE_URL || DEFAULT_URL;
  const name = `rl_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
};

/** A running `runledger start`. */
export interface BenchServer {
  url: string;
  pid: number;
  /** SIGTERM, then resolves once the process has exited. */
  stop(): Promise<void>;
}

/** Where a bench's runledger keeps its data (a temp directory, plus a fresh PostgreSQL database for `postgres`). */
export interface BenchInstallation {
  engine: BenchEngine;
  root: string;
  /** Starts `runledger start` on `port` (default: an ephemeral one); resolves once it listens. */
  start(port?: number): Promise<BenchServer>;
  /** Opens the installation's database directly (stop the server first on PGlite: one process owns its directory). */
  open(): Promise<SqlDatabase>;
  /** Removes the directory and drops the database. */
  destroy(): Promise<void>;
}

/** A fresh installation on `engine`. */
export const benchInstallation = async (engine: BenchEngine): Promise<BenchInstallation> => {
  const root = mkdtempSync(join(tmpdir(), 'rl-bench-'));
  const dataDir = join(root, 'data');
  const database = engine === 'postgres' ? await freshPostgres() : null;
  return {
    engine,
    root,
    start: (port = 0) => startServer(dataDir, database?.url ?? '', port),
    open: async () => (database ? new PostgresDatabase({ connectionString: database.url, max: 8 }) : PgliteDatabase.open(dataDir)),
    destroy: async () => {
      await database?.drop();
      rmSync(root, { recursive: true, force: true });
    },
  };
};

const startServer = (dataDir: string, databaseUrl: string, port: number): Promise<BenchServer> =>
  startRole('start', { PORT: String(port), RUNLEDGER_DATA_DIR: dataDir, DATABASE_URL: databaseUrl });

/** Which runledger process a bench starts: `start` (api and worker), `api` or `worker` (README "The command line"). */
export type BenchRole = 'start' | 'api' | 'worker';

/**
 * Starts `runledger <role>` with the bench token and `env` on top of this process's environment; resolves once it is
 * ready: the api's `listening on` line (its URL), or a worker's `worker started` log line (a worker logs at `info` for
 * that line: it serves no HTTP; its URL is ''). Rejects with the output when it exits first.
 */
export const startRole = async (role: BenchRole, env: Record<string, string>): Promise<BenchServer> => {
  // BENCH_SERVER_PROF=<dir>: the server writes a V8 CPU profile there when it exits (`node --cpu-prof`).
  const prof = process.env.BENCH_SERVER_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SERVER_PROF}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...prof, BIN, role], {
    env: {
      ...process.env,
      PORT: '0',
      NO_COLOR: '1',
      RUNLEDGER_LOG_LEVEL: role === 'worker' ? 'info' : (process.env.RUNLEDGER_LOG_LEVEL ?? 'warn'), // one JSON line per request and per append at info
      RUNLEDGER_TOKEN: BENCH_TOKEN,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = role === 'worker' ? /worker started on/ : /listening on (http:\/\/\S+)\/api\/v1/;
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        resolve(match[1] ?? '');
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then(() => reject(new Error(`runledger ${role} exited before it was ready:\n${output}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
};

/** A git repository with one commit, for a project to register. */
export const makeBenchRepo = (dir: string): string => {
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, env });
  writeFileSync(join(dir, 'README.md'), '# bench\n');
  execFileSync('git', ['add', '-A'], { cwd: dir, env });
  execFileSync('git', ['commit', '-q', '-m', 'initial'], { cwd: dir, env });
  return dir;
};

/** A response: status, parsed body and the round trip in ms (request written → body read). */
export interface Timed<T = any> {
  status: number;
  body: T;
  ms: number;
}

/** A keep-alive JSON client of `/api/v1` with `token` (default the bench's admin token); every call is timed. */
export const benchClient = (baseUrl: string, sockets = 16, token = BENCH_TOKEN) => {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, retried = false): Promise<Timed> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const started = performance.now();
      const req = request(
        `${baseUrl}/api/v1${path}`,
        {
          method,
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = performance.now() - started;
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              /* not JSON: keep the text */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, ms });
          });
        },
      );
      // A kept-alive socket the server closed as the request left it (Node's documented race): sent again once, fresh.
      req.on('error', (error: NodeJS.ErrnoException) =>
        error.code === 'ECONNRESET' && req.reusedSocket && !retried ? call(method, path, body, headers, true).then(resolve, reject) : reject(error),
      );
      if (payload) req.write(payload);
      req.end();
    });
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    put: (path: string, body: unknown) => call('PUT', path, body),
    close: () => agent.destroy(),
  };
};

/** The p-th percentile (0–100) of `values` (nearest rank); NaN when empty. */
export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};

/** Throws naming the request when a response is not the expected status (a bench must not time failures). */
export const expectStatus = (what: string, response: Timed, status: number): Timed => {
  if (response.status !== status) throw new Error(`${what}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  return response;
};

/** A temp directory removed by the caller. */
export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix));

/** Runs a bench's `main`; prints the failure's stack and exits 1 when it rejects. */
export const runBench = (main: () => Promise<void>): void => {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
};

/** A running bench server: its installation, the server process and a timed client of it. */
export interface BenchRun {
  installation: BenchInstallation;
  server: BenchServer;
  api: ReturnType<typeof benchClient>;
}

/** Starts a server on a fresh installation with a client of `sockets` connections (the caller closes it with closeBenchRun). */
export const startBenchRun = async (engine: BenchEngine, sockets?: number): Promise<BenchRun> => {
  const installation = await benchInstallation(engine);
  const server = await installation.start();
  return { installation, server, api: benchClient(server.url, sockets) };
};

/** Closes the client, stops the server (resolves once it exited) and removes the installation. */
export const closeBenchRun = async (run: BenchRun): Promise<void> => {
  run.api.close();
  await run.server.stop();
  await run.installation.destroy();
};
