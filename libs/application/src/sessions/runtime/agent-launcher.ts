import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ProjectHookSettings, SessionRuntime } from '@runledger/domain';
import { ApiToken } from '@runledger/infra/auth/api-token';
import { issueSessionCredential } from '@runledger/infra/auth/session-credential';
import { RunledgerConfig } from '@runledger/infra/config';
import { AGENT_MARKER, findProcessesByEnv, listAgentProcesses, ProcessRuntime, RuntimeIdentity } from '@runledger/infra/runtime';
import { API_TOKEN, RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { claudeHookSettings, CREDENTIAL_ENV, runledgerCommand } from '../../claude-code/hook-settings';
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
  /**
   * Continue the agent's own conversation instead of starting it (docs/ARCHITECTURE.md §4): Claude Code runs
   * `claude --resume <agentSessionId> -p <prompt>`; the original prompt is never sent again.
   */
  resume?: { agentSessionId: string; prompt: string };
  /** The project's hook settings (hold, failure mode, transport); defaults when absent. */
  hooks?: ProjectHookSettings;
}

/** The prompt a natively resumed agent gets when nobody gave a new one. */
export const CONTINUATION_PROMPT =
  'runledger restarted while you were working. Continue the task from where you left off; do not redo steps that already completed.';

/** Env entry naming the data directory of the runledger that launched an agent: session ids repeat across installations. */
export const AGENT_HOME = 'RUNLEDGER_AGENT_HOME';

/** Header that carries the runledger session id in Claude Code's generated hook settings (issue 4). */
export const SESSION_HEADER = 'x-runledger-session';

/**
 * Launches agent runtimes as detached process groups (they outlive runledger: DESIGN invariant 7), stdout/stderr to
 * `<dataDir>/logs/<sessionId>.log`, with RUNLEDGER_URL, RUNLEDGER_SESSION_ID and RUNLEDGER_TOKEN in their env; that token is
 * the session's own credential, never the admin token (DESIGN invariant 16).
 * Agents: `command` (the argv of the request) and `claude-code` (`claude`, with hooks posting to runledger).
 */
@Injectable()
export class AgentLauncher {
  constructor(
    private readonly runtime: ProcessRuntime,
    private readonly address: ServerAddress,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
    @Inject(API_TOKEN) private readonly token: ApiToken,
  ) {}

  /** Starts the agent; throws RuntimeLaunchError (spawn failed) or DomainError SESSION.NOT_LAUNCHABLE (external sessions). */
  async launch(request: AgentLaunchRequest): Promise<SessionRuntime> {
    const argv = this.argv(request);
    const identity = await this.runtime.launch({
      command: argv,
      cwd: request.workdir,
      logPath: sessionLogPath(this.config.dataDir, request.sessionId),
      env: {
        ...(request.env ?? {}),
        RUNLEDGER_URL: this.address.url,
        RUNLEDGER_SESSION_ID: request.sessionId,
        [CREDENTIAL_ENV]: this.credential(request.sessionId),
        [AGENT_MARKER.split('=')[0]]: AGENT_MARKER.split('=')[1],
        [AGENT_HOME]: this.config.dataDir,
      },
    });
    // The full identity (pgid, cwd, startedAt too) is kept in the event so a later process can stop or adopt it.
    return identity as unknown as SessionRuntime;
  }

  /**
   * A live agent process of `sessionId`, launched by this installation (same data directory), that the log does not know (launched, then runledger died before recording it),
   * found by its environment; the newest if several. Null when there is none.
   */
  findUnrecorded(sessionId: string, recorded?: SessionRuntime, agents?: Map<string, RuntimeIdentity[]>): SessionRuntime | null {
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

  /** The credential of `sessionId`'s agent: authorizes only that session's hook and tool-call routes (DESIGN invariant 16). */
  credential(sessionId: string): string {
    return issueSessionCredential(this.token.token, sessionId);
  }

  private homeEntry(): string {
    return `${AGENT_HOME}=${this.config.dataDir}`;
  }

  /** True when the recorded runtime is this very process (same pid and start time), not a reused pid. */
  isAlive(runtime: SessionRuntime | undefined): boolean {
    return runtime?.type === 'process' && this.runtime.isAlive(runtime as unknown as RuntimeIdentity);
  }

  /** Exit code/signal of a runtime this process launched, once reaped; null while it runs or is not reaped yet; undefined when not our child (adopted). */
  exitStatus(runtime: SessionRuntime | undefined): { code: number | null; signal: NodeJS.Signals | null } | null | undefined {
    return runtime?.type === 'process' ? this.runtime.exitStatus(runtime as unknown as RuntimeIdentity) : undefined;
  }

  /** SIGTERM to the runtime's process group, SIGKILL after the grace period; false when it was not running. */
  async stop(runtime: SessionRuntime | undefined): Promise<boolean> {
    if (!runtime || runtime.type !== 'process' || !this.isAlive(runtime)) return false;
    const result = await this.runtime.stop(runtime as unknown as RuntimeIdentity, { graceMs: this.config.killGraceMs });
    return result.stopped;
  }

  private argv(request: AgentLaunchRequest): string[] {
    switch (request.agent) {
      case 'command':
        return request.command ?? [];
      case 'claude-code':
        this.writeClaudeSettings(request);
        if (request.resume) return [claudeBin(), '--resume', request.resume.agentSessionId, '-p', request.resume.prompt];
        return [claudeBin(), ...(request.prompt ? ['-p', request.prompt] : [])];
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
    const settings = claudeHookSettings({ ...request.hooks, url: this.address.url, sessionId: request.sessionId, runledgerCommand: runledgerCommand() });
    const dir = path.join(request.workdir, '.claude');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'settings.local.json'), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
    excludeFromGit(request.workdir, '.claude/settings.local.json');
  }
}

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
