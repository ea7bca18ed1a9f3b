import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** Base class of every error thrown by the process runtime adapter. */
export class ProcessRuntimeError extends Error {
  override name = 'ProcessRuntimeError';
}

/** The agent command could not be started (bad spec, missing cwd, ENOENT/EACCES from spawn); `code` is the errno code when known. */
export class RuntimeLaunchError extends ProcessRuntimeError {
  override name = 'RuntimeLaunchError';
  constructor(readonly command: readonly string[], readonly cwd: string, readonly reason: string, readonly code?: string) {
    super(`cannot launch ${JSON.stringify(command)} in ${cwd}: ${reason}`);
  }
}

/** Sending a signal failed for a reason other than "process already gone" (e.g. EPERM). */
export class RuntimeSignalError extends ProcessRuntimeError {
  override name = 'RuntimeSignalError';
  constructor(readonly pid: number, readonly signal: NodeJS.Signals, readonly code: string | undefined) {
    super(`cannot send ${signal} to ${pid}: ${code ?? 'unknown error'}`);
  }
}

/** A pid argument was not a positive safe integer. */
export class InvalidPidError extends ProcessRuntimeError {
  override name = 'InvalidPidError';
  constructor(readonly pid: unknown) {
    super(`invalid pid ${String(pid)}`);
  }
}

/** /proc is not mounted (non-Linux host): process identity (pid + start time) cannot be verified. */
export class ProcFsUnavailableError extends ProcessRuntimeError {
  override name = 'ProcFsUnavailableError';
  constructor() {
    super('/proc is not available: the process runtime needs Linux procfs to verify process identity');
  }
}

/**
 * Durable identity of a launched agent process, stored in events and compared on recovery.
 * `startTime` is field 22 of /proc/<pid>/stat (clock ticks since boot, as a string), so a reused pid never matches;
 * `pgid` equals `pid` (the process leads its own group and session); `startedAt` is the ISO wall-clock time taken just
 * before the launch (never later than anything the process wrote).
 */
export interface RuntimeIdentity {
  type: 'process';
  pid: number;
  pgid: number;
  startTime: string;
  command: string[];
  cwd: string;
  logPath: string;
  startedAt: string;
}

/** What to launch: argv (no shell), absolute cwd, env merged over process.env, absolute log path (stdout+stderr, appended). */
export interface LaunchSpec {
  command: string[];
  cwd: string;
  env?: Record<string, string>;
  logPath: string;
}

/** Stop tuning in ms: SIGTERM grace before SIGKILL (default 10000), poll interval (50), wait after SIGKILL (5000). */
export interface StopOptions {
  graceMs?: number;
  pollMs?: number;
  killWaitMs?: number;
}

/** Outcome of stop: `stopped` = nothing of the runtime runs any more; `signal` = strongest signal sent (null: none); `wasAlive` = identity matched a live process. */
export interface StopResult {
  stopped: boolean;
  signal: 'SIGTERM' | 'SIGKILL' | null;
  wasAlive: boolean;
}

/** Exit status observed for a child this process launched: exit code or terminating signal. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Fields of /proc/<pid>/stat used here: state (field 3, e.g. R/S/Z), ppid (4), pgrp (5), session (6), starttime (22, clock ticks). */
export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  startTime: string;
}

function assertPid(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new InvalidPidError(pid);
}

/** Linux's USER_HZ: /proc start times are in hundredths of a second on every architecture Node.js runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * The wall-clock time (ISO) a process with /proc start time `startTime` (clock ticks since boot) started, never later
 * than the real one (boot time from /proc/stat's whole-second `btime`, ticks rounded down): a lower bound of anything the
 * process wrote. Undefined when /proc/stat cannot be read or `startTime` is not a number.
 */
