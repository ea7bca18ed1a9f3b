import { randomUUID } from 'node:crypto';
import { existsSync, promises as fsp, realpathSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError, LAUNCHABLE_AGENTS, LaunchableAgent, Session, SessionView } from '@runledger/domain';
import { modelMessageIds, toolUseIds, transcriptPrefixAt, writeForkedTranscript } from '@runledger/infra/agents/claude-code/transcript-fork';
import { RunledgerConfig } from '@runledger/infra/config';
import { GitSnapshotStore } from '@runledger/infra/file-snapshots';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { CommandContext } from '../event-sourcing/command-context';
import { SessionStreams } from '../sessions/session-streams';
import { defaultRuntime, SessionStarter } from '../sessions/spawn-session/session-starter';
import { sessionBranch, sessionWorkdir } from '../sessions/worktree-layout';
import { FileEffects } from './file-effects.service';

/** What `POST /sessions/:id/fork` asks: the call, the side of it, and the prompt the new agent starts with (default: the source's prompt). */
export interface ForkRequest {
  callId: string;
  phase: 'before' | 'after';
  prompt?: string;
}

/** The prompt a conversation fork's agent continues with when the request gives none. */
export const FORK_PROMPT =
  'This conversation was forked at a tool call: the files are as they were at that point. Continue the task from here.';

/**
 * Forks a session at a call (docs/ARCHITECTURE.md §4e): a new session (new id, its own worktree on `runledger/<id>`
 * from the source's branch) whose files are the source's state before or after the call, written into the new
 * worktree from the source's snapshots before its agent starts (copied: pruning the source later leaves the fork
 * whole). A Claude Code session whose main transcript holds the call forks its conversation too (`forkMode:
 * conversation`): the transcript up to the call (before: its `tool_use` left out; after: through its `tool_result`)
 * is copied as a new Claude Code session in the fork's folder, linked before the launch, and resumed there with the
 * prompt (default FORK_PROMPT). Otherwise (Codex, a sub-agent's call, no transcript) `forkMode: files-only`: the agent
 * starts anew with the prompt (default: the source's). Throws FILES.NOT_SNAPSHOTTED (404) for a state without a
 * snapshot, SESSION.INVALID (400, field `callId`) when the state is of a folder no project repository holds.
 */
@Injectable()
export class ForkSession {
  constructor(
    private readonly fileEffects: FileEffects,
    private readonly sessions: SessionStreams,
    private readonly starter: SessionStarter,
    private readonly snapshots: GitSnapshotStore,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
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
    const conversation = agent === 'claude-code' ? await this.conversationAt(source, request) : undefined;
    const prompt = conversation ? (request.prompt ?? FORK_PROMPT) : (request.prompt ?? source.prompt);
    const agentSessionId = randomUUID();
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
        forkedFrom: { sessionId: sourceId, callId: request.callId, phase: request.phase, tree: target.tree, forkMode: conversation ? 'conversation' : 'files-only', ...(conversation ? { inheritedCalls: toolUseIds(conversation.lines), inheritedMessages: modelMessageIds(conversation.lines) } : {}) },
        ...(conversation && prompt !== undefined ? { resume: { agentSessionId, prompt } } : {}),
        prepareWorktrees: async (worktrees) => {
          const into = worktrees.find((w) => w.repo === repo);
          if (!into) throw new Error(`no worktree of ${repo} was created`);
          const root = await this.snapshots.rootOf(into.path);
          if (!root) throw new Error(`${into.path} is not a git work tree`);
          await this.snapshots.materialize(root, sourceId, target.tree);
          if (!conversation) return;
          // The agent resumes the copied conversation in the fork's folder: linked first, so its hooks are its own.
          const cwd = realpathSync(sessionWorkdir(this.config.dataDir, project, sessionId));
          const transcriptPath = await writeForkedTranscript(conversation.sourcePath, conversation.lines, { sessionId: agentSessionId, cwd });
          await this.sessions.decide(sessionId, () => [{ type: 'LinkAgentSession', data: { agentSessionId, transcriptPath, at: new Date().toISOString() } }], context);
        },
      },
      context,
    );
  }

  /** The source's main transcript up to the call, when it holds the call (see transcriptPrefixAt); undefined otherwise. */
  private async conversationAt(source: Session, request: ForkRequest): Promise<{ sourcePath: string; lines: string[] } | undefined> {
    const sourcePath = source.transcriptPath;
    if (!sourcePath || !existsSync(sourcePath)) return undefined;
    const lines = transcriptPrefixAt(await fsp.readFile(sourcePath, 'utf8'), request.callId, request.phase);
    return lines ? { sourcePath, lines } : undefined;
  }
}
