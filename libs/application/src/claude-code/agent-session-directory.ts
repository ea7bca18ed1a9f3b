import * as path from 'node:path';
import { Injectable } from '@nestjs/common';
import { DomainError, RegisteredProject } from '@runledger/domain';
import { ReadModels } from '@runledger/infra/read-models';
import { CommandContext } from '../event-sourcing/command-context';
import { SessionStreams } from '../sessions/session-streams';

/** Thrown when a Claude session runledger did not spawn runs in no registered project's repository (404). */
export const noProjectForCwd = (cwd: string | null): DomainError =>
  new DomainError('PROJECT.NOT_FOUND_FOR_CWD', 'not_found', `no registered project has a repository holding ${cwd ?? '(no cwd)'}`, {
    field: 'cwd',
    cwd,
  });

const inside = (dir: string, file: string): boolean => {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/**
 * Finds the runledger session of an agent's own session id (Claude's `session_id`), or records an external session
 * for it in the project that owns its `cwd`. Resolution is serialized per agent session in this process, so
 * concurrent hooks of one new Claude session create one session.
 */
@Injectable()
export class AgentSessionDirectory {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly readModels: ReadModels,
    private readonly sessions: SessionStreams,
  ) {}

  /** The session linked to `agentSessionId`, if any (read model, then nothing). */
  async find(agentSessionId: string): Promise<string | null> {
    const [found] = await this.readModels.listSessions({ agentSessionId });
    return found?.id ?? null;
  }

  /** The project whose repository holds `cwd`; throws PROJECT.NOT_FOUND_FOR_CWD (404). */
  async projectForCwd(cwd: string | null): Promise<RegisteredProject> {
    if (cwd) {
      for (const summary of await this.readModels.listProjects()) {
        const { state } = await this.sessions.project(summary.id);
        if (state.repos.some((repo) => inside(repo.path, cwd))) return state;
      }
    }
    throw noProjectForCwd(cwd);
  }

  /** The session of `agentSessionId`, creating an external one in `project` (or the cwd's project) when none exists. */
  async findOrCreate(
    agentSessionId: string,
    where: { project?: RegisteredProject; cwd: string | null; transcriptPath?: string },
    context: CommandContext,
  ): Promise<string> {
    const existing = await this.find(agentSessionId);
    if (existing) return existing;
    const running = this.pending.get(agentSessionId);
    if (running) return running;
    const creation = this.create(agentSessionId, where, context).finally(() => this.pending.delete(agentSessionId));
    this.pending.set(agentSessionId, creation);
    return creation;
  }

  private async create(agentSessionId: string, where: { project?: RegisteredProject; cwd: string | null; transcriptPath?: string }, context: CommandContext): Promise<string> {
    const project = where.project ?? (await this.projectForCwd(where.cwd));
    const at = new Date().toISOString();
    const sessionId = await this.sessions.allocateSessionId(project.projectId, 'worker', context);
    await this.sessions.decide(
      sessionId,
      () => [
        { type: 'StartSession', data: { sessionId, projectId: project.projectId, kind: 'worker', agent: 'external', branch: 'external', baseRef: 'external', at } },
        { type: 'LinkAgentSession', data: { agentSessionId, at, ...(where.transcriptPath ? { transcriptPath: where.transcriptPath } : {}) } },
      ],
      context,
    );
    return sessionId;
  }
}