export function processStartedAt(startTime: string): string | undefined {
  const ticks = Number(startTime);
  if (!startTime || !Number.isFinite(ticks)) return undefined;
  let btime: number;
  try {
    btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
  return Number.isFinite(btime) && btime > 0 ? new Date(btime * 1000 + Math.floor(ticks / CLOCK_TICKS_PER_SECOND * 1000)).toISOString() : undefined;
}

/** Reads /proc/<pid>/stat; null when no such process. Throws InvalidPidError, ProcFsUnavailableError. */
export function readProcStat(pid: number): ProcStat | null {
  assertPid(pid);
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') {
      if (!existsSync('/proc/self/stat')) throw new ProcFsUnavailableError();
      return null;
    }
    throw error;
  }
  // comm (field 2) is parenthesised and may itself contain spaces or ')': split after the last ')'.
  const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    session: Number(rest[3]),
    startTime: rest[19] ?? '',
  };
}

/** Start time of `pid` from /proc/<pid>/stat field 22 (clock ticks since boot, as a string); null when no such process. */
export function readStartTime(pid: number): string | null {
  return readProcStat(pid)?.startTime ?? null;
}

function isRunningState(state: string): boolean {
  // Z: zombie (exited, not yet reaped), X/x: dead.
  return state !== 'Z' && state !== 'X' && state !== 'x';
}

/** Live (non-zombie) processes whose process group is `pgid`. */
function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat && stat.pgrp === pgid && isRunningState(stat.state)) members.push(stat.pid);
  }
  return members;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Why a launch spec cannot be launched (a non-empty argv of strings, absolute cwd and log path), or null when it can. */
const launchSpecProblem = ({ command, cwd, logPath }: LaunchSpec): string | null => {
  if (!Array.isArray(command) || command.length === 0 || command.some((arg) => typeof arg !== 'string') || command[0] === '') {
    return 'command must be a non-empty array of strings';
  }
  if (typeof cwd !== 'string' || !path.isAbsolute(cwd)) return 'cwd must be an absolute path';
  if (typeof logPath !== 'string' || !path.isAbsolute(logPath)) return 'logPath must be an absolute path';
  return null;
};

/**
 * What `spawn` is called with for a spec: argv without a shell, the spec's env merged over `baseEnv`, detached (own
 * process group and session, so runledger's exit never kills it), stdout and stderr to the log descriptor `fd`.
 */
const spawnArguments = (spec: LaunchSpec, fd: number, baseEnv: NodeJS.ProcessEnv): { file: string; args: string[]; options: SpawnOptions } => ({
  file: spec.command[0]!,
  args: spec.command.slice(1),
  options: { cwd: spec.cwd, env: { ...baseEnv, ...(spec.env ?? {}) }, detached: true, stdio: ['ignore', fd, fd] },
});

/** The durable identity of a launched process: pgid is its pid (it leads its group), startTime from /proc. */
/**
 * Where the launcher keeps a runtime's exit status once it reaped it: `<logPath>.exit`, JSON `{pid, startTime, code,
 * signal}`, overwritten by the next launch of the same session (its own pid and start time). Another process sharing
 * the data directory (a worker beside the api that launched the agent) reads it: only the parent can reap a child and
 * learn its exit code.
 */
export const exitRecordPath = (identity: Pick<RuntimeIdentity, 'logPath'>): string => `${identity.logPath}.exit`;

/** Writes the exit record of `identity` (mode 0600); a failure is a process warning, and the status stays in this process's memory. */
const writeExitRecord = (identity: RuntimeIdentity, exit: ExitStatus): void => {
  try {
    writeFileSync(exitRecordPath(identity), JSON.stringify({ pid: identity.pid, startTime: identity.startTime, ...exit }), { mode: 0o600 });
  } catch (error) {
    process.emitWarning(`cannot write the exit record of ${identity.pid} to ${exitRecordPath(identity)}: ${(error as Error).message}`);
  }
};

/** The exit record of `identity` (same pid and start time), or null when there is none (or it is another launch's). */
const readExitRecord = (identity: RuntimeIdentity): ExitStatus | null => {
  if (!identity.logPath) return null;
  let record: { pid?: unknown; startTime?: unknown; code?: unknown; signal?: unknown };
  try {
    record = JSON.parse(readFileSync(exitRecordPath(identity), 'utf8'));
  } catch {
    return null; // no record (not reaped yet, or launched before exit records existed)
  }
  if (record.pid !== identity.pid || record.startTime !== identity.startTime) return null;
  return { code: typeof record.code === 'number' ? record.code : null, signal: typeof record.signal === 'string' ? (record.signal as NodeJS.Signals) : null };
};

