import { Inject, Injectable, Logger } from '@nestjs/common';
import { agentCapabilities, AgentKind, DomainError, isCodingAgent, RegisteredProject, RuntimeType, SessionFork, SessionKind, SessionView } from '@runledger/domain';
import { RunledgerConfig } from '@runledger/infra/config';
import { GitWorktrees, InvalidRefNameError, UnknownRefError } from '@runledger/infra/git';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { CommandContext } from '../../event-sourcing/command-context';
import { holdWhileStoreAway } from '../../event-sourcing/hold-while-store-away';
import { AgentLauncher, AgentLaunchRequest } from '../runtime/agent-launcher';
import { ProjectEnv } from '../../projects/project-env';
import { SessionStreams } from '../session-streams';
import { SessionViews } from '../session-views';
import { sessionWorkdir, worktreePath } from '../worktree-layout';

/** What a session is started with, once its id is allocated. */
export interface SessionPlan {
  kind: SessionKind;
  agent: Exclude<AgentKind, 'external'>;
  command?: string[];
  prompt?: string;
  baseRef: string;
  branch: string;
  runtimeType: RuntimeType;
  parentSessionId?: string;
  /** A fork's source (recorded in SessionStarted). */
  forkedFrom?: SessionFork;
  /** The session's own spending limit in USD (recorded in SessionStarted, docs/ARCHITECTURE.md §4g). */
  budgetUsd?: number;
  /** A native resume of a conversation the session starts from (a conversation fork's copied transcript). */
  resume?: AgentLaunchRequest['resume'];
  /** Runs once every worktree exists, before the agent is launched (a fork writes its files there); a throw is recorded as the launch failure. */
  prepareWorktrees?: (worktrees: Array<{ repo: string; path: string }>) => Promise<void>;
}

const invalid = (field: string, message: string): DomainError => new DomainError('SESSION.INVALID', 'invalid', message, { field });

/** The runtime a session gets when it names none (docs/ARCHITECTURE.md §4a): tmux for orchestrators and for an interactive agent (claude-code) without a prompt, else a process. */
export const defaultRuntime = (kind: SessionKind, agent: AgentKind, prompt: string | undefined): RuntimeType =>
  kind === 'orchestrator' || (agentCapabilities(agent).interactive && !prompt) ? 'tmux' : 'process';

/**
 * Starts a session under an id already allocated, each step recorded before the next one starts (checkpoint before
 * dispatch, docs/ARCHITECTURE.md §3): `SessionStarted` → per repo `git worktree add` on `plan.branch` (created from `baseRef`, or
 * checked out when it exists) then `WorktreeCreated` → launch the runtime then `SessionRuntimeLaunched`. A worktree
 * or launch failure is recorded as `SessionLaunchFailed` and returned in the snapshot (never thrown). Recording a step that
 * happened waits out a database outage (holdWhileStoreAway), then throws DatabaseUnavailableError.
 */
@Injectable()
export class SessionStarter {
  private readonly logger = new Logger('SessionStarter');

  constructor(
    private readonly sessions: SessionStreams,
    private readonly git: GitWorktrees,
    private readonly launcher: AgentLauncher,
    private readonly views: SessionViews,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
    private readonly projectEnv: ProjectEnv,
  ) {}

  /**
   * Refuses (400 SESSION.INVALID naming the field, nothing appended) a command agent without a command, a coding agent
   * with no interactive mode (codex) without a prompt, and a baseRef that names no commit in one of the repos.
   */
  async validate(project: RegisteredProject, agent: AgentKind, command: string[] | undefined, baseRef: string, prompt?: string): Promise<void> {
    if (agent === 'command' && (!command || command.length === 0)) {
      throw invalid('command', 'agent "command" needs command: a non-empty argv array');
    }
    if (isCodingAgent(agent) && !agentCapabilities(agent).interactive && !prompt) {
      throw invalid('prompt', `agent "${agent}" needs a prompt: runledger runs it one-shot (it has no interactive mode runledger drives)`);
    }
    for (const repo of project.repos) {
      try {
        await this.git.resolveCommit(repo.path, baseRef);
      } catch (error) {
        if (error instanceof UnknownRefError || error instanceof InvalidRefNameError) throw invalid('baseRef', `baseRef "${baseRef}" does not name a commit in ${repo.name} (${repo.path})`);
        throw error;
      }
    }
  }

