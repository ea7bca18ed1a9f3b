import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirectoryLock, DataDirectoryLockedError } from '@runledger/infra/database';
import { readProcStat } from '@runledger/infra/runtime';
import { eventually } from '../support/http-client';

const LOCK_MODULE = join(__dirname, '../../dist/libs/infra/src/database/data-directory-lock.js');

describe('data-directory lock after a crash', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rl-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes over at once from an owner that died by SIGKILL and is still a zombie (never reaped)', async () => {
    if (!existsSync(LOCK_MODULE)) throw new Error('run `npx nest build cli` first: the owner is a separate process using the compiled lock');
    // The owner's parent exec's into `sleep`, which never reaps it: after its SIGKILL it stays a zombie.
    const script = join(dir, 'owner.js');
    writeFileSync(script, `new (require(${JSON.stringify(LOCK_MODULE)}).DataDirectoryLock)(${JSON.stringify(dir)}).acquire(); process.kill(process.pid, 'SIGKILL');`);
    const parent = spawn('sh', ['-c', '"$0" "$1" & exec sleep 30', process.execPath, script], { stdio: 'ignore' });
    try {
      const lockPath = join(dir, 'runledger.lock');
      const pid = await eventually(() => (existsSync(lockPath) ? (JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number }).pid : 0), 'the owner to take the lock');
      await eventually(() => readProcStat(pid)?.state === 'Z', `pid ${pid} to be a zombie`);
      expect(() => process.kill(pid, 0)).not.toThrow(); // what the old liveness check relied on
      const lock = new DataDirectoryLock(dir);
      expect(() => lock.acquire()).not.toThrow();
      lock.release();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('still refuses while the owner lives, naming its pid', () => {
    const first = new DataDirectoryLock(dir);
    first.acquire();
    const stamp = JSON.parse(readFileSync(join(dir, 'runledger.lock'), 'utf8'));
    expect(stamp.procStartTime).toBe(readProcStat(process.pid)?.startTime);
    // A second owner in another process is refused; here the same pid with another start time would be a reused pid.
    const other = execFileSync(process.execPath, ['-e', `try { new (require(${JSON.stringify(LOCK_MODULE)}).DataDirectoryLock)(${JSON.stringify(dir)}).acquire(); console.log('taken') } catch (e) { console.log(e.code) }`]).toString().trim();
    expect(other).toBe('DATA_DIRECTORY_LOCKED');
    first.release();
    expect(DataDirectoryLockedError).toBeDefined();
  });
});
