import { Body, Controller, ForbiddenException, Get, Headers, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  CleanupResult, CleanupSessionCommand, CommandContext, Idempotent, KillResult, KillSessionCommand, ReconcileResult, ReconcileSessionCommand,
  RestoreSessionCommand, ResumeSessionCommand, SessionCompletenessQuery, SessionCompletenessView, SessionStreams, SessionViews, SpawnSessionCommand,
} from '@runledger/application';
import { DomainError, SessionState, SessionView, sessionStreamName, toSessionView } from '@runledger/domain';
import { EventStore, RecordedEvent } from '@runledger/infra/event-store';
import { ReadModels } from '@runledger/infra/read-models';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { Ctx } from '../http/request-context';
import { ref } from '../openapi/schemas';
import { SpawnSessionDto } from './dto/spawn-session.dto';
import type { AuditEvent } from '@runledger/contracts';
import { CredentialSession, SessionScoped } from '../http/public.decorator';
import { AnswersBeforeProjection } from '../http/read-your-writes.interceptor';
import { KillSessionDto, ListSessionsQuery, ResumeSessionDto, MAX_EVENTS_PAGE, SessionEventsQuery, SessionStateQuery } from './dto/session-queries.dto';

const audit = (e: RecordedEvent): AuditEvent => ({
  revision: e.revision, globalPosition: e.globalPosition, type: e.type, data: e.data as AuditEvent['data'], metadata: e.metadata,
  hash: e.hash, prevHash: e.prevHash, eventId: e.eventId,
});

/**
 * A spawn authenticated by an orchestrator's credential: the new session belongs to the orchestrator's project and
 * records it as `parentSessionId`; 403 naming the field for another project or another parent.
 */
const withCredentialParent = (body: SpawnSessionDto, orchestrator: CredentialSession | undefined): SpawnSessionDto => {
  if (!orchestrator) return body;
  if (body.projectId !== orchestrator.projectId) {
    throw new ForbiddenException({ message: `${orchestrator.sessionId} may spawn only in its project ${orchestrator.projectId}`, details: { field: 'projectId' } });
  }
  if (body.parentSessionId !== undefined && body.parentSessionId !== orchestrator.sessionId) {
    throw new ForbiddenException({ message: `a session spawned with ${orchestrator.sessionId}'s credential has it as parent`, details: { field: 'parentSessionId' } });
  }
  return Object.assign(Object.create(Object.getPrototypeOf(body)) as SpawnSessionDto, body, { parentSessionId: orchestrator.sessionId });
};

/**
 * A spawn answers at commit (it reads the project's and the parent's streams and idempotency records, never a read
 * model), except an orchestrator's: the bearer guard reads an orchestrator's kind from its snapshot to let its
 * credential spawn, so that spawn waits for the projection (docs/ARCHITECTURE.md §5).
 */
export const spawnAnswersBeforeProjection = (request: { body?: unknown }): boolean =>
  (request.body as { kind?: unknown } | undefined)?.kind !== 'orchestrator';