  /** Starts `sessionId` per `plan` and returns its snapshot (running, or terminated with the launch failure). */
  async start(project: RegisteredProject, sessionId: string, plan: SessionPlan, context: CommandContext): Promise<SessionView> {
    const at = () => new Date().toISOString();
    await this.sessions.decide(
      sessionId,
      () => [{
        type: 'StartSession',
        data: {
          sessionId, projectId: project.projectId, kind: plan.kind, agent: plan.agent, branch: plan.branch, baseRef: plan.baseRef,
          runtimeType: plan.runtimeType, at: at(),
          ...(plan.command ? { command: plan.command } : {}),
          ...(plan.prompt !== undefined ? { prompt: plan.prompt } : {}),
          ...(plan.parentSessionId !== undefined ? { parentSessionId: plan.parentSessionId } : {}),
          ...(plan.forkedFrom !== undefined ? { forkedFrom: plan.forkedFrom } : {}),
          ...(plan.budgetUsd !== undefined ? { budgetUsd: plan.budgetUsd } : {}),
        },
      }],
      context,
    );

    let failure: string | undefined;
    const worktrees: Array<{ repo: string; path: string }> = [];
    for (const repo of project.repos) {
      const path = worktreePath(this.config.dataDir, project, sessionId, repo.name);
      let created: Awaited<ReturnType<GitWorktrees['add']>>;
      try {
        created = await this.git.add({ repoPath: repo.path, worktreePath: path, branch: plan.branch, baseRef: plan.baseRef });
      } catch (error) {
        failure = `worktree for ${repo.name} could not be created: ${(error as Error).message}`;
        break;
      }
      // The worktree exists: record it, waiting out a database outage (a failure recorded here would be false).
      await holdWhileStoreAway(() =>
        this.sessions.decide(
          sessionId,
          () => [{ type: 'RecordWorktreeCreated', data: { repo: repo.name, path: created.path, branch: plan.branch, baseRef: plan.baseRef, at: at() } }],
          context,
        ),
      );
      worktrees.push({ repo: repo.name, path: created.path });
    }
    if (!failure && plan.prepareWorktrees) {
      try {
        await plan.prepareWorktrees(worktrees);
      } catch (error) {
        failure = `worktrees could not be prepared: ${(error as Error).message}`;
      }
    }
    if (!failure) return this.launch(project, sessionId, plan, 'runtime could not be launched', context);
    return this.recordFailure(sessionId, failure, context);
  }

  /**
   * Launches the agent of a started (or restoring) session in its workdir and records `SessionRuntimeLaunched` (with
   * `resumeMode` when a restore chose one); a launch that fails is recorded as `SessionLaunchFailed`
   * (`<failurePrefix>: <error>`). Returns the snapshot either way.
   */
  async launch(
    project: RegisteredProject,
    sessionId: string,
    agent: {
      agent: AgentKind;
      command?: string[];
      prompt?: string;
      runtimeType: RuntimeType;
      /** A restore's resume: `native` resumes the agent's own conversation (`resume` set), `fresh` starts it again. */
      resumeMode?: 'native' | 'fresh';
      resume?: AgentLaunchRequest['resume'];
    },
    failurePrefix: string,
    context: CommandContext,
  ): Promise<SessionView> {
    let runtime: Awaited<ReturnType<AgentLauncher['launch']>>;
    try {
      runtime = await this.launcher.launch({
        sessionId,
        agent: agent.agent,
        command: agent.command,
        prompt: agent.prompt,
        workdir: sessionWorkdir(this.config.dataDir, project, sessionId),
        env: await this.projectEnv.values(project),
        runtime: agent.runtimeType,
        ...(agent.resume ? { resume: agent.resume } : {}),
        hooks: { hookFailure: project.hookFailure, hookHoldSeconds: project.hookHoldSeconds, hookTransport: project.hookTransport },
      });
    } catch (error) {
      return this.recordFailure(sessionId, `${failurePrefix}: ${(error as Error).message}`, context);
    }
    // The runtime runs: record it, waiting out a database outage (recording a launch failure would orphan it).
    const resumeMode = agent.resumeMode ? { resumeMode: agent.resumeMode } : {};
    const launched = await holdWhileStoreAway(() =>
      this.sessions.decide(sessionId, () => [{ type: 'RecordRuntimeLaunched', data: { runtime, ...resumeMode, at: new Date().toISOString() } }], context),
    );
    return this.views.fromState(launched.state as never, launched.revision);
  }

  private async recordFailure(sessionId: string, reason: string, context: CommandContext): Promise<SessionView> {
    this.logger.warn(`${sessionId}: ${reason}`);
    const failed = await holdWhileStoreAway(() =>
      this.sessions.decide(sessionId, () => [{ type: 'RecordLaunchFailed', data: { reason, at: new Date().toISOString() } }], context),
    );
    return this.views.fromState(failed.state as never, failed.revision);
  }
}
