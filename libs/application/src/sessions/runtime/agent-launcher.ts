import * as os from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError, LaunchableAgent, ProjectHookSettings, RuntimeType, SessionRuntime } from '@runledger/domain';
import { ApiToken } from '@runledger/infra/auth/api-token';
import { issueSessionCredential } from '@runledger/infra/auth/session-credential';
import { RunledgerConfig } from '@runledger/infra/config';
import {
  AGENT_MARKER, executablePath, findProcessesByEnv, listAgentProcesses, ProcessRuntime, readStartTime, RuntimeIdentity, TmuxIdentity, TmuxPane, TmuxRuntime,
  tmuxSessionName,
  processStartedAt,
} from '@runledger/infra/runtime';
import { API_TOKEN, RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { AgentLaunch } from '../../agents/agent-adapter';
import { AgentAdapters } from '../../agents/agent-adapters';
import { CREDENTIAL_ENV, hookRunner } from '../../agents/hook-runner';
import { sessionLogPath } from '../worktree-layout';
import { ServerAddress } from './server-address';

/** What an agent launch needs to know about the session. */
export interface AgentLaunchRequest {
  sessionId: string;
  agent: LaunchableAgent | 'external';
  command?: string[];
  prompt?: string;
  workdir: string;
  env?: Record<string, string>;
  /** Where it runs (default process). */
  runtime?: RuntimeType;
  /**
   * Continue the agent's own conversation instead of starting it (docs/ARCHITECTURE.md §4): its adapter's native
   * resume (`claude --resume <agentSessionId> -p <prompt>`, `codex exec resume …`); the original prompt is never sent again.
   */
  resume?: { agentSessionId: string; prompt: string };
  /** The project's hook settings (hold, failure mode, transport); defaults when absent. */
  hooks?: ProjectHookSettings;
}

/** Env entry that marks an agent in a tmux pane (so the /proc scan for unrecorded process agents never mistakes it for one). */
export const TMUX_AGENT_MARKER = 'RUNLEDGER_RUNTIME=tmux';

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
 * Agents: `command` (the argv of the request) and the coding agents, whose argv, hook settings and readiness come
 * from their adapter (AgentAdapters, docs/ARCHITECTURE.md §4d).
 */
@Injectable()
export class AgentLauncher {
  constructor(
    private readonly runtime: ProcessRuntime,
    private readonly tmux: TmuxRuntime,
    private readonly address: ServerAddress,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
    @Inject(API_TOKEN) private readonly token: ApiToken,
    private readonly adapters: AgentAdapters,
  ) {}

  /** Starts the agent; throws RuntimeLaunchError (spawn failed) or DomainError SESSION.NOT_LAUNCHABLE (external sessions). */
  async launch(request: AgentLaunchRequest): Promise<SessionRuntime> {
    const type = request.runtime ?? 'process';
    const adapter = this.adapters.find(request.agent);
    const launch: AgentLaunch | undefined = adapter && {
      sessionId: request.sessionId, workdir: request.workdir, prompt: request.prompt, resume: request.resume, runtime: type, env: request.env ?? {},
      hooks: request.hooks, url: this.address.url, runner: hookRunner(this.address.url),
    };
    const argv = adapter && launch ? adapter.prepare(launch) : this.commandArgv(request);
    const logPath = sessionLogPath(this.config.dataDir, request.sessionId);
    const credential = this.credential(request.sessionId);
    // The agent's own telemetry to runledger's OTLP logs route (docs/ARCHITECTURE.md §4g); the request's env can turn it off.
    const telemetry = adapter?.telemetryEnv?.({ logsUrl: `${this.address.url}/api/v1/otlp/v1/logs`, credential, ...(this.address.caFile ? { caFile: this.address.caFile } : {}) }) ?? {};
    const runledgerEnv: Record<string, string> = {
      RUNLEDGER_URL: this.address.url,
      ...(this.address.caFile ? { RUNLEDGER_CA_FILE: this.address.caFile } : {}),
      RUNLEDGER_SESSION_ID: request.sessionId,
      [CREDENTIAL_ENV]: credential,
      [AGENT_HOME]: this.config.dataDir,
    };
    const env: Record<string, string> = {
      ...telemetry,
      ...(request.env ?? {}),
      ...(adapter?.launchEnv && launch ? adapter.launchEnv(launch, runledgerEnv) : {}),
      ...runledgerEnv,
    };
    if (type === 'tmux') {
      const [name, value] = TMUX_AGENT_MARKER.split('=');
      const identity = await this.tmux.launch({ sessionName: tmuxSessionName(request.sessionId), command: argv, cwd: request.workdir, logPath, env: { ...env, [name!]: value! } });
      if (adapter?.afterTmuxLaunch && launch) {
        try {
          await adapter.afterTmuxLaunch(identity, launch, this.tmux);
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
    const name = this.adapters.find(agent)?.executable() ?? command?.[0] ?? '';
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

  /**
   * A live agent of `sessionId`, launched by this installation (same data directory), that the log does not know (launched, then runledger died before recording it):
   * its tmux session, or a process found by its environment (the newest if several). Null when there is none.
   */
  findUnrecorded(
    sessionId: string, recorded?: SessionRuntime, agents?: Map<string, RuntimeIdentity[]>, panes?: TmuxPane[], isAgent: (command: string[]) => boolean = () => true,
  ): SessionRuntime | null {
    const tmux = this.findUnrecordedTmux(sessionId, recorded, panes);
    if (tmux) return tmux;
    const found = this.sessionProcesses(sessionId, recorded, agents)
      .filter((p) => p.pgid === p.pid && isAgent(p.command)) // runledger launches an agent as its own process group's leader
      .sort((a, b) => Number(BigInt(b.startTime) - BigInt(a.startTime)));
    if (found.length === 0) return null;
    const startedAt = processStartedAt(found[0].startTime) ?? new Date().toISOString();
    return { ...found[0], logPath: sessionLogPath(this.config.dataDir, sessionId), startedAt } as unknown as SessionRuntime;
  }

  /**
   * The live processes of `sessionId` launched by this installation (its agent, and the tools' processes that inherit
   * its environment), the recorded runtime's own process left out; from `agents` (one earlier /proc scan) when given.
   */
  sessionProcesses(sessionId: string, recorded?: SessionRuntime, agents?: Map<string, RuntimeIdentity[]>): RuntimeIdentity[] {
    const candidates = agents ? (agents.get(sessionId) ?? []) : findProcessesByEnv([`RUNLEDGER_SESSION_ID=${sessionId}`, AGENT_MARKER, this.homeEntry()]);
    return candidates.filter((p) => !(recorded?.type === 'process' && recorded.pid === p.pid && recorded.startTime === p.startTime));
  }

  /** Stops processes a dead agent left running (each one's process group: SIGTERM, then SIGKILL after the grace period); returns those that were alive. */
  async stopOrphans(orphans: RuntimeIdentity[]): Promise<RuntimeIdentity[]> {
    const stopped: RuntimeIdentity[] = [];
    for (const orphan of orphans) if ((await this.runtime.stop(orphan, { graceMs: this.config.killGraceMs })).stopped) stopped.push(orphan);
    return stopped;
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
      logPath: sessionLogPath(this.config.dataDir, sessionId), startedAt: processStartedAt(startTime) ?? new Date().toISOString(),
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

  /** argv of a `command` session; throws DomainError SESSION.NOT_LAUNCHABLE (409) for an agent runledger cannot launch (external). */
  private commandArgv(request: AgentLaunchRequest): string[] {
    if (request.agent === 'command') return request.command ?? [];
    throw new DomainError('SESSION.NOT_LAUNCHABLE', 'conflict', `an ${request.agent} session has no runtime runledger can launch`, { agent: request.agent });
  }
}

/** The name of signal number `n` (e.g. 15 → `SIGTERM`) from the platform's table; the number in decimal for one it does not name (a real-time signal). */
const signalName = (n: number): string =>
  (Object.keys(os.constants.signals) as NodeJS.Signals[]).find((key) => os.constants.signals[key] === n) ?? String(n);