/** `/sessions`: spawn, read, replay and drive the lifecycle of agent sessions (docs/ARCHITECTURE.md §5). */
@ApiTags('sessions')
@ApiBearerAuth('bearer')
@Controller('sessions')
export class SessionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly readModels: ReadModels,
    private readonly sessions: SessionStreams,
    private readonly views: SessionViews,
    private readonly idempotent: Idempotent,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly completeness: SessionCompletenessQuery,
  ) {}

  /** 201 with the session snapshot; a repeated `Idempotency-Key` returns the first result and spawns nothing. */
  @Post()
  @HttpCode(201)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'a repeat with the same key and body returns the first result' })
  @ApiCreatedResponse({ description: 'the session snapshot', schema: ref('Session') })
  @SessionScoped({ spawn: true })
  @AnswersBeforeProjection(spawnAnswersBeforeProjection)
  async spawn(
    @Body() body: SpawnSessionDto,
    @Ctx() context: CommandContext,
    @Req() request: { credentialSession?: CredentialSession },
    @Headers('idempotency-key') key?: string,
  ): Promise<SessionView> {
    const input = withCredentialParent(body, request.credentialSession);
    const { result } = await this.idempotent.run('POST /sessions', key, input, () => this.commands.execute<SpawnSessionCommand, SessionView>(new SpawnSessionCommand(input, context)));
    return result;
  }

  /** Snapshots, filtered by projectId, status, kind, agentSessionId. */
  @Get()
  @ApiOkResponse({ description: 'session snapshots', schema: ref('SessionList') })
  async list(@Query() query: ListSessionsQuery): Promise<{ sessions: SessionView[] }> {
    const sessions = await this.readModels.listSessions(query);
    const open = await this.readModels.openCallsSince(sessions.map((v) => v.id));
    return { sessions: sessions.map((v) => this.views.withLiveness(v, open.get(v.id))) };
  }

  /** The snapshot (projection) with its revision; 404 if unknown. */
  @Get(':id')
  @ApiOkResponse({ description: 'the session snapshot', schema: ref('Session') })
  async get(@Param('id') id: string): Promise<SessionView & { completeness: SessionCompletenessView }> {
    const snapshot = await this.readModels.getSession(id);
    // Which source (hooks, transcript, telemetry) saw which call: read from the stream and the transcript (docs/ARCHITECTURE.md §4g).
    if (snapshot) return { ...this.views.withLiveness(snapshot, (await this.readModels.openCallsSince([id])).get(id)), completeness: await this.completeness.of(id) };
    const { state, revision } = await this.sessions.load(id); // not projected yet: fold the stream (404 if none)
    return { ...this.views.fromState(state, revision), completeness: await this.completeness.of(id) };
  }

  /** The audit trail: events from revision `from`, at most `limit`, and the next revision to ask for. */
  @Get(':id/events')
  @ApiOkResponse({ description: 'a page of the session\'s audit trail', schema: ref('SessionEvents') })
  async events(@Param('id') id: string, @Query() query: SessionEventsQuery): Promise<{ events: AuditEvent[]; nextRevision: number }> {
    const from = query.from ?? 0;
    const events: AuditEvent[] = [];
    for await (const e of this.store.readStream(sessionStreamName(id), { fromRevision: from, maxCount: query.limit ?? MAX_EVENTS_PAGE })) events.push(audit(e));
    if (events.length === 0 && (await this.store.streamRevision(sessionStreamName(id))) === -1) await this.sessions.load(id); // 404
    return { events, nextRevision: events.length ? events[events.length - 1].revision + 1 : from };
  }

  /** The session's decider state replayed to revision `at` (default head), and its snapshot view (`runtime.alive` null). */
  @Get(':id/state')
  @ApiOkResponse({ description: 'the replayed state and its view', schema: ref('SessionState') })
  async state(
    @Param('id') id: string,
    @Query() query: SessionStateQuery,
  ): Promise<{ sessionId: string; revision: number; head: number; state: SessionState; view: SessionView }> {
    const head = await this.store.streamRevision(sessionStreamName(id));
    if (head === -1) await this.sessions.load(id); // 404
    if (query.at !== undefined && query.at > head) {
      throw new DomainError('SESSION.REVISION_OUT_OF_RANGE', 'invalid', `at=${query.at} is beyond the stream's head revision ${head}`, { field: 'at', head });
    }
    const { state, revision } = await this.sessions.load(id, query.at ?? head);
    return { sessionId: id, revision, head, state, view: toSessionView(state, revision) };
  }

  /** Stops the runtime, frees clean worktrees; `{freed: false}` when a dirty worktree was kept; 409 if terminated. */
  @Post(':id/kill')
  @HttpCode(200)
  // Waits for the projection: it terminates the session, and the bearer guard reads a revoked credential's session from its snapshot (docs/ARCHITECTURE.md §5).
  @ApiOkResponse({ description: '`freed` false when a dirty worktree was kept', schema: ref('KillResult') })
  kill(@Param('id') id: string, @Body() body: KillSessionDto, @Ctx() context: CommandContext): Promise<KillResult> {
    return this.commands.execute(new KillSessionCommand(id, body.reason ?? 'killed through the API', context));
  }

  /** Preserves uncommitted work to refs, then force-removes the worktrees. */
  @Post(':id/cleanup')
  @HttpCode(200)
  // Waits for the projection: it terminates the session, and the bearer guard reads a revoked credential's session from its snapshot (docs/ARCHITECTURE.md §5).
  @ApiOkResponse({ description: 'what was preserved, removed, stranded', schema: ref('CleanupResult') })
  cleanup(@Param('id') id: string, @Ctx() context: CommandContext): Promise<CleanupResult> {
    return this.commands.execute(new CleanupSessionCommand(id, context));
  }

  /** Recreates worktrees, replays preserved work and relaunches the runtime under the same id; 409 if not restorable. */
  @Post(':id/restore')
  @HttpCode(200)
  @AnswersBeforeProjection() // the session's stream, its transcript, leases and the runtime; the answer is its fold (docs/ARCHITECTURE.md §5)
  @ApiOkResponse({ description: 'the restored session', schema: ref('Session') })
  restore(@Param('id') id: string, @Ctx() context: CommandContext): Promise<SessionView> {
    return this.commands.execute(new RestoreSessionCommand(id, context));
  }

  /**
   * Continues an `exited` or `interrupted` agent under the same id: a Claude Code session resumes its own conversation
   * (`claude --resume`, `resumeMode: native`), others start fresh; 409 SESSION.NOT_RESUMABLE otherwise.
   */
  @Post(':id/resume')
  @HttpCode(200)
  @AnswersBeforeProjection() // the session's stream, its transcript, leases and the runtime; the answer is its fold (docs/ARCHITECTURE.md §5)
  @ApiOkResponse({ description: 'the resumed session (`resumeMode` says how)', schema: ref('Session') })
  resume(@Param('id') id: string, @Body() body: ResumeSessionDto, @Ctx() context: CommandContext): Promise<SessionView> {
    return this.commands.execute(new ResumeSessionCommand(id, context, body.prompt));
  }

  /** Makes the session's log equal its agent's transcript now and settles its runtime (never relaunches); reconciling twice appends nothing. */
  @Post(':id/reconcile')
  @HttpCode(200)
  @AnswersBeforeProjection() // the session's stream, its transcript, leases and the runtime; the answer is its fold (docs/ARCHITECTURE.md §5)
  @ApiOkResponse({ description: 'what the reconcile found and appended', schema: ref('ReconcileResult') })
  reconcile(@Param('id') id: string, @Ctx() context: CommandContext): Promise<ReconcileResult> {
    return this.commands.execute(new ReconcileSessionCommand(id, context));
  }
}
