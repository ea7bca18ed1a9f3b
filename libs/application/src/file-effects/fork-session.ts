import { Injectable } from '@nestjs/common';
import { DomainError, LAUNCHABLE_AGENTS, LaunchableAgent, SessionView } from '@runledger/domain';
import { GitSnapshotStore } from '@runledger/infra/file-snapshots';
import { CommandContext } from '../event-sourcing/command-context';
import { SessionStreams } from '../sessions/session-streams';
import { defaultRuntime, SessionStarter } from '../sessions/spawn-session/session-starter';
import { sessionBranch } from '../sessions/worktree-layout';
import { FileEffects } from './file-effects.service';

/** What `POST /sessions/:id/fork` asks: the call, the side of it, and the prompt the new agent starts with (default: the source's prompt). */
export interface ForkRequest {
  callId: string;
  phase: 'before' | 'after';
  prompt?: string;
}

/**
 * Forks a session at a call (docs/ARCHITECTURE.md §4e): a new session (new id, its own worktree on `runledger/<id>`
 * from the source's branch) whose files are the source's state before or after the call, written into the new
 * worktree from the source's snapshots before its agent starts (copied: pruning the source later leaves the fork whole). The conversation is not forked (`forkMode:
 * files-only`): the agent starts anew with the prompt. Throws FILES.NOT_SNAPSHOTTED (404) for a state without a
 * snapshot, SESSION.INVALID (400, field `callId`) when the state is of a folder no project repository holds.
 */
@Injectable()
export class ForkSession {
  constructor(
    private readonly fileEffects: FileEffects,
    private readonly sessions: SessionStreams,
    private readonly starter: SessionStarter,
    private readonly snapshots: GitSnapshotStore,
  ) {}

  /** Starts the fork and returns its snapshot (running, or terminated with the reason its start failed). */
  async fork(sourceId: string, request: ForkRequest, context: CommandContext): Promise<SessionView> {
    const target = await this.fileEffects.callState(sourceId, request.callId, request.phase);
    const { state: source } = await this.sessions.load(sourceId);
    const { state: project } = await this.sessions.project(source.projectId);
    const sourceWorktree = Object.values(source.worktrees).find((w) => w.path === target.root);
    const repo = sourceWorktree?.repo ?? project.repos.find((r) => r.path === target.root)?.name;
    if (!repo) {
      throw new DomainError('SESSION.INVALID', 'invalid', `the files of ${request.callId} are in ${target.root}, which no repository of ${project.projectId} holds`, { field: 'callId' });
    }
    const agent: LaunchableAgent = (LAUNCHABLE_AGENTS as readonly string[]).includes(source.agent) ? (source.agent as LaunchableAgent) : (source.observedAgent ?? 'claude-code');
    const prompt = request.prompt ?? source.prompt;
    // A runledger session's branch holds its commits; a person's checkout is forked from the project's default branch.
    const baseRef = sourceWorktree ? source.branch : (project.defaultBranch ?? 'HEAD');
    await this.starter.validate(project, agent, source.command, baseRef, prompt);
    const sessionId = await this.sessions.allocateSessionId(project.projectId, 'worker', context);
    return this.starter.start(
      project,
      sessionId,
      {
        kind: 'worker',
        agent,
        ...(source.command ? { command: source.command } : {}),
        ...(prompt !== undefined ? { prompt } : {}),
        baseRef,
        branch: sessionBranch(sessionId),
        runtimeType: defaultRuntime('worker', agent, prompt),
        forkedFrom: { sessionId: sourceId, callId: request.callId, phase: request.phase, tree: target.tree, forkMode: 'files-only' },
        prepareWorktrees: async (worktrees) => {
          const into = worktrees.find((w) => w.repo === repo);
          if (!into) throw new Error(`no worktree of ${repo} was created`);
          const root = await this.snapshots.rootOf(into.path);
          if (!root) throw new Error(`${into.path} is not a git work tree`);
          await this.snapshots.materialize(root, sourceId, target.tree);
        },
      },
      context,
    );
  }
}
