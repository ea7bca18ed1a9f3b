import * as path from 'node:path';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { CodingAgent, DomainError, RegisteredProject, RemoteOrigin } from '@runledger/domain';
import { EventStore } from '@runledger/infra/event-store';
import { ReadModels } from '@runledger/infra/read-models';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { LRUCache } from 'lru-cache';
import { CommandContext } from '../event-sourcing/command-context';
import { PROJECTION_PROGRESS, ProjectionProgress } from '../projections/projection-progress.port';
import { SessionStreams } from '../sessions/session-streams';

/** How long a lookup that misses waits for the in-process projection to hold the log's head (ms). */
const LOOKUP_CATCH_UP_MS = 5000;

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
 * Where an agent session found by its hooks belongs: the project (else the one whose repository holds `cwd`), its
 * transcript, its agent kind (default Claude Code), and for a remote flight recorder the machine and person (its
 * `cwd` is then on that machine: the project must be given).
 */
export interface AgentSessionWhere {
  project?: RegisteredProject;
  cwd: string | null;
  transcriptPath?: string;
  agent?: CodingAgent;
  remote?: RemoteOrigin;
}

/** Agent sessions whose runledger session this process remembers (least recently used first out). */
export const AGENT_SESSION_CACHE_SIZE = 10_000;

/**
 * Finds the runledger session of an agent's own session id (Claude's `session_id`), or records an external session
 * for it in the project that owns its `cwd`. Resolution is serialized per agent session in this process, so
 * concurrent hooks of one new Claude session create one session. A link once found or created is remembered (a
 * link never changes), so a hook neither reads the read models again nor depends on the projection having caught
 * up with the session it created.
 */
@Injectable()
export class AgentSessionDirectory {
  private readonly logger = new Logger('AgentSessionDirectory');
  private readonly pending = new Map<string, Promise<string>>();
  private readonly known = new LRUCache<string, string>({ max: AGENT_SESSION_CACHE_SIZE });

  constructor(
    private readonly readModels: ReadModels,
    private readonly sessions: SessionStreams,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Optional() @Inject(PROJECTION_PROGRESS) private readonly progress: ProjectionProgress | null,
  ) {}

  /**
   * The session linked to `agentSessionId`, if any: remembered, else the read model once the in-process projection
   * holds the log's head (a link committed by a request that did not wait for the projection is found).
   */
  async find(agentSessionId: string): Promise<string | null> {
    const remembered = this.known.get(agentSessionId);
    if (remembered !== undefined) return remembered;
    await this.catchUp();
    const [found] = await this.readModels.listSessions({ agentSessionId });
    if (found) this.known.set(agentSessionId, found.id);
    return found?.id ?? null;
  }

  /** Waits (bounded) for the in-process projection to hold the log's head; a timeout is logged and the read goes ahead. */
  private async catchUp(): Promise<void> {
    if (!this.progress) return;
    try {
      await this.progress.waitForPosition(await this.store.headPosition(), LOOKUP_CATCH_UP_MS);
    } catch (error) {
      this.logger.warn(`agent session lookup reads a projection that did not catch up: ${(error as Error).message}`);
    }
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
    where: AgentSessionWhere,
    context: CommandContext,
  ): Promise<string> {
    const remembered = this.known.get(agentSessionId);
    if (remembered !== undefined) return remembered;
    const running = this.pending.get(agentSessionId);
    if (running) return running;
    const resolution = this.findElseCreate(agentSessionId, where, context).finally(() => this.pending.delete(agentSessionId));
    this.pending.set(agentSessionId, resolution);
    return resolution;
  }

  private async findElseCreate(agentSessionId: string, where: AgentSessionWhere, context: CommandContext): Promise<string> {
    return (await this.find(agentSessionId)) ?? (await this.create(agentSessionId, where, context));
  }

  private async create(agentSessionId: string, where: AgentSessionWhere, context: CommandContext): Promise<string> {
    const project = where.project ?? (await this.projectForCwd(where.cwd));
    const at = new Date().toISOString();
    const sessionId = await this.sessions.allocateSessionId(project.projectId, 'worker', context);
    await this.sessions.decide(
      sessionId,
      () => [
        {
          type: 'StartSession',
          data: {
            sessionId, projectId: project.projectId, kind: 'worker', agent: 'external', branch: 'external', baseRef: 'external', at,
            ...(where.agent && where.agent !== 'claude-code' ? { observedAgent: where.agent } : {}), // unnamed means Claude Code
            ...(where.remote ? { remote: where.remote } : {}),
          },
        },
        { type: 'LinkAgentSession', data: { agentSessionId, at, ...(where.transcriptPath ? { transcriptPath: where.transcriptPath } : {}) } },
      ],
      context,
    );
    this.known.set(agentSessionId, sessionId);
    return sessionId;
  }
}
