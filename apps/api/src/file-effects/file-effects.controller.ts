import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CallDiff, CommandContext, FileEffects, FileListing, ForkSession, RangeDiff, RewindResult, SessionStreams } from '@runledger/application';
import { SessionView, sessionStreamName } from '@runledger/domain';
import { EventStore } from '@runledger/infra/event-store';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { RequiresAccess } from '../http/principal';
import { AnswersBeforeProjection } from '../http/read-your-writes.interceptor';
import { Ctx } from '../http/request-context';
import { ref } from '../openapi/schemas';
import { CallStateDto, FilesQuery, ForkSessionDto, PruneSnapshotsDto, RangeDiffQuery } from './dto/file-effects.dto';

/** `/sessions/:id/...` file effects (docs/ARCHITECTURE.md §4e, §5): what each call did to the files, the files at any revision, rewind and prune. */
@ApiTags('file-effects')
@ApiBearerAuth('bearer')
@Controller('sessions/:id')
export class FileEffectsController {
  constructor(
    private readonly fileEffects: FileEffects,
    private readonly forks: ForkSession,
    private readonly sessions: SessionStreams,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /** The files before and after the call, the changed paths with line counts, and the patch; 404 FILES.NOT_SNAPSHOTTED when no snapshot was taken around it. */
  @Get('tool-calls/:callId/diff')
  @ApiOkResponse({ description: 'what the call did to the files', schema: ref('FileDiff') })
  callDiff(@Param('id') id: string, @Param('callId') callId: string): Promise<CallDiff> {
    return this.fileEffects.callDiff(id, callId);
  }

  /** How the files changed from revision `from` to revision `to` (default the head). */
  @Get('diff')
  @ApiOkResponse({ description: 'the files\' change between two revisions', schema: ref('FileDiff') })
  async rangeDiff(@Param('id') id: string, @Query() query: RangeDiffQuery): Promise<RangeDiff> {
    return this.fileEffects.rangeDiff(id, query.from, query.to ?? (await this.head(id)));
  }

  /** The files at revision `at` (default the head): a listing (under `path` when it names a folder), or the bytes of the file `path` names. */
  @Get('files')
  @ApiOkResponse({ description: 'a listing, or one file\'s bytes (application/octet-stream)', schema: ref('FileListing') })
  @ApiProduces('application/json', 'application/octet-stream')
  async files(@Param('id') id: string, @Query() query: FilesQuery): Promise<FileListing | StreamableFile> {
    const at = query.at ?? (await this.head(id));
    const listing = await this.fileEffects.files(id, at, query.path);
    if (query.path === undefined || !listing.entries.some((entry) => entry.path === query.path && entry.type === 'blob')) return listing;
    return new StreamableFile(await this.fileEffects.file(id, at, query.path), { type: 'application/octet-stream' });
  }

  /** Puts the files back to their state before or after the call, keeping the current state on a ref; 409 FILES.CALL_IN_FLIGHT while the agent runs a call. */
  @Post('rewind')
  @HttpCode(200)
  @AnswersBeforeProjection() // reads the session's stream and its snapshot repository, never a read model; the answer is its fold (docs/ARCHITECTURE.md §5)
  @ApiOkResponse({ description: 'the ref holding the state the files had, and the session', schema: ref('RewindResult') })
  rewind(@Param('id') id: string, @Body() body: CallStateDto, @Ctx() context: CommandContext): Promise<RewindResult> {
    return this.fileEffects.rewind(id, body.callId, body.phase, context);
  }

  /**
   * 201 with a new session (new id, its own worktree) whose files are the state before or after the call; its agent
   * starts with `prompt`, and `forkedFrom.forkMode` says whether the conversation was forked too (`conversation`: a Claude
   * Code call, resumed from a copy of the transcript up to it, default prompt FORK_PROMPT; `files-only`: default the source's).
   */
  @Post('fork')
  @HttpCode(201)
  @AnswersBeforeProjection() // reads the session's stream and its snapshot repository, never a read model; the answer is its fold (docs/ARCHITECTURE.md §5)
  @ApiCreatedResponse({ description: 'the new session', schema: ref('Session') })
  fork(@Param('id') id: string, @Body() body: ForkSessionDto, @Ctx() context: CommandContext): Promise<SessionView> {
    return this.forks.fork(id, { callId: body.callId, phase: body.phase, ...(body.prompt !== undefined ? { prompt: body.prompt } : {}) }, context);
  }

  /** Deletes the session's file snapshots (an event records it; its diffs then answer 409 FILES.PRUNED). */
  @Delete('snapshots')
  @HttpCode(200)
  @RequiresAccess('admin') // it destroys evidence: a writer cannot prune (docs/ARCHITECTURE.md §8)
  @AnswersBeforeProjection() // reads the session's stream and its snapshot repository, never a read model; the answer is its fold (docs/ARCHITECTURE.md §5)
  @ApiOkResponse({ description: 'the session', schema: ref('Session') })
  prune(@Param('id') id: string, @Body() body: PruneSnapshotsDto, @Ctx() context: CommandContext): Promise<SessionView> {
    return this.fileEffects.prune(id, body?.reason ?? 'pruned through the API', context);
  }

  /** The session stream's head revision (404 when the session does not exist). */
  private async head(id: string): Promise<number> {
    const head = await this.store.streamRevision(sessionStreamName(id));
    if (head === -1) await this.sessions.load(id);
    return head;
  }
}