const launchedIdentity = (spec: LaunchSpec, pid: number, stat: ProcStat, startedAt: string): RuntimeIdentity => ({
  type: 'process',
  pid,
  pgid: stat.pgrp,
  startTime: stat.startTime,
  command: [...spec.command],
  cwd: spec.cwd,
  logPath: spec.logPath,
  startedAt,
});

type LaunchFailure = (reason: string, code?: string) => RuntimeLaunchError;

/** Throws through `fail` unless `cwd` is an accessible directory. */
const assertDirectory = (cwd: string, fail: LaunchFailure): void => {
  try {
    if (!statSync(cwd).isDirectory()) throw fail('cwd is not a directory', 'ENOTDIR');
  } catch (error) {
    if (error instanceof RuntimeLaunchError) throw error;
    throw fail(`cwd is not accessible: ${(error as Error).message}`, (error as NodeJS.ErrnoException).code);
  }
};

/** Opens the runtime's log for appending (owner-only, parent dirs created); the descriptor, or a throw through `fail`. */
const openLog = (logPath: string, fail: LaunchFailure): number => {
  try {
    mkdirSync(path.dirname(logPath), { recursive: true });
    return openSync(logPath, 'a', 0o600);
  } catch (error) {
    throw fail(`cannot open log ${logPath}: ${(error as Error).message}`, (error as NodeJS.ErrnoException).code);
  }
};

/** Resolves when the child has started; rejects through `fail` when spawning it failed (ENOENT, EACCES). */
const spawned = (child: ChildProcess, fail: LaunchFailure): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    const onSpawn = (): void => {
      child.off('error', onError);
      resolve();
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      child.off('spawn', onSpawn);
      reject(fail(error.message, error.code));
    };
    child.once('spawn', onSpawn);
    child.once('error', onError);
  });

/**
 * Agent runtime as a plain child process that outlives runledger (invariant 7): launched detached in its own
 * process group and session, stdio to an append-only log file, unref'd, so exiting or restarting runledger never
 * kills it and recovery can adopt it by (pid, start time). Linux only (needs /proc).
 */
export class ProcessRuntime {
  /** Children launched by this process, keyed by pid: their start time and exit status once 'exit' fired. */
  private readonly children = new Map<number, { startTime: string; exit: ExitStatus | null }>();

  /**
   * Spawns `command` detached (own process group), stdout+stderr appended to `logPath` (parent dirs created),
   * env merged over process.env, and unrefs it. Resolves once the process has started; the identity's startTime is
   * read from /proc. Throws RuntimeLaunchError (e.g. ENOENT for a missing binary or cwd).
   */
  async launch(spec: LaunchSpec): Promise<RuntimeIdentity> {
    const fail = (reason: string, code?: string): RuntimeLaunchError =>
      new RuntimeLaunchError(Array.isArray(spec.command) ? spec.command : [], String(spec.cwd), reason, code);
    const problem = launchSpecProblem(spec);
    if (problem) throw fail(problem);
    assertDirectory(spec.cwd, fail);
    if (!existsSync('/proc/self/stat')) throw new ProcFsUnavailableError();

    const fd = openLog(spec.logPath, fail);
    const startedAt = new Date().toISOString(); // before the spawn: never later than anything the process writes
    let child: ChildProcess;
    try {
      const { file, args, options } = spawnArguments(spec, fd, process.env);
      child = spawn(file, args, options);
    } catch (error) {
      throw fail((error as Error).message, (error as NodeJS.ErrnoException).code);
    } finally {
      // The child holds its own duplicate of the descriptor once spawn() returned.
      closeSync(fd);
    }

    // Read the start time synchronously, before yielding to the event loop: the child cannot have been reaped yet
    // (only we can reap it, and that happens on the loop), so /proc/<pid>/stat exists even if it already exited.
    const stat = child.pid !== undefined ? readProcStat(child.pid) : null;
    await spawned(child, fail);
    // Later errors (e.g. a failed kill through the handle) must not crash the process.
    child.on('error', () => undefined);

    if (child.pid === undefined || !stat) throw fail('process vanished before its identity could be read');
    const record = { startTime: stat.startTime, exit: null as ExitStatus | null };
    this.children.set(child.pid, record);
    child.once('exit', (code, signal) => {
      record.exit = { code, signal };
      writeExitRecord(launchedIdentity(spec, child.pid!, stat, startedAt), record.exit);
    });
    child.unref();
    return launchedIdentity(spec, child.pid, stat, startedAt);
  }

