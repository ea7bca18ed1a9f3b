import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProcStat, readProcStat } from '../runtime/process-runtime';

/** Thrown when another live process owns the embedded data directory (docs/ARCHITECTURE.md §7: two PGlite owners silently lose commits). */
export class DataDirectoryLockedError extends Error {
  readonly code = 'DATA_DIRECTORY_LOCKED';
  constructor(readonly dataDir: string, readonly ownerPid: number, readonly ownerStartedAt: string | undefined) {
    super(
      `the data directory ${dataDir} is owned by another runledger process (pid ${ownerPid}` +
        `${ownerStartedAt ? `, started ${ownerStartedAt}` : ''}); stop it, or use a different RUNLEDGER_DATA_DIR, ` +
        `or use PostgreSQL (DATABASE_URL) to run several processes`,
    );
  }
}

interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  /** /proc/<pid>/stat field 22 of the owner when it took the lock: a reused pid has another. Absent in older locks. */
  procStartTime?: string;
}

/**
 * True when the lock's owner still runs: the pid exists, is not a zombie (exited, not yet reaped: `kill(pid, 0)`
 * succeeds on one) and, when the lock recorded it, has the same /proc start time (not a reused pid).
 */
const isAlive = (owner: LockOwner): boolean => {
  let stat: ProcStat | null | 'no-procfs';
  try {
    stat = readProcStat(owner.pid);
  } catch {
    stat = 'no-procfs'; // not Linux: fall back to kill(pid, 0)
  }
  if (stat === null) return false;
  if (stat !== 'no-procfs') {
    if (stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return false;
    return !owner.procStartTime || stat.startTime === owner.procStartTime;
  }
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const ownStartTime = (): string | undefined => {
  try {
    return readProcStat(process.pid)?.startTime || undefined;
  } catch {
    return undefined;
  }
};

const readOwner = (lockPath: string): LockOwner | null => {
  try {
    return JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockOwner;
  } catch {
    return null; // vanished or half-written: treated as no owner
  }
};

/**
 * An exclusive, pid-stamped lock on a data directory (`<dir>/runledger.lock`).
 * A lock left by a dead process (SIGKILL; a zombie not yet reaped counts as dead, and so does a reused pid whose /proc
 * start time differs from the one recorded) is taken over at once; a live owner makes `acquire` throw
 * DataDirectoryLockedError naming its pid. Residual race: two processes taking over the same stale
 * lock in the same instant; the link(2)-based create keeps two fresh owners from both succeeding.
 */
export class DataDirectoryLock {
  private readonly lockPath: string;
  private held = false;

  constructor(private readonly dataDir: string) {
    this.lockPath = path.join(dataDir, 'runledger.lock');
  }

  /** Takes the lock or throws DataDirectoryLockedError; creates the directory if needed. */
  acquire(): void {
    fs.mkdirSync(this.dataDir, { recursive: true });
    const procStartTime = ownStartTime();
    const me: LockOwner = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString(), ...(procStartTime ? { procStartTime } : {}) };
    const candidate = `${this.lockPath}.${process.pid}.tmp`;
    fs.writeFileSync(candidate, JSON.stringify(me), { mode: 0o600 });
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          fs.linkSync(candidate, this.lockPath); // atomic: fails with EEXIST if anyone holds it
          this.held = true;
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const owner = readOwner(this.lockPath);
        if (owner && owner.pid !== process.pid && owner.hostname === me.hostname && isAlive(owner)) {
          throw new DataDirectoryLockedError(this.dataDir, owner.pid, owner.startedAt);
        }
        if (owner && owner.hostname !== me.hostname) {
          throw new DataDirectoryLockedError(this.dataDir, owner.pid, owner.startedAt);
        }
        // The owner is dead (or it is us after a crash with a recycled pid): remove the stale lock and retry.
        fs.rmSync(this.lockPath, { force: true });
      }
      throw new Error(`could not take the lock ${this.lockPath} after 3 attempts`);
    } finally {
      fs.rmSync(candidate, { force: true });
    }
  }

  /** Releases the lock if this process holds it. */
  release(): void {
    if (!this.held) return;
    const owner = readOwner(this.lockPath);
    if (owner?.pid === process.pid) fs.rmSync(this.lockPath, { force: true });
    this.held = false;
  }
}
