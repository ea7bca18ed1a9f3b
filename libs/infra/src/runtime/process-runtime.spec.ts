import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import {
  exitRecordPath,
  InvalidPidError,
  processStartedAt,
  ProcessRuntime,
  RuntimeLaunchError,
  readProcStat,
  readStartTime,
  type RuntimeIdentity,
} from './process-runtime';

jest.setTimeout(30_000);

const runtime = new ProcessRuntime();
const launched: RuntimeIdentity[] = [];
/** Launcher node processes started by the survival tests: pid and start time, killed in afterAll if still there. */
const launchers: Array<{ pid: number; startTime: string | null }> = [];
let dir: string;

async function launch(command: string[], env: Record<string, string> = {}, name = `log-${launched.length}.log`): Promise<RuntimeIdentity> {
  const identity = await runtime.launch({ command, cwd: dir, env, logPath: path.join(dir, 'logs', 'nested', name) });
  launched.push(identity);
  return identity;
}

async function waitFor(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const readLog = (identity: RuntimeIdentity): string => (existsSync(identity.logPath) ? readFileSync(identity.logPath, 'utf8') : '');

beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rl-runtime-')));
});

afterAll(async () => {
  for (const identity of launched) await runtime.stop(identity, { graceMs: 0, killWaitMs: 2_000 });
  for (const launcher of launchers) {
    if (launcher.startTime !== null && readStartTime(launcher.pid) === launcher.startTime) process.kill(launcher.pid, 'SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('readStartTime / readProcStat', () => {
  it('reads field 22 of /proc/<pid>/stat for a live pid and null for a missing one', () => {
    const own = readFileSync('/proc/self/stat', 'utf8');
    const expected = own.slice(own.lastIndexOf(')') + 2).split(' ')[19];
    expect(readStartTime(process.pid)).toBe(expected);
    expect(readProcStat(process.pid)?.state).toMatch(/^[RS]$/);
    expect(readStartTime(2 ** 22 + 1)).toBeNull();
    expect(() => readStartTime(0)).toThrow(InvalidPidError);
    expect(() => readStartTime(-5)).toThrow(InvalidPidError);
  });
});

describe('processStartedAt', () => {
  it('gives a process\'s start never after it really started (and within a second and a tick of it): a lower bound of what it wrote', () => {
    const realStart = Date.now() - process.uptime() * 1000; // this jest process, by its own clock
    const fromProc = Date.parse(processStartedAt(readStartTime(process.pid)!)!);
    expect(fromProc).toBeLessThanOrEqual(realStart + 10); // a tick of slack for the uptime's own rounding
    expect(fromProc).toBeGreaterThan(realStart - 1_100);
    expect(processStartedAt('')).toBeUndefined();
    expect(processStartedAt('x')).toBeUndefined();
  });

  it('stamps a launched process\'s startedAt before its spawn: never after the first thing it writes', async () => {
    const identity = await launch(['sh', '-c', 'date +%s%N > started; sleep 30']);
    await waitFor(() => existsSync(path.join(dir, 'started')) && readFileSync(path.join(dir, 'started'), 'utf8').trim().length > 0);
    const wrote = Number(readFileSync(path.join(dir, 'started'), 'utf8').trim()) / 1e6;
    expect(Date.parse(identity.startedAt)).toBeLessThanOrEqual(wrote);
    await runtime.stop(identity, { graceMs: 1_000 });
  });
});

describe('ProcessRuntime (real processes)', () => {
  it('launches a detached process in its own group, logging to an appended file', async () => {
    const identity = await launch(['sh', '-c', 'echo hi; sleep 30']);
    expect(identity).toMatchObject({ type: 'process', command: ['sh', '-c', 'echo hi; sleep 30'], cwd: dir });
    expect(identity.startTime).toBe(readStartTime(identity.pid));
    expect(identity.pgid).toBe(identity.pid);
    expect(readProcStat(identity.pid)?.session).toBe(identity.pid);
    expect(runtime.isAlive(identity)).toBe(true);
    await waitFor(() => readLog(identity).includes('hi'));

    const result = await runtime.stop(identity, { graceMs: 5_000 });
    expect(result).toEqual({ stopped: true, signal: 'SIGTERM', wasAlive: true });
    expect(runtime.isAlive(identity)).toBe(false);
    // The whole group went down, including the `sleep` child of sh.
    expect(readProcStat(identity.pid) === null || readProcStat(identity.pid)?.state === 'Z').toBe(true);

    // A second stop is a no-op.
    expect(await runtime.stop(identity)).toEqual({ stopped: true, signal: null, wasAlive: false });
  });

  it('appends to an existing log instead of truncating it', async () => {
    const logName = 'append.log';
    const first = await launch(['sh', '-c', 'echo first'], {}, logName);
    await waitFor(() => !runtime.isAlive(first));
    const second = await launch(['sh', '-c', 'echo second'], {}, logName);
    await waitFor(() => !runtime.isAlive(second));
    expect(readLog(second)).toBe('first\nsecond\n');
    await waitFor(() => runtime.exitStatus(second) !== null);
    expect(runtime.exitStatus(second)).toEqual({ code: 0, signal: null });
  });

  it('escalates to SIGKILL after the grace period when the group ignores SIGTERM', async () => {
    const identity = await launch(['sh', '-c', 'trap "" TERM; echo ready; sleep 30']);
    await waitFor(() => readLog(identity).includes('ready'));
    const started = Date.now();
    const result = await runtime.stop(identity, { graceMs: 400 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(result).toEqual({ stopped: true, signal: 'SIGKILL', wasAlive: true });
    expect(runtime.isAlive(identity)).toBe(false);
  });

  it('never treats or signals a reused pid (same pid, other start time) as the agent', async () => {
    const identity = await launch(['sleep', '30']);
    const impostor: RuntimeIdentity = { ...identity, startTime: String(Number(identity.startTime) + 1) };
    expect(runtime.isAlive(impostor)).toBe(false);
    expect(await runtime.stop(impostor, { graceMs: 100 })).toEqual({ stopped: true, signal: null, wasAlive: false });
    expect(runtime.isAlive(identity)).toBe(true);
    await runtime.stop(identity, { graceMs: 2_000 });
  });

  it('reports exit of a child (zombie or reaped) as not alive, with its exit status', async () => {
    const identity = await launch(['sh', '-c', 'exit 3']);
    await waitFor(() => !runtime.isAlive(identity));
    await waitFor(() => runtime.exitStatus(identity) !== null);
    expect(runtime.exitStatus(identity)).toEqual({ code: 3, signal: null });
  });

  it('gives another process the exit status from the record its launcher wrote beside the log (an api launches, a worker watches)', async () => {
    const identity = await launch(['sh', '-c', 'exit 3'], {}, 'elsewhere.log');
    const elsewhere = new ProcessRuntime(); // a second runledger process sharing the data directory
    await waitFor(() => runtime.exitStatus(identity) !== null);
    expect(elsewhere.isAlive(identity)).toBe(false);
    expect(elsewhere.exitStatus(identity)).toEqual({ code: 3, signal: null });
    expect(statSync(exitRecordPath(identity)).mode & 0o777).toBe(0o600);
    // The record of another launch of the same log (a relaunch: other pid or start time) is not this runtime's.
    expect(elsewhere.exitStatus({ ...identity, startTime: String(Number(identity.startTime) + 1) })).toBeUndefined();
  });

  it('throws RuntimeLaunchError for a missing binary, a missing cwd or an empty command', async () => {
    const missing = await runtime
      .launch({ command: ['/nonexistent/agent-binary', '--x'], cwd: dir, env: {}, logPath: path.join(dir, 'x.log') })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RuntimeLaunchError);
    expect((missing as RuntimeLaunchError).code).toBe('ENOENT');
    await expect(
      runtime.launch({ command: ['sh', '-c', 'true'], cwd: path.join(dir, 'no-such-dir'), env: {}, logPath: path.join(dir, 'y.log') }),
    ).rejects.toBeInstanceOf(RuntimeLaunchError);
    await expect(runtime.launch({ command: [], cwd: dir, env: {}, logPath: path.join(dir, 'z.log') })).rejects.toBeInstanceOf(RuntimeLaunchError);
  });

  it('passes env vars over the inherited environment', async () => {
    const identity = await launch(['sh', '-c', 'echo "FOO=$FOO HOME_SET=${HOME:+yes}"'], { FOO: 'bar baz' });
    await waitFor(() => readLog(identity).includes('FOO='));
    await waitFor(() => !runtime.isAlive(identity));
    expect(readLog(identity)).toBe(`FOO=bar baz HOME_SET=${process.env.HOME ? 'yes' : ''}\n`);
  });
});

describe('runtime survives its launcher (invariant 7)', () => {
  let modulePath: string;

  beforeAll(() => {
    // Compile this very module to plain JS so a separate node process can use it as runledger would.
    const source = readFileSync(path.join(__dirname, 'process-runtime.ts'), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    });
    modulePath = path.join(dir, 'process-runtime.js');
    writeFileSync(modulePath, outputText);
  });

  /** Starts a node "runledger" that launches `sleep 30` through ProcessRuntime, prints the identity, then `then`s. */
  function startLauncher(then: 'exit' | 'stay'): Promise<{ launcherPid: number; identity: RuntimeIdentity }> {
    const script = `
      const { ProcessRuntime } = require(${JSON.stringify(modulePath)});
      new ProcessRuntime()
        .launch({ command: ['sleep', '30'], cwd: ${JSON.stringify(dir)}, env: {}, logPath: ${JSON.stringify(path.join(dir, 'survivor.log'))} })
        .then((id) => {
          process.stdout.write(JSON.stringify(id) + '\\n');
          if (${JSON.stringify(then)} === 'exit') process.exit(0);
          setInterval(() => {}, 1000);
        }, (e) => { console.error(e); process.exit(2); });`;
    const launcher = spawn(process.execPath, ['-e', script], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    if (launcher.pid !== undefined) launchers.push({ pid: launcher.pid, startTime: readStartTime(launcher.pid) });
    return new Promise((resolve, reject) => {
      let out = '';
      launcher.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const line = out.split('\n')[0];
        if (out.includes('\n') && line) {
          const identity = JSON.parse(line) as RuntimeIdentity;
          launched.push(identity);
          resolve({ launcherPid: launcher.pid!, identity });
        }
      });
      launcher.on('error', reject);
      launcher.on('exit', (code) => {
        if (!out.includes('\n')) reject(new Error(`launcher exited with ${code} before printing an identity`));
      });
    });
  }

  it('keeps running after the launching process exits', async () => {
    const { launcherPid, identity } = await startLauncher('exit');
    await waitFor(() => readProcStat(launcherPid) === null);
    expect(runtime.isAlive(identity)).toBe(true);
    expect(readProcStat(identity.pid)?.ppid).not.toBe(launcherPid);
    const result = await runtime.stop(identity, { graceMs: 2_000 });
    expect(result).toEqual({ stopped: true, signal: 'SIGTERM', wasAlive: true });
  });

  it('is not reached by a Ctrl-C (SIGINT) sent to the launcher’s process group', async () => {
    const { launcherPid, identity } = await startLauncher('stay');
    expect(identity.pgid).not.toBe(readProcStat(launcherPid)?.pgrp);
    process.kill(-launcherPid, 'SIGINT');
    await waitFor(() => readProcStat(launcherPid) === null || readProcStat(launcherPid)?.state === 'Z');
    expect(runtime.isAlive(identity)).toBe(true);
    const result = await runtime.stop(identity, { graceMs: 2_000 });
    expect(result.stopped).toBe(true);
  });
});
