import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

/**
 * A PostgreSQL server of a test's own (initdb into a temp directory, its own port and socket directory), which the test
 * may stop and start at will without touching the shared server on 5432. As root it runs as the `postgres` user
 * (PostgreSQL refuses to run as root) through `runuser`.
 */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  url: string;
  port: number;
  /** Stops the server; `immediate` (default) aborts every backend as a crash would, `fast` rolls them back. */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  /** Starts it again (crash recovery included) and resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it if running and removes its directory. */
  destroy(): Promise<void>;
  /** The server log so far (for a failing test's message). */
  log(): string;
}

/** The directory holding initdb and pg_ctl: `pg_config --bindir`, else the newest /usr/lib/postgresql/<v>/bin; null when absent. */
export const postgresBinDir = (): string | null => {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    /* no pg_config on PATH */
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : null;
};

const postgresUid = (): { uid: number; gid: number } => {
  const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()));
  return { uid, gid };
};

/** Creates and starts a private server; throws when PostgreSQL's binaries (or, as root, the `postgres` user) are missing. */
export const startPrivatePostgres = async (): Promise<PrivatePostgres> => {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL binaries (initdb, pg_ctl) found: install postgresql');
  const root = mkdtempSync(join(tmpdir(), 'rl-private-pg-'));
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = postgresUid();
    chownSync(root, uid, gid);
  }
  const run = async (tool: string, args: string[]): Promise<void> => {
    const command = asRoot ? 'runuser' : join(bin, tool);
    const argv = asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args;
    await promisify(execFile)(command, argv, { timeout: 60_000 });
  };
  const port = await freePort();
  await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${root} -c max_connections=100 -c fsync=on`;
  let running = false;
  const start = async () => {
    await run('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60', 'start']);
    running = true;
  };
  const stop = async (mode: 'immediate' | 'fast' = 'immediate') => {
    await run('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
    running = false;
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    destroy: async () => {
      if (running) await stop('immediate').catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
    log: () => {
      try {
        return execFileSync('tail', ['-n', '50', logFile], { encoding: 'utf8' });
      } catch {
        return '';
      }
    },
  };
};
