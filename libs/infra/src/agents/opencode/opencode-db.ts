import { execFile } from 'node:child_process';
import * as path from 'node:path';
import type { OpencodeEventRow } from './event-parser';

/*
 * Reading OpenCode's SQLite database (`$XDG_DATA_HOME/opencode/opencode.db`, WAL mode) through OpenCode's own binary:
 * `opencode db --pure --format json "<select>"` opens it with its bundled SQLite (Node 20 has no SQLite without a flag,
 * and runledger adds no native dependency), so a read sees every committed row, the WAL's included, while OpenCode runs.
 * The database is found by `XDG_DATA_HOME` (its folder's parent's parent), so the read is pointed at it by that variable.
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

/**
 * Runs `select` against the database at `databasePath` with the OpenCode executable `bin` (`--pure`: no plugin is
 * loaded) and returns its rows; rejects with OpencodeDbError when the binary fails or answers something else than a
 * JSON array. `env` is the environment the binary gets (XDG_DATA_HOME is set from the path).
 */
export const queryOpencodeDb = (bin: string, databasePath: string, select: string, env: NodeJS.ProcessEnv = process.env): Promise<Array<Record<string, unknown>>> =>
  new Promise((resolve, reject) => {
    let xdgDataHome: string;
    try {
      xdgDataHome = xdgDataHomeOf(databasePath);
    } catch (error) {
      reject(error);
      return;
    }
    const childEnv = { ...env, XDG_DATA_HOME: xdgDataHome, OPENCODE_DISABLE_AUTOUPDATE: '1', OPENCODE_DISABLE_MODELS_FETCH: '1' };
    execFile(bin, ['db', '--pure', '--format', 'json', select], { env: childEnv, timeout: OPENCODE_DB_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES }, (error, stdout, stderr) => {
      if (error) {
        reject(new OpencodeDbError(`${bin} db failed on ${databasePath}: ${error.message}${stderr ? ` (${String(stderr).trim().slice(0, 500)})` : ''}`));
        return;
      }
      const text = String(stdout).trim();
      try {
        const rows = text === '' ? [] : (JSON.parse(text) as unknown);
        if (!Array.isArray(rows)) throw new Error('not an array');
        resolve(rows as Array<Record<string, unknown>>);
      } catch (parseError) {
        reject(new OpencodeDbError(`${bin} db answered something else than a JSON array for ${databasePath}: ${(parseError as Error).message}`));
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
