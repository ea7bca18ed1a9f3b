import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { executablePath } from '../../runtime/executable-path';
import type { OpencodeEventRow } from './event-parser';

/*
 * Reading OpenCode's SQLite database (`$XDG_DATA_HOME/opencode/opencode.db`, WAL mode) with a SQLite reader of the machine's
 * (Node 20 has no SQLite without a flag, and runledger adds no native dependency), so a read sees every committed row,
 * the WAL's included, while OpenCode runs: the `sqlite3` command-line shell when it is on the PATH (`sqlite3 -json
 * -readonly <db> "<select>"`, 0.02 s here), else OpenCode's own binary (`opencode db --pure --format json "<select>"`,
 * 4 s here: the binary's start), which finds the database by `XDG_DATA_HOME` (its folder's parent's parent).
 */

/** How long one `opencode db` query may run before it is killed (ms): the binary starts in 1-3 s on a loaded machine. */
export const OPENCODE_DB_TIMEOUT_MS = 60_000;

/** Largest answer read from one `opencode db` query (bytes). */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/** An `opencode db` read that failed: the binary missing, a non-zero exit, or an answer that is not a JSON array. */
export class OpencodeDbError extends Error {}

/** The database file OpenCode uses under `xdgDataHome` (`<XDG_DATA_HOME>/opencode/opencode.db`). */
export const opencodeDatabasePath = (xdgDataHome: string): string => path.join(xdgDataHome, 'opencode', 'opencode.db');

/** The `XDG_DATA_HOME` that makes OpenCode open `databasePath` (`…/opencode/opencode.db`); throws OpencodeDbError for another layout. */
export const xdgDataHomeOf = (databasePath: string): string => {
  if (path.basename(databasePath) !== 'opencode.db' || path.basename(path.dirname(databasePath)) !== 'opencode') {
    throw new OpencodeDbError(`${databasePath} is not an OpenCode database path (<XDG_DATA_HOME>/opencode/opencode.db)`);
  }
  return path.dirname(path.dirname(databasePath));
};

/** A SQL string literal (single quotes doubled). */
const sqlString = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** Which reader a query uses: `sqlite3` (the shell on the PATH) or `opencode` (`opencode db`). */
export type OpencodeDbReader = 'sqlite3' | 'opencode';

/**
 * The reader: `RUNLEDGER_OPENCODE_DB_READER` (`sqlite3` or `opencode`) when set, else `sqlite3` when the SQLite shell is
 * on the PATH of `env`, else `opencode`. Throws OpencodeDbError naming the variable for another value, or for `sqlite3`
 * asked for and not found.
 */
export const opencodeDbReader = (env: NodeJS.ProcessEnv = process.env): OpencodeDbReader => {
  const chosen = env.RUNLEDGER_OPENCODE_DB_READER;
  if (chosen !== undefined && chosen !== '' && chosen !== 'sqlite3' && chosen !== 'opencode') {
    throw new OpencodeDbError(`RUNLEDGER_OPENCODE_DB_READER must be sqlite3 or opencode, not ${JSON.stringify(chosen)}`);
  }
  const shell = executablePath('sqlite3', env) !== undefined;
  if (chosen === 'sqlite3' && !shell) throw new OpencodeDbError('RUNLEDGER_OPENCODE_DB_READER is sqlite3 but no sqlite3 is on the PATH');
  return chosen === 'opencode' || !shell ? 'opencode' : 'sqlite3';
};

/**
 * Runs `select` against the database at `databasePath` with `reader` (`opencode`: the OpenCode executable `bin`,
 * `--pure` so no plugin is loaded, XDG_DATA_HOME set from the path) and returns its rows; rejects with OpencodeDbError
 * when the reader fails or answers something else than a JSON array (an empty answer is no row).
 */
export const queryOpencodeDb = (
  bin: string, databasePath: string, select: string, env: NodeJS.ProcessEnv = process.env,
): Promise<Array<Record<string, unknown>>> =>
  new Promise((resolve, reject) => {
    let xdgDataHome: string;
    let reader: OpencodeDbReader;
    try {
      xdgDataHome = xdgDataHomeOf(databasePath);
      reader = opencodeDbReader(env);
    } catch (error) {
      reject(error);
      return;
    }
    const [command, args, childEnv] = reader === 'sqlite3'
      ? ['sqlite3', ['-json', '-readonly', databasePath, select], env]
      : [bin, ['db', '--pure', '--format', 'json', select], { ...env, XDG_DATA_HOME: xdgDataHome, OPENCODE_DISABLE_AUTOUPDATE: '1', OPENCODE_DISABLE_MODELS_FETCH: '1' }];
    execFile(command, args, { env: childEnv, timeout: OPENCODE_DB_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES }, (error, stdout, stderr) => {
      if (error) {
        reject(new OpencodeDbError(`${reader === 'sqlite3' ? 'sqlite3' : `${bin} db`} failed on ${databasePath}: ${error.message}${stderr ? ` (${String(stderr).trim().slice(0, 500)})` : ''}`));
        return;
      }
      const text = String(stdout).trim();
      try {
        const rows = text === '' ? [] : (JSON.parse(text) as unknown);
        if (!Array.isArray(rows)) throw new Error('not an array');
        resolve(rows as Array<Record<string, unknown>>);
      } catch (parseError) {
        reject(new OpencodeDbError(`${reader} answered something else than a JSON array for ${databasePath}: ${(parseError as Error).message}`));
      }
    });
  });

/** One OpenCode session's `event` rows in `seq` order (empty when the session has none); rejects with OpencodeDbError. */
export const readOpencodeEvents = async (bin: string, databasePath: string, agentSessionId: string, env?: NodeJS.ProcessEnv): Promise<OpencodeEventRow[]> => {
  const rows = await queryOpencodeDb(bin, databasePath, `select aggregate_id, seq, type, data from event where aggregate_id = ${sqlString(agentSessionId)} order by seq`, env);
  return rows.map((r) => ({ aggregate_id: String(r.aggregate_id), seq: Number(r.seq), type: String(r.type), data: r.data }));
};

/** An OpenCode session as its `session` table lists it: id, the folder it ran in, its title. */
export interface OpencodeSessionRow {
  id: string;
  directory: string;
  title: string;
}

/** Every session of the database (top-level and child sessions), oldest first; rejects with OpencodeDbError. */
export const listOpencodeSessions = async (bin: string, databasePath: string, env?: NodeJS.ProcessEnv): Promise<OpencodeSessionRow[]> => {
  const rows = await queryOpencodeDb(bin, databasePath, 'select id, directory, title from session order by time_created', env);
  return rows.map((r) => ({ id: String(r.id), directory: String(r.directory), title: String(r.title ?? '') }));
};