  /** True only if /proc/<pid> exists, its start time equals identity.startTime and it is not a zombie. */
  isAlive(identity: RuntimeIdentity): boolean {
    const own = this.children.get(identity.pid);
    if (own && own.startTime === identity.startTime && own.exit) return false;
    const stat = readProcStat(identity.pid);
    return stat !== null && stat.startTime === identity.startTime && isRunningState(stat.state);
  }

  /**
   * Exit status of a runtime: of a child this process launched, once Node reaped it (null before that: running or
   * zombie); of one another runledger process launched (an api beside this worker), from the exit record its launcher
   * wrote beside the log when it reaped it (null while it is a zombie its launcher has yet to reap); undefined when
   * neither is known (not a child of runledger, or its launcher gone before reaping it).
   */
  exitStatus(identity: RuntimeIdentity): ExitStatus | null | undefined {
    const own = this.children.get(identity.pid);
    if (own && own.startTime === identity.startTime) return own.exit;
    const recorded = readExitRecord(identity);
    if (recorded) return recorded;
    const stat = readProcStat(identity.pid);
    if (stat?.startTime === identity.startTime && stat.state === 'Z' && stat.ppid !== 1) return null; // its launcher reaps it next
    // Reaped between the record read and /proc's: the record is written in the same callback as the reaping.
    return readExitRecord(identity) ?? undefined;
  }

  /**
   * Stops a runtime: SIGTERM to its process group, poll until the group is gone for up to graceMs, then SIGKILL to
   * the group. Never signals anything unless the identity's (pid, start time) matches a live process when stop begins;
   * group members left after the leader died are signalled only while they still exist (their pgid cannot be reused).
   */
  async stop(identity: RuntimeIdentity, options: StopOptions = {}): Promise<StopResult> {
    const graceMs = options.graceMs ?? 10_000;
    const pollMs = Math.max(1, options.pollMs ?? 50);
    const killWaitMs = options.killWaitMs ?? 5_000;

    const stat = readProcStat(identity.pid);
    if (!stat || stat.startTime !== identity.startTime || !isRunningState(stat.state) || !this.isAlive(identity)) {
      return { stopped: true, signal: null, wasAlive: false };
    }
    const pid = identity.pid;
    const leadsGroup = stat.pgrp === pid;

    const anythingAlive = (): boolean => this.isAlive(identity) || (leadsGroup && liveGroupMembers(pid).length > 0);
    const waitGone = async (ms: number): Promise<boolean> => {
      const deadline = Date.now() + ms;
      for (;;) {
        if (!anythingAlive()) return true;
        if (Date.now() >= deadline) return false;
        await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
      }
    };

    this.signal(pid, leadsGroup, 'SIGTERM');
    if (await waitGone(graceMs)) return { stopped: true, signal: 'SIGTERM', wasAlive: true };

    // Re-verify right before escalating: the leader must still be ours, or (leader gone) group members must remain.
    if (this.isAlive(identity) || (leadsGroup && liveGroupMembers(pid).length > 0)) this.signal(pid, leadsGroup, 'SIGKILL');
    const stopped = await waitGone(killWaitMs);
    return { stopped, signal: 'SIGKILL', wasAlive: true };
  }

  private signal(pid: number, group: boolean, signal: NodeJS.Signals): void {
    try {
      process.kill(group ? -pid : pid, signal);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') return; // already gone
      throw new RuntimeSignalError(pid, signal, code);
    }
  }
}
