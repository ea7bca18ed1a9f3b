import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ProjectHookSettings, RuntimeType, SessionRuntime } from '@runledger/domain';
import { ApiToken } from '@runledger/infra/auth/api-token';
import { issueSessionCredential } from '@runledger/infra/auth/session-credential';
import { RunledgerConfig } from '@runledger/infra/config';
import {
  AGENT_MARKER, executablePath, findProcessesByEnv, listAgentProcesses, ProcessRuntime, readStartTime, RuntimeIdentity, RuntimeLaunchError, TmuxIdentity, TmuxPane, TmuxRuntime,
  tmuxSessionName,
} from '@runledger/infra/runtime';
import { API_TOKEN, RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { claudeHookSettings, CREDENTIAL_ENV, hookRunner } from '../../agents/claude-code/hook-settings';
import { sessionLogPath } from '../worktree-layout';
import { ServerAddress } from './server-address';

/** What an agent launch needs to know about the session. */
export interface AgentLaunchRequest {
  sessionId: string;
  agent: 'command' | 'claude-code' | 'external';
  command?: string[];
  prompt?: string;
  workdir: string;
  env?: Record<string, string>;
  /** Where it runs (default process). */
  runtime?: RuntimeType;
  /**
   * Continue the agent's own conversation instead of starting it (docs/ARCHITECTURE.md §4): Claude Code runs
   * `claude --resume <agentSessionId> -p <prompt>`; the original prompt is never sent again.
   */
  resume?: { agentSessionId: string; prompt: string };
  /** The project's hook settings (hold, failure mode, transport); defaults when absent. */
  hooks?: ProjectHookSettings;
}

/** Env entry that marks an agent in a tmux pane (so the /proc scan for unrecorded process agents never mistakes it for one). */
export const TMUX_AGENT_MARKER = 'RUNLEDGER_RUNTIME=tmux';

/** How long an interactive Claude Code may take to show its input prompt before the typed prompt is given up (ms). */
export const CLAUDE_READY_TIMEOUT_MS = 30_000;

/** The input prompt of interactive Claude Code (2.1.x): a line starting with `❯`. */
const CLAUDE_INPUT_READY = /^❯/m;

/** The prompt a natively resumed agent gets when nobody gave a new one. */
export const CONTINUATION_PROMPT =
  'runledger restarted while you were working. Continue the task from where you left off; do not redo steps that already completed.';

/** Env entry naming the data directory of the runledger that launched an agent: session ids repeat across installations. */
export const AGENT_HOME = 'RUNLEDGER_AGENT_HOME';

/** Header that carries the runledger session id in Claude Code's generated hook settings. */
export const SESSION_HEADER = 'x-runledger-session';

/**
 * The runtime port: launches agent runtimes as detached process groups or in tmux sessions (both outlive runledger:
 * invariant 7), output to `<dataDir>/logs/<sessionId>.log`, with RUNLEDGER_URL, RUNLEDGER_SESSION_ID and
 * RUNLEDGER_TOKEN in their env, that token being the session's own credential, never the admin token (invariant 16);
 * tells whether a recorded runtime is alive, and stops it, whatever its type.
 * Agents: `command` (the argv of the request) and `claude-code` (`claude -p <prompt>` in a process; interactive
 * `claude` in tmux, its workspace trust accepted and the prompt typed into the pane; hooks posting to runledger).
 */
@Injectable()
export class AgentLauncher {
  constructor(
    private readonly runtime: ProcessRuntime,
    private readonly tmux: TmuxRuntime,
    private readonly address: ServerAddress,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
    @Inject(API_TOKEN) private readonly token: ApiToken,
  ) {}

  /** Starts the agent; throws RuntimeLaunchError (spawn failed) or DomainError SESSION.NOT_LAUNCHABLE (external sessions). */
  async launch(request: AgentLaunchRequest): Promise<SessionRuntime> {
    const type = request.runtime ?? 'process';
    const argv = this.argv(request, type);
    const logPath = sessionLogPath(this.config.dataDir, request.sessionId);
    const env: Record<string, string> = {
      ...(request.env ?? {}),
      RUNLEDGER_URL: this.address.url,
      RUNLEDGER_SESSION_ID: request.sessionId,
      [CREDENTIAL_ENV]: this.credential(request.sessionId),
      [AGENT_HOME]: this.config.dataDir,
    };
    if (type === 'tmux') {
      const [name, value] = TMUX_AGENT_MARKER.split('=');
      const identity = await this.tmux.launch({ sessionName: tmuxSessionName(request.sessionId), command: argv, cwd: request.workdir, logPath, env: { ...env, [name!]: value! } });
      if (request.agent === 'claude-code' && request.prompt) {
        try {
          await this.typeWhenReady(identity, request.prompt);
        } catch (error) {
          await this.tmux.stop(identity, { graceMs: this.config.killGraceMs });
          throw error;
        }
      }
      return identity as unknown as SessionRuntime;
    }
    const [name, value] = AGENT_MARKER.split('=');
    const identity = await this.runtime.launch({ command: argv, cwd: request.workdir, logPath, env: { ...env, [name!]: value! } });
    // The full identity (pgid, cwd, startedAt too) is kept in the event so a later process can stop or adopt it.
    return identity as unknown as SessionRuntime;
  }

  /** The executable an agent would run (argv[0]) and whether it can be found (a path that exists, or a name on PATH). */
  executable(agent: string, command: string[] | undefined): { name: string; found: boolean } {
    const name = agent === 'claude-code' ? claudeBin() : (command?.[0] ?? '');
    return { name, found: name !== '' && executablePath(name) !== undefined };
  }

  /** Types `text` into a tmux runtime's pane (e.g. an orchestrator's retire notice); throws when the pane is gone. */
  async type(runtime: SessionRuntime | undefined, text: string): Promise<void> {
    if (runtime?.type !== 'tmux' || !this.isAlive(runtime)) throw new Error('no live tmux pane to type into');
    await this.tmux.type(runtime as unknown as TmuxIdentity, text);
  }

  /** argv that attaches a person's terminal to a tmux runtime; null for another runtime. */
  attachArgv(runtime: SessionRuntime | undefined): string[] | null {
    return runtime?.type === 'tmux' ? this.tmux.attachArgv(runtime.sessionName) : null;
  }

  /** Waits for interactive Claude Code's input prompt, then types `prompt` and Enter; throws RuntimeLaunchError if it never shows. */
  private async typeWhenReady(identity: TmuxIdentity, prompt: string): Promise<void> {
    const deadline = Date.now() + CLAUDE_READY_TIMEOUT_MS;
    for (;;) {
      const screen = await this.tmux.capture(identity.sessionName).catch(() => '');
      if (CLAUDE_INPUT_READY.test(screen)) break;
      if (!this.tmux.isAlive(identity) || Date.now() > deadline) {
        throw new RuntimeLaunchError(identity.command, identity.cwd, `Claude Code did not show its input prompt within ${CLAUDE_READY_TIMEOUT_MS} ms; screen:\n${screen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.tmux.type(identity, prompt);
  }

  /**
   * A live agent of `sessionId`, launched by this installation (same data directory), that the log does not know (launched, then runledger died before recording it):
   * its tmux session, or a process found by its environment (the newest if several). Null when there is none.
   */
  findUnrecorded(sessionId: string, recorded?: SessionRuntime, agents?: Map<string, RuntimeIdentity[]>, panes?: TmuxPane[]): SessionRuntime | null {
    const tmux = this.findUnrecordedTmux(sessionId, recorded, panes);
    if (tmux) return tmux;
    const candidates = agents ? (agents.get(sessionId) ?? []) : findProcessesByEnv([`RUNLEDGER_SESSION_ID=${sessionId}`, AGENT_MARKER, this.homeEntry()]);
    const found = candidates
      .filter((p) => !(recorded?.type === 'process' && recorded.pid === p.pid && recorded.startTime === p.startTime))
      .sort((a, b) => Number(BigInt(b.startTime) - BigInt(a.startTime)));
    if (found.length === 0) return null;
    return { ...found[0], logPath: sessionLogPath(this.config.dataDir, sessionId), startedAt: new Date().toISOString() } as unknown as SessionRuntime;
  }

  /** Every live agent process by session id, from one scan of /proc (for a reconcile of many sessions). */
  agentProcesses(): Map<string, RuntimeIdentity[]> {
    return listAgentProcesses([this.homeEntry()]);
  }

  /** Every pane of the installation's tmux server, from one `tmux list-panes` (for a reconcile of many sessions). */
  tmuxPanes(): TmuxPane[] {
    return this.tmux.panes();
  }

  /** The credential of `sessionId`'s agent: authorizes only that session's hook and tool-call routes (invariant 16). */
  credential(sessionId: string): string {
    return issueSessionCredential(this.token.token, sessionId);
  }

  private homeEntry(): string {
    return `${AGENT_HOME}=${this.config.dataDir}`;
  }

  /**
   * A live tmux session of `sessionId` on this installation's server (tagged with its home) that the log does not
   * know (launched, then runledger died before recording it); null when there is none.
   */
  findUnrecordedTmux(sessionId: string, recorded?: SessionRuntime, panes?: TmuxPane[]): SessionRuntime | null {
    const sessionName = tmuxSessionName(sessionId);
    const pane = this.tmux.findLive(sessionName, panes);
    if (!pane || (recorded?.type === 'tmux' && recorded.pid === pane.pid)) return null;
    const startTime = readStartTime(pane.pid);
    if (startTime === null) return null;
    const identity: TmuxIdentity = {
      type: 'tmux', socket: this.tmux.socket, sessionName, pid: pane.pid, pgid: pane.pid, startTime, command: [], cwd: '',
      logPath: sessionLogPath(this.config.dataDir, sessionId), startedAt: new Date().toISOString(),
    };
    return identity as unknown as SessionRuntime;
  }

  /**
   * True when the recorded runtime is alive: the same process (pid and start time, not a reused pid), or the same
   * tmux session of this installation with the same live pane process. A tmux server that is gone is a dead runtime.
   * `panes` from one earlier tmuxPanes() scan saves a tmux call per session (the pane's process is still checked now).
   */
  isAlive(runtime: SessionRuntime | undefined, panes?: TmuxPane[]): boolean {
    if (runtime?.type === 'process') return this.runtime.isAlive(runtime as unknown as RuntimeIdentity);
    if (runtime?.type === 'tmux') return this.tmux.isAlive(runtime as unknown as TmuxIdentity, panes);
    return false;
  }

  /**
   * Exit code/signal of an ended runtime: a process this runledger launched, once Node reaped it; a tmux pane (launched
   * or adopted) once its process ended, read from the dead pane tmux keeps (remain-on-exit). Null while it runs or is not
   * reaped yet; undefined when it cannot be known (a process launched by another runledger, a tmux session that is gone).
   */
  exitStatus(runtime: SessionRuntime | undefined): { code: number | null; signal: string | null } | null | undefined {
    if (runtime?.type === 'process') return this.runtime.exitStatus(runtime as unknown as RuntimeIdentity);
    if (runtime?.type !== 'tmux') return undefined;
    const status = this.tmux.exitStatus(runtime as unknown as TmuxIdentity);
    return status ? { code: status.code, signal: status.signal === null ? null : signalName(status.signal) } : status;
  }

  /**
   * Stops a runtime: SIGTERM to its process group, then SIGKILL (process) or the end of its tmux session (tmux) after
   * the grace period; a tmux session whose agent already ended is ended too. False when nothing was running.
   */
  async stop(runtime: SessionRuntime | undefined): Promise<boolean> {
    if (runtime?.type === 'tmux') {
      const result = await this.tmux.stop(runtime as unknown as TmuxIdentity, { graceMs: this.config.killGraceMs });
      return result.wasAlive && result.stopped;
    }
    if (!runtime || runtime.type !== 'process' || !this.isAlive(runtime)) return false;
    const result = await this.runtime.stop(runtime as unknown as RuntimeIdentity, { graceMs: this.config.killGraceMs });
    return result.stopped;
  }

  private argv(request: AgentLaunchRequest, type: RuntimeType): string[] {
    switch (request.agent) {
      case 'command':
        return request.command ?? [];
      case 'claude-code': {
        this.writeClaudeSettings(request);
        const claude = claudeBin();
        if (request.resume) return [claude, '--resume', request.resume.agentSessionId, '-p', request.resume.prompt];
        if (type === 'tmux') {
          acceptWorkspaceTrust({ ...process.env, ...(request.env ?? {}) }, request.workdir);
          return [claude]; // interactive: the prompt is typed into the pane once Claude Code is ready
        }
        return [claude, ...(request.prompt ? ['-p', request.prompt] : [])];
      }
      default:
        throw new DomainError('SESSION.NOT_LAUNCHABLE', 'conflict', `an ${request.agent} session has no runtime runledger can launch`, {
          agent: request.agent,
        });
    }
  }

  /**
   * Writes `<workdir>/.claude/settings.local.json` with the session's hooks (`claudeHookSettings`: no token in it), and
   * excludes that file from git so it never makes the worktree look dirty.
   */
  private writeClaudeSettings(request: AgentLaunchRequest): void {
    const settings = claudeHookSettings({ ...request.hooks, url: this.address.url, sessionId: request.sessionId, runner: hookRunner(this.address.url) });
    const dir = path.join(request.workdir, '.claude');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'settings.local.json'), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
    excludeFromGit(request.workdir, '.claude/settings.local.json');
  }
}

/**
 * Marks `workdir` (one of runledger's own worktrees) as trusted in Claude Code's user config (`$CLAUDE_CONFIG_DIR/.claude.json`
 * or `$HOME/.claude.json`: `projects[<workdir>].hasTrustDialogAccepted`), so interactive Claude Code does not stop at its
 * workspace trust dialog; every other key of the file is kept. Written atomically (temporary file, then rename).
 */
export const acceptWorkspaceTrust = (env: NodeJS.ProcessEnv, workdir: string): void => {
  const dir = env.CLAUDE_CONFIG_DIR || env.HOME;
  if (!dir) return;
  const file = path.join(dir, '.claude.json');
  let config: { projects?: Record<string, Record<string, unknown>> } & Record<string, unknown> = {};
  if (fs.existsSync(file)) {
    try {
      config = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`cannot accept Claude Code's workspace trust: ${file} is not valid JSON (${(error as Error).message})`);
    }
  }
  const projects = config.projects ?? {};
  if (projects[workdir]?.hasTrustDialogAccepted === true) return;
  config.projects = { ...projects, [workdir]: { ...(projects[workdir] ?? {}), hasTrustDialogAccepted: true } };
  const temporary = `${file}.runledger-${process.pid}`;
  fs.writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, file);
};

/** The name of signal number `n` (e.g. 15 → `SIGTERM`) from the platform's table; the number in decimal for one it does not name (a real-time signal). */
const signalName = (n: number): string =>
  (Object.keys(os.constants.signals) as NodeJS.Signals[]).find((key) => os.constants.signals[key] === n) ?? String(n);

/** The Claude Code executable: RUNLEDGER_CLAUDE_BIN, else `claude` on the PATH. */
const claudeBin = (): string => process.env.RUNLEDGER_CLAUDE_BIN || 'claude';

/** Adds `pattern` to the repository's shared `info/exclude` (worktrees share it) unless already there. */
const excludeFromGit = (worktree: string, pattern: string): void => {
  const dotGit = path.join(worktree, '.git');
  if (!fs.existsSync(dotGit)) return;
  const gitdir = fs.statSync(dotGit).isFile() ? fs.readFileSync(dotGit, 'utf8').replace(/^gitdir:\s*/, '').trim() : dotGit;
  const commonFile = path.join(gitdir, 'commondir');
  const common = fs.existsSync(commonFile) ? path.resolve(gitdir, fs.readFileSync(commonFile, 'utf8').trim()) : gitdir;
  const exclude = path.join(common, 'info', 'exclude');
  const current = fs.existsSync(exclude) ? fs.readFileSync(exclude, 'utf8') : '';
  if (current.split('\n').includes(pattern)) return;
  fs.mkdirSync(path.dirname(exclude), { recursive: true });
  fs.appendFileSync(exclude, `${current.endsWith('\n') || current === '' ? '' : '\n'}${pattern}\n`);
};
