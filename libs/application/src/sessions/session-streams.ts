import { Injectable } from '@nestjs/common';
import {
  decideProject,
  ProjectCommand,
  projectDecider,
  ProjectEvent,
  projectNotFound,
  ProjectState,
  projectStreamName,
  RegisteredProject,
  Session,
  SessionCommand,
  SessionKind,
  sessionDecider,
  SessionEvent,
  sessionNotFound,
  SessionState,
  sessionStreamName,
} from '@runledger/domain';
import { CommandContext } from '../event-sourcing/command-context';
import { Decided, DeciderStreams } from '../event-sourcing/decider-streams';

/** The warning recorded, never fatal, for a worktree whose repository was removed from its project. */
export const repoLeftProject = (repo: string, at: string): SessionCommand => ({
  type: 'RecordWorktreeSkipped',
  data: { repo, reason: 'repository no longer in the project', at },
});

/** Runs several session commands in order on an evolving state; the first refusal throws and nothing is appended. */
export const decideAll = (state: SessionState, commands: SessionCommand[]): SessionEvent[] => {
  const events: SessionEvent[] = [];
  let current = state;
  for (const command of commands) {
    const produced = sessionDecider.decide(command, current);
    events.push(...produced);
    current = produced.reduce(sessionDecider.evolve, current);
  }
  return events;
};

/** Session and project streams through their deciders: load (404 when absent) and decide-and-append. */
@Injectable()
export class SessionStreams {
  constructor(private readonly streams: DeciderStreams) {}

  /** The session's state at its head (or at revision `at`) and revision; throws SESSION.NOT_FOUND (404, naming `field` when given). */
  async load(sessionId: string, at?: number, field?: string): Promise<{ state: Session; revision: number }> {
    const { state, revision } = await this.streams.load(sessionStreamName(sessionId), sessionDecider, at);
    if (state.status === 'none') throw sessionNotFound(sessionId, field);
    return { state, revision };
  }

  /** The states of several sessions read in one pass (sessions that do not exist are left out); see DeciderStreams.loadMany. */
  async loadMany(sessionIds: readonly string[]): Promise<Map<string, { state: Session; revision: number }>> {
    const folds = await this.streams.loadMany(sessionIds.map(sessionStreamName), sessionDecider);
    const out = new Map<string, { state: Session; revision: number }>();
    for (const id of sessionIds) {
      const fold = folds.get(sessionStreamName(id));
      if (fold && fold.state.status !== 'none') out.set(id, { state: fold.state, revision: fold.revision });
    }
    return out;
  }

  /**
   * The states of several sessions, as loadMany gives them, from a snapshot load (loadSessionSnapshots): the states it
   * vouches for (read-model rows at their stream's head) kept as the streams' folds (DeciderStreams.prime), the sessions
   * of its `fallbacks` folded from the log in one pass (loadMany). Sessions that do not exist are left out.
   */
  async loadManyFrom(load: {
    snapshots: ReadonlyMap<string, { state: Session; revision: number }>;
    fallbacks: ReadonlyMap<string, unknown>;
  }): Promise<Map<string, { state: Session; revision: number }>> {
    const out = load.fallbacks.size === 0 ? new Map<string, { state: Session; revision: number }>() : await this.loadMany([...load.fallbacks.keys()]);
    for (const [id, { state, revision }] of load.snapshots) {
      this.streams.prime(sessionStreamName(id), sessionDecider, state, revision);
      out.set(id, { state, revision });
    }
    return out;
  }

  /**
   * The session as this process last folded it, without reading the store when it holds one: for its project, kind
   * and existence, which later events never change (decisions re-check on fresh state). Throws SESSION.NOT_FOUND (404).
   */
  async known(sessionId: string): Promise<{ state: Session; revision: number }> {
    const { state, revision } = await this.streams.known(sessionStreamName(sessionId), sessionDecider);
    if (state.status === 'none') throw sessionNotFound(sessionId);
    return { state, revision };
  }

  /** The registered project; throws PROJECT.NOT_FOUND (404) naming `field`. */
  async project(projectId: string, field = 'projectId'): Promise<{ state: RegisteredProject; revision: number }> {
    const { state, revision } = await this.streams.load(projectStreamName(projectId), projectDecider);
    if (state.status === 'none') throw projectNotFound(projectId, field);
    return { state, revision };
  }

  /**
   * The project as this process last folded it, without reading the store when it holds one: for what later events
   * never add to (its legacy env values only shrink). Throws PROJECT.NOT_FOUND (404) naming `field`.
   */
  async knownProject(projectId: string, field = 'projectId'): Promise<RegisteredProject> {
    const { state } = await this.streams.known(projectStreamName(projectId), projectDecider);
    if (state.status === 'none') throw projectNotFound(projectId, field);
    return state;
  }

  /** Allocates the project's next session id `<prefix>-<n>` in its stream (never reused, docs/ARCHITECTURE.md §2); throws PROJECT.NOT_FOUND. */
  async allocateSessionId(projectId: string, kind: SessionKind, context: CommandContext): Promise<string> {
    const at = new Date().toISOString();
    const allocated = await this.streams.handle(
      projectStreamName(projectId),
      projectDecider,
      (state) => decideProject({ type: 'AllocateSessionId', data: { kind, at } }, state),
      context,
    );
    return (allocated.events[0] as { data: { sessionId: string } }).data.sessionId;
  }

  /** Decides one project command on the project's fresh state and appends its events (invariant 2); throws the decider's errors. */
  decideProject(projectId: string, command: (state: ProjectState) => ProjectCommand | null, context: CommandContext): Promise<Decided<ProjectState, ProjectEvent>> {
    return this.streams.handle(projectStreamName(projectId), projectDecider, (state) => {
      const c = command(state);
      return c === null ? [] : decideProject(c, state);
    }, context);
  }

  /** Decides `commands` (in order) on the session's fresh state and appends the events; conflicts re-decide (invariant 2). */
  decide(sessionId: string, commands: (state: SessionState) => SessionCommand[], context: CommandContext): Promise<Decided<SessionState, SessionEvent>> {
    return this.streams.handle(sessionStreamName(sessionId), sessionDecider, (state) => decideAll(state, commands(state)), context);
  }
}
