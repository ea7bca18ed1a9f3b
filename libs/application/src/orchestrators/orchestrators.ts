import { existsSync } from 'node:fs';
import { Inject, Logger } from '@nestjs/common';
import { CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import {
  AgentKind, decideProject, LAUNCHABLE_AGENTS, DomainError, evolveProject, isWorktreeReleased, projectDecider, ProjectEvent, projectStreamName,
  RegisteredProject, Session, SessionCommand, sessionDecider, SessionState, sessionStreamName, SessionView, Worktree,
} from '@runledger/domain';
import { EventStore } from '@runledger/infra/event-store';
import { reconcileLease, worktreeLease } from '@runledger/infra/leases';
import { GitWorktrees, UnpreservableChangesError } from '@runledger/infra/git';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { CommandContext } from '../event-sourcing/command-context';
import { DeciderStreams } from '../event-sourcing/decider-streams';
import { RestoreSessionCommand } from '../sessions/lifecycle.command';
import { AgentLauncher } from '../sessions/runtime/agent-launcher';
import { SessionStreams } from '../sessions/session-streams';
import { SessionViews } from '../sessions/session-views';
import { SessionStarter } from '../sessions/spawn-session/session-starter';
import { preservedRef } from '../sessions/worktree-layout';
import { orchestratorBranch } from './orchestrator-branch';
import { ProjectLock } from './project-lock';

/** The retire notice typed into an orchestrator's pane before it is replaced (best effort). */
export const RETIRE_NOTICE =
  'runledger is replacing this orchestrator: stop coordinating new work now; a new orchestrator takes over on the canonical branch.';

/** Body of `POST /projects/:id/orchestrator` (docs/ARCHITECTURE.md §5): ensure (`clean` false) or replace (`clean` true). */
export interface OrchestratorInput {
  clean?: boolean;
  /** The agent of a new orchestrator (default: the project's `orchestratorAgent`, else claude-code). */
  agent?: string;
  /** argv of a `command` orchestrator. */
  command?: string[];
  prompt?: string;
}

/** Ensure or replace a project's orchestrator (invariant 11). */
export class OrchestratorCommand {
  constructor(readonly projectId: string, readonly input: OrchestratorInput, readonly context: CommandContext) {}
}

/** Answer of ensure/replace: the orchestrator's snapshot, and whether this call started it (201) or found it (200). */
export interface OrchestratorResult {
  created: boolean;
  session: SessionView;
}


/** True when the session's worktree of `repo` no longer holds its branch. */
const released = (state: SessionState, repo: string): boolean => {
  const worktree = state.status === 'none' ? undefined : state.worktrees[repo];
  return worktree !== undefined && isWorktreeReleased(worktree);
};

const replaceFailed = (session: Session, reason: string): DomainError =>
  new DomainError('ORCHESTRATOR.REPLACE_INCOMPLETE', 'conflict', `replacement of orchestrator ${session.sessionId} stopped half-way: ${reason}; retry to complete it`, {
    sessionId: session.sessionId, status: 'retiring', reason,
  });

/**
 * Ensure and replace (docs/ARCHITECTURE.md §4b, invariant 11), each under the project's orchestrator lock (ProjectLock).
 * Ensure returns the active orchestrator: live as it is, interrupted (or its runtime gone) restored under its id, a new
 * id only when there is none (or it was terminated). Replace: for every orchestrator of the project not terminated,
 * `retiring` → a best-effort retire notice typed into its pane → its runtime stopped → its uncommitted work preserved to
 * `refs/runledger/preserved/<id>` → its worktree force-removed (the canonical branch released); then the new one is
 * started on the canonical branch and verified (live, orchestrator, the agent asked for, the canonical branch); only
 * then are the old ones terminated and the project's active orchestrator switched in one append. A failure half-way
 * records its reason on the old session (still retiring) and answers 409 ORCHESTRATOR.REPLACE_INCOMPLETE; a retry
 * takes up where it stopped.
 */
@CommandHandler(OrchestratorCommand)
export class OrchestratorHandler implements ICommandHandler<OrchestratorCommand, OrchestratorResult> {
  private readonly logger = new Logger('Orchestrators');

  constructor(
    private readonly lock: ProjectLock,
    private readonly sessions: SessionStreams,
    private readonly streams: DeciderStreams,
    private readonly starter: SessionStarter,
    private readonly launcher: AgentLauncher,
    private readonly views: SessionViews,
    private readonly git: GitWorktrees,
    private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ projectId, input, context }: OrchestratorCommand): Promise<OrchestratorResult> {
    await this.sessions.project(projectId, 'id'); // 404 before waiting for the lock
    return this.lock.withLock(projectId, () => (input.clean ? this.replace(projectId, input, context) : this.ensure(projectId, input, context)));
  }

  /** The agent a new orchestrator gets, checked with its command, baseRef and executable before anything happens (400 naming the field). */
  private async agentOf(project: RegisteredProject, input: OrchestratorInput): Promise<Exclude<AgentKind, 'external'>> {
    const agent = input.agent ?? project.orchestratorAgent ?? 'claude-code';
    if (!(LAUNCHABLE_AGENTS as readonly string[]).includes(agent)) {
      const field = input.agent !== undefined ? 'agent' : 'orchestratorAgent';
      throw new DomainError('ORCHESTRATOR.INVALID', 'invalid', `${field} "${agent}" is not an agent runledger can launch (${LAUNCHABLE_AGENTS.join(', ')})`, { field });
    }
    const launchable = agent as Exclude<AgentKind, 'external'>;
    await this.starter.validate(project, launchable, input.command, project.defaultBranch ?? 'HEAD', input.prompt);
    // An orchestrator that cannot start is refused before anything is recorded (a replace would retire the old one for nothing).
    const executable = this.launcher.executable(launchable, input.command);
    if (!executable.found) {
      const field = launchable === 'command' ? 'command' : 'agent';
      throw new DomainError('ORCHESTRATOR.INVALID', 'invalid', `the ${launchable} orchestrator's executable "${executable.name}" is not found (not a file, not on PATH)`, { field });
    }
    return launchable;
  }

  private async ensure(projectId: string, input: OrchestratorInput, context: CommandContext): Promise<OrchestratorResult> {
    const { state: project } = await this.sessions.project(projectId);
    const activeId = project.activeOrchestrator;
    if (activeId !== undefined) {
      const { state, revision } = await this.sessions.load(activeId);
      switch (state.status) {
        case 'running':
        case 'interrupted':
        case 'starting': {
          if (state.status === 'running' && this.launcher.isAlive(state.runtime)) return { created: false, session: this.views.fromState(state, revision) };
          // Under the session's reconcile lease: a boot reconcile relaunching it at the same time is waited for, never doubled.
          return this.lock.withLease(reconcileLease(activeId), async () => {
            const { state: fresh, revision: at } = await this.sessions.load(activeId);
            if (fresh.status === 'running' && this.launcher.isAlive(fresh.runtime)) return { created: false, session: this.views.fromState(fresh, at) };
            return { created: false, session: await this.restore(fresh, context) };
          });
        }
        case 'retiring':
          throw new DomainError('ORCHESTRATOR.RETIRING', 'conflict', `orchestrator ${activeId} is being replaced (${state.retirement.failure?.reason ?? state.retirement.reason ?? 'under way'}); complete it with clean: true`, {
            sessionId: activeId, status: 'retiring', reason: state.retirement.failure?.reason,
          });
        case 'terminated':
          // Ended outside a replacement (killed): its branch is released, work preserved, then a new one takes over.
          await this.releaseWorktrees(project, state, context, 'a new orchestrator takes over');
          await this.switchActive(projectId, [activeId], undefined, context);
          break;
      }
    }
    const created = await this.startNew(project, await this.agentOf(project, input), input, context);
    if (created.status !== 'running') {
      throw new DomainError('ORCHESTRATOR.LAUNCH_FAILED', 'conflict', `orchestrator ${created.id} could not be launched: ${created.termination?.reason ?? created.status}`, {
        sessionId: created.id, status: created.status, reason: created.termination?.reason,
      });
    }
    await this.switchActive(projectId, [], created.id, context);
    return { created: true, session: created };
  }

  private async replace(projectId: string, input: OrchestratorInput, context: CommandContext): Promise<OrchestratorResult> {
    const { state: project } = await this.sessions.project(projectId);
    const agent = await this.agentOf(project, input); // refusals before any side effect
    const at = () => new Date().toISOString();
    const olds = await this.orchestratorsNotTerminated(project);
    for (const old of olds) {
      const { state: retiring } = await this.sessions.decide(old.sessionId, () => [{ type: 'RetireSession', data: { reason: 'replaced by a new orchestrator', at: at() } }], context);
      try {
        await this.launcher.type(old.runtime, RETIRE_NOTICE);
      } catch (error) {
        this.logger.debug?.(`${old.sessionId}: retire notice not delivered (${(error as Error).message})`);
      }
      await this.launcher.stop(old.runtime);
      await this.releaseWorktrees(project, retiring as Session, context, 'replaced by a new orchestrator');
    }

    const started = await this.startNew(project, agent, input, context);
    const problem = started.status !== 'running'
      ? `the replacement ${started.id} could not be launched: ${started.termination?.reason ?? started.status}`
      : await this.verify(project, started, agent);
    if (problem) {
      if (started.status !== 'terminated') await this.stopReplacement(started.id, context);
      for (const old of olds) await this.recordFailure(old, problem, context);
      throw olds.length > 0
        ? replaceFailed(olds[0]!, problem)
        : new DomainError('ORCHESTRATOR.LAUNCH_FAILED', 'conflict', problem, { sessionId: started.id, reason: problem });
    }
    for (const old of olds) {
      await this.sessions.decide(old.sessionId, (s) => (s.status === 'terminated' ? [] : [{ type: 'TerminateSession', data: { reason: `replaced by ${started.id}`, at: at() } }]), context);
    }
    await this.switchActive(projectId, olds.map((o) => o.sessionId), started.id, context);
    const { state, revision } = await this.sessions.load(started.id);
    return { created: true, session: this.views.fromState(state, revision) };
  }

  /** Every orchestrator session the project allocated that is not terminated (the active one, and strays of a replacement cut short). */
  private async orchestratorsNotTerminated(project: RegisteredProject): Promise<Session[]> {
    const ids: string[] = [];
    for await (const event of this.store.readStream(projectStreamName(project.projectId))) {
      const e = event as unknown as ProjectEvent;
      if (e.type === 'SessionIdAllocated' && e.data.kind === 'orchestrator') ids.push(e.data.sessionId);
    }
    const found: Session[] = [];
    for (const id of ids) {
      const { state } = await this.streams.load(sessionStreamName(id), sessionDecider);
      if (state.status !== 'none' && state.status !== 'terminated') found.push(state);
    }
    return found;
  }

  /**
   * Releases every worktree a session still holds (invariant 10): uncommitted work preserved to its ref and recorded
   * first, then the forced removal recorded. A failure is recorded (`retry_remove`, and the retirement's reason while
   * retiring) and thrown as ORCHESTRATOR.REPLACE_INCOMPLETE (409; ORCHESTRATOR.WORKTREE_NOT_RELEASED for a session not retiring).
   */
  private async releaseWorktrees(project: RegisteredProject, session: Session, context: CommandContext, why: string): Promise<void> {
    for (const { repo: name } of Object.values(session.worktrees)) {
      const repo = project.repos.find((r) => r.name === name);
      if (!repo) continue; // a repo that left the project holds no branch of this project
      // Under the worktree's lease, shared with the worker's janitor (which retries failed removals), on fresh state.
      await this.lock.withLease(worktreeLease(session.sessionId, name), async () => {
        const worktree = (await this.sessions.load(session.sessionId)).state.worktrees[name];
        if (!worktree || isWorktreeReleased(worktree)) return;
        await this.releaseOne(project, session, repo.path, worktree, context, why);
      });
    }
  }

  private async releaseOne(project: RegisteredProject, session: Session, repoPath: string, worktree: Worktree, context: CommandContext, why: string): Promise<void> {
    const at = () => new Date().toISOString();
    let kept: string | undefined;
    try {
      if (existsSync(worktree.path)) {
        const preserved = await this.git.preserve({ worktreePath: worktree.path, ref: preservedRef(project, session.sessionId, worktree.repo), message: `runledger: work of ${session.sessionId}: ${why}` });
        if (preserved) {
          kept = preserved.ref;
          await this.sessions.decide(session.sessionId, () => [{ type: 'RecordWorkPreserved', data: { repo: worktree.repo, ref: preserved.ref, commit: preserved.commit, at: at() } }], context);
        }
      }
      await this.git.remove({ repoPath, worktreePath: worktree.path, force: true });
      await this.sessions.decide(session.sessionId, (s) => (released(s, worktree.repo) ? [] : [{ type: 'RecordWorktreeRemoved', data: { repo: worktree.repo, ...(kept ? { preservedRef: kept } : {}), at: at() } }]), context);
    } catch (error) {
      const reason = error instanceof UnpreservableChangesError
        ? `the work in ${worktree.path} cannot be preserved: ${error.message}`
        : `the worktree ${worktree.path} could not be removed: ${(error as Error).message}`;
      const record: SessionCommand[] = worktree.status === 'retry_remove' ? [] : [{ type: 'RecordWorktreeRemovalFailed', data: { repo: worktree.repo, error: reason, at: at() } }];
      await this.sessions.decide(session.sessionId, (s) => (s.status === 'none' ? [] : [...record, ...(s.status === 'retiring' ? [{ type: 'RecordRetirementFailure', data: { reason, at: at() } } as SessionCommand] : [])]), context).catch(() => undefined);
      if (session.status === 'retiring') throw replaceFailed(session, reason);
      throw new DomainError('ORCHESTRATOR.WORKTREE_NOT_RELEASED', 'conflict', `${session.sessionId} still holds the canonical branch: ${reason}`, {
        sessionId: session.sessionId, status: session.status, reason,
      });
    }
  }

  /** Checks a just-started replacement: live runtime, kind orchestrator, the agent asked for, on the canonical branch (its worktree's HEAD too); the problem, or null. */
  private async verify(project: RegisteredProject, view: SessionView, agent: string): Promise<string | null> {
    const branch = orchestratorBranch(project);
    const { state } = await this.sessions.load(view.id);
    if (state.status !== 'running' || !this.launcher.isAlive(state.runtime)) return `the replacement ${view.id} is not live (${state.status})`;
    if (state.kind !== 'orchestrator') return `the replacement ${view.id} is a ${state.kind}, not an orchestrator`;
    if (state.agent !== agent) return `the replacement ${view.id} runs ${state.agent}, not ${agent}`;
    if (state.branch !== branch) return `the replacement ${view.id} is on ${state.branch}, not ${branch}`;
    for (const worktree of Object.values(state.worktrees)) {
      const repo = project.repos.find((r) => r.name === worktree.repo);
      const entry = repo ? (await this.git.listWorktrees(repo.path)).find((w) => w.path === worktree.path) : undefined;
      if (entry?.branch !== branch) return `the worktree ${worktree.path} of ${view.id} has ${entry?.branch ?? 'nothing'} checked out, not ${branch}`;
    }
    return null;
  }

  /** A replacement that failed verification is stopped and its worktrees released, so the canonical branch is free for the retry. */
  private async stopReplacement(sessionId: string, context: CommandContext): Promise<void> {
    const { state } = await this.sessions.load(sessionId);
    await this.launcher.stop(state.runtime);
    const { state: project } = await this.sessions.project(state.projectId);
    await this.releaseWorktrees(project, state, context, 'replacement failed verification').catch(() => undefined);
    await this.sessions.decide(sessionId, (s) => (s.status === 'terminated' || s.status === 'none' ? [] : [{ type: 'KillSession', data: { reason: 'replacement failed verification', freed: true, at: new Date().toISOString() } }]), context);
  }

  private async recordFailure(old: Session, reason: string, context: CommandContext): Promise<void> {
    await this.sessions.decide(old.sessionId, (s) => (s.status === 'retiring' ? [{ type: 'RecordRetirementFailure', data: { reason, at: new Date().toISOString() } }] : []), context);
  }

  /** Restores an interrupted orchestrator under its id (fresh: an orchestrator relaunches without its conversation, docs/ARCHITECTURE.md §4). */
  private async restore(state: Session, context: CommandContext): Promise<SessionView> {
    if (state.status === 'running' || state.status === 'starting') {
      await this.sessions.decide(state.sessionId, (s) => (s.status === 'running' || s.status === 'starting' ? [{ type: 'InterruptSession', data: { reason: 'runtime gone', resumable: true, at: new Date().toISOString() } }] : []), context);
    }
    const restored = await this.commands.execute<RestoreSessionCommand, SessionView>(new RestoreSessionCommand(state.sessionId, context));
    if (restored.status !== 'running') {
      throw new DomainError('ORCHESTRATOR.LAUNCH_FAILED', 'conflict', `orchestrator ${state.sessionId} could not be restored: ${restored.termination?.reason ?? restored.status}`, {
        sessionId: state.sessionId, status: restored.status,
      });
    }
    return restored;
  }

  /** Allocates an orchestrator id and starts it on the canonical branch, in tmux. */
  private async startNew(project: RegisteredProject, agent: Exclude<AgentKind, 'external'>, input: OrchestratorInput, context: CommandContext): Promise<SessionView> {
    const baseRef = project.defaultBranch ?? 'HEAD';
    const sessionId = await this.sessions.allocateSessionId(project.projectId, 'orchestrator', context);
    this.logger.log(`starting orchestrator ${sessionId} of ${project.projectId}`);
    return this.starter.start(project, sessionId, {
      kind: 'orchestrator', agent, baseRef, branch: orchestratorBranch(project), runtimeType: 'tmux',
      ...(input.command ? { command: input.command } : {}),
      ...(input.prompt !== undefined ? { prompt: input.prompt } : {}),
    }, context);
  }

  /** Releases `released` and assigns `assigned` as the project's active orchestrator, in one append (exactly one active, invariant 11). */
  private async switchActive(projectId: string, released: string[], assigned: string | undefined, context: CommandContext): Promise<void> {
    const at = new Date().toISOString();
    await this.streams.handle(projectStreamName(projectId), projectDecider, (state) => {
      const events: ProjectEvent[] = [];
      let current = state;
      const commands = [
        ...released.map((sessionId) => ({ type: 'ReleaseOrchestrator' as const, data: { sessionId, at } })),
        ...(assigned ? [{ type: 'AssignOrchestrator' as const, data: { sessionId: assigned, at } }] : []),
      ];
      for (const command of commands) {
        const produced = decideProject(command, current);
        events.push(...produced);
        current = produced.reduce(evolveProject, current);
      }
      return events;
    }, context);
  }
}
