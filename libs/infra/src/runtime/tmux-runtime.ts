import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { readProcStat, RuntimeIdentity, RuntimeLaunchError, StopOptions, StopResult } from './process-runtime';

/** How many times a dead pane without a known exit status is read again (after a nudge), and the pause between reads (ms). */
const STATUS_READS = 25;
const STATUS_READ_PAUSE_MS = 20;
/** Blocks the thread for `ms` milliseconds (the pane reads are synchronous; at most STATUS_READS × STATUS_READ_PAUSE_MS). */
const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** Longest unix socket path the kernel accepts (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH = 107;

/** The tmux session option that tags a session with the data directory of the installation that launched it. */
export const TMUX_HOME_OPTION = '@runledger-home';

/**
 * Durable identity of an agent running in a tmux session, stored in events and compared on recovery: the session
 * `sessionName` on the server at `socket`, whose pane process is `pid` (a process-group leader) started at `startTime`
 * (field 22 of /proc/<pid>/stat). Output of the pane is appended to `logPath`.
 */
export interface TmuxIdentity extends Omit<RuntimeIdentity, 'type'> {
  type: 'tmux';
  socket: string;
  sessionName: string;
}

/** One pane of the installation's tmux server as `list-panes` reports it; `dead` once its process ended (remain-on-exit). */
export interface TmuxPane {
  sessionName: string;
  pid: number;
  dead: boolean;
  exitCode: number | null;
  signal: number | null;
  home: string;
}

/** What to launch in a new tmux session: argv (no shell), absolute cwd, env set in the pane, absolute log path. */
export interface TmuxLaunchSpec {
  sessionName: string;
  command: string[];
  cwd: string;
  env?: Record<string, string>;
  logPath: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A tmux session name for a runledger session id: tmux turns `.` and `:` into `_`, so they are replaced up front. */
export const tmuxSessionName = (sessionId: string): string => `rl-${sessionId.replace(/[.:]/g, '_')}`;

const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * Agent runtime in tmux (docs/ARCHITECTURE.md §4a): one tmux session per runledger session on this installation's own server
 * (`socket`, under the data directory), tagged with `@runledger-home`, so only this installation's sessions are ever
 * adopted. The tmux server is a daemon of its own: stopping or killing runledger never ends it (invariant 7); a reboot
 * (or `tmux kill-server`) does, which makes the runtime dead. The pane keeps its process after exit (remain-on-exit)
 * until runledger ends the session, so the exit status can be read.
 */
export class TmuxRuntime {
  constructor(readonly socket: string, private readonly home: string, private readonly bin = process.env.RUNLEDGER_TMUX_BIN || 'tmux') {}

  /**
   * Starts `command` in a new detached tmux session: the pane first waits on a line of input, so that its output is
   * piped to `logPath` (appended) before the agent prints anything, then execs the command (same pid). A dead session
   * of the same name (an ended agent) is ended first. Throws RuntimeLaunchError (tmux missing, bad cwd, name in use).
   */
  async launch(spec: TmuxLaunchSpec): Promise<TmuxIdentity> {
    const { command, cwd, logPath, sessionName } = spec;
    const fail = (reason: string, code?: string): RuntimeLaunchError => new RuntimeLaunchError(command ?? [], String(cwd), reason, code);
    if (!Array.isArray(command) || command.length === 0 || command.some((arg) => typeof arg !== 'string') || command[0] === '') {
      throw fail('command must be a non-empty array of strings');
    }
    if (!path.isAbsolute(cwd)) throw fail('cwd must be an absolute path');
    try {
      if (!statSync(cwd).isDirectory()) throw fail('cwd is not a directory', 'ENOTDIR');
    } catch (error) {
      if (error instanceof RuntimeLaunchError) throw error;
      throw fail(`cwd is not accessible: ${(error as Error).message}`, (error as NodeJS.ErrnoException).code);
    }
    if (this.socket.length > MAX_SOCKET_PATH) throw fail(`tmux socket path ${this.socket} is longer than ${MAX_SOCKET_PATH} characters (set RUNLEDGER_TMUX_SOCKET)`);
    mkdirSync(path.dirname(this.socket), { recursive: true });
    mkdirSync(path.dirname(logPath), { recursive: true });

    const existing = this.panes().find((p) => p.sessionName === sessionName);
    if (existing && !existing.dead) throw fail(`tmux session ${sessionName} is already running`, 'EEXIST');
    if (existing) await this.tmux(['kill-session', '-t', `=${sessionName}`]).catch(() => undefined);

    const envArgs = Object.entries(spec.env ?? {}).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
    const target = `=${sessionName}:`;
    const startedAt = new Date().toISOString(); // before the pane's command runs: never later than anything the agent writes
    try {
      await this.tmux([
        'new-session', '-d', '-s', sessionName, '-x', '200', '-y', '50', '-c', cwd, ...envArgs,
        'sh', '-c', 'read -r _ ; exec "$@"', 'runledger-agent', ...command,
      ]);
      await this.tmux(['set-option', '-w', '-t', target, 'remain-on-exit', 'on']);
      await this.tmux(['set-option', '-t', target, TMUX_HOME_OPTION, this.home]);
      await this.tmux(['pipe-pane', '-o', '-t', target, `cat >> ${quote(logPath)}`]);
      await this.tmux(['send-keys', '-t', target, 'Enter']);
    } catch (error) {
      await this.tmux(['kill-session', '-t', `=${sessionName}`]).catch(() => undefined);
      throw fail((error as Error).message, (error as NodeJS.ErrnoException).code);
    }
    const pane = this.panes().find((p) => p.sessionName === sessionName);
    const stat = pane ? readProcStat(pane.pid) : null;
    if (!pane || !stat) throw fail(`tmux session ${sessionName} ended before its pane could be read`);
    return {
      type: 'tmux', socket: this.socket, sessionName, pid: pane.pid, pgid: stat.pgrp, startTime: stat.startTime,
      command: [...command], cwd, logPath, startedAt,
    };
  }

  /** Every pane of the installation's tmux server; `[]` when no server runs (never started, killed, or lost to a reboot). */
  panes(): TmuxPane[] {
    let out: string;
    try {
      out = execFileSync(this.bin, ['-S', this.socket, 'list-panes', '-a', '-F', '#{session_name}\t#{pane_pid}\t#{pane_dead}\t#{pane_dead_status}\t#{pane_dead_signal}\t#{@runledger-home}'], {
        encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000, env: this.env(),
      });
    } catch {
      return [];
    }
    return out.split('\n').filter(Boolean).map((line) => {
      const [sessionName, pid, dead, status, signal, home] = line.split('\t');
      return {
        sessionName: sessionName ?? '', pid: Number(pid), dead: dead === '1',
        exitCode: status ? Number(status) : null, signal: signal ? Number(signal) : null, home: home ?? '',
      };
    });
  }

  /** The live pane of `sessionName` tagged with this installation's home, or null; `panes` from one earlier `panes()` saves a tmux call. */
  findLive(sessionName: string, panes: TmuxPane[] = this.panes()): TmuxPane | null {
    return panes.find((p) => p.sessionName === sessionName && !p.dead && p.home === this.home) ?? null;
  }

  /** True only if the session exists on this socket, carries this installation's tag, and its pane is the same live process (pid and start time). */
  isAlive(identity: TmuxIdentity, panes?: TmuxPane[]): boolean {
    if (identity.socket !== this.socket) return false;
    const pane = this.findLive(identity.sessionName, panes);
    if (!pane || pane.pid !== identity.pid) return false;
    return readProcStat(pane.pid)?.startTime === identity.startTime;
  }

  /** Exit status of the pane's process once it ended (remain-on-exit keeps it); null while it runs; undefined when the session is gone. */
  exitStatus(identity: TmuxIdentity): { code: number | null; signal: number | null } | null | undefined {
    const find = () => this.panes().find((p) => p.sessionName === identity.sessionName && p.home === this.home);
    let pane = find();
    if (!pane || pane.pid !== identity.pid) return undefined;
    // tmux marks a pane dead when its pty closes, which can come before it reaps the process (and so before it knows the
    // exit status); a missed SIGCHLD left the status unknown for seconds. Nudge the server to reap, then read again.
    for (let attempt = 0; pane?.dead && pane.exitCode === null && pane.signal === null && attempt < STATUS_READS; attempt++) {
      this.nudgeReaper();
      sleepSync(STATUS_READ_PAUSE_MS);
      pane = find();
    }
    if (!pane || pane.pid !== identity.pid) return undefined;
    return pane.dead ? { code: pane.exitCode, signal: pane.signal } : null;
  }

  /** Sends SIGCHLD to the installation's tmux server so that it reaps (waitpid) any pane process that ended; no-op without a server. */
  private nudgeReaper(): void {
    try {
      const pid = Number(execFileSync(this.bin, ['-S', this.socket, 'display-message', '-p', '#{pid}'], {
        encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000, env: this.env(),
      }).trim());
      if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGCHLD');
    } catch {
      // no server (nothing to reap) or it ended meanwhile: the next read says so
    }
  }

  /**
   * Stops a runtime: SIGTERM to the pane's process group, waits up to graceMs for it to end, then ends the tmux
   * session (tmux sends SIGHUP to what is left). Signals nothing unless the identity matches the live pane.
   */
  async stop(identity: TmuxIdentity, options: StopOptions = {}): Promise<StopResult> {
    const graceMs = options.graceMs ?? 10_000;
    const pollMs = Math.max(1, options.pollMs ?? 50);
    const wasAlive = this.isAlive(identity);
    let signal: StopResult['signal'] = null;
    if (wasAlive) {
      try {
        process.kill(-identity.pgid, 'SIGTERM');
        signal = 'SIGTERM';
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
      const deadline = Date.now() + graceMs;
      while (this.isAlive(identity) && Date.now() < deadline) await sleep(pollMs);
    }
    const owned = this.panes().find((p) => p.sessionName === identity.sessionName && p.home === this.home && p.pid === identity.pid);
    if (owned) await this.tmux(['kill-session', '-t', `=${identity.sessionName}`]).catch(() => undefined);
    return { stopped: !this.isAlive(identity), signal, wasAlive };
  }

  /** Pastes `text` into the pane as one bracketed paste (newlines kept), then presses Enter if `enter`. Throws when tmux refuses. */
  async type(identity: TmuxIdentity, text: string, enter = true): Promise<void> {
    const buffer = `rl-${process.pid}-${Date.now()}`;
    await this.tmux(['load-buffer', '-b', buffer, '-'], text);
    await this.tmux(['paste-buffer', '-p', '-d', '-b', buffer, '-t', `=${identity.sessionName}:`]);
    if (enter) await this.tmux(['send-keys', '-t', `=${identity.sessionName}:`, 'Enter']);
  }

  /** The pane's visible screen as text (`capture-pane -p`); throws when the session is gone. */
  async capture(sessionName: string): Promise<string> {
    return this.tmux(['capture-pane', '-p', '-t', `=${sessionName}:`]);
  }

  /** argv that attaches a terminal to the session (`tmux -S <socket> attach-session -t =<name>`). */
  attachArgv(sessionName: string): string[] {
    return [this.bin, '-S', this.socket, 'attach-session', '-t', `=${sessionName}`];
  }

  private env(): NodeJS.ProcessEnv {
    const { TMUX: _tmux, TMUX_PANE: _pane, ...env } = process.env;
    return env;
  }

  private tmux(args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(this.bin, ['-S', this.socket, ...args], { encoding: 'utf8', timeout: 10_000, env: this.env() }, (error, stdout, stderr) => {
        if (error) {
          const reason = `tmux ${args[0]} failed: ${(stderr || error.message).trim()}`;
          reject(Object.assign(new Error(reason), { code: (error as NodeJS.ErrnoException).code }));
        } else resolve(stdout);
      });
      if (input !== undefined) child.stdin?.end(input);
    });
  }
}
