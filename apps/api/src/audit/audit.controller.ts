import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { SessionStreams, SessionTranscripts } from '@runledger/application';
import { sessionStreamName } from '@runledger/domain';
import { EventStore, VerifyResult } from '@runledger/infra/event-store';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { ref } from '../openapi/schemas';
import { IsOptional } from '../http/field-rules';

/** `GET /verify?sessionId=`: one session's stream, or every stream when absent. */
export class VerifyQuery {
  @ApiPropertyOptional({ description: 'one session (default: every stream)', maxLength: 100 })
  @IsOptional() @IsString() @MaxLength(100)
  sessionId?: string;
}

/** `GET /sessions/:id/transcript?subagent=`: the main transcript, or one sub-agent's by file name. */
export class TranscriptQuery {
  @ApiPropertyOptional({ description: 'a sub-agent transcript file name (`agent-….jsonl`); default: the main transcript', maxLength: 255 })
  @IsOptional() @IsString() @MaxLength(255)
  subagent?: string;
}

/** The audit trail's integrity: hash-chain verification and exports that can be verified offline. */
@ApiTags('audit')
@ApiBearerAuth('bearer')
@Controller()
export class AuditController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly sessions: SessionStreams,
    private readonly transcripts: SessionTranscripts,
  ) {}

  /** `{results: [{ok, streamId, events, brokenAt?, reason?}]}`; 404 for an unknown session. */
  @Get('verify')
  @ApiOkResponse({ description: 'one result per stream', schema: ref('VerifyResults') })
  async verify(@Query() query: VerifyQuery): Promise<{ results: VerifyResult[] }> {
    if (query.sessionId) {
      await this.sessions.load(query.sessionId); // 404
      return { results: [await this.store.verifyStream(sessionStreamName(query.sessionId))] };
    }
    const results: VerifyResult[] = [];
    for await (const stream of this.store.listStreams()) results.push(await this.store.verifyStream(stream));
    return { results };
  }

  /**
   * The session's full audit trail as JSON lines (`application/x-ndjson`): `{streamId, revision, globalPosition,
   * eventId, type, dataText, metadataText, hash, prevHash}`, the exact text the hash chain covers.
   */
  @Get('sessions/:id/export')
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({
    description: 'one JSON object per line: `{streamId, revision, globalPosition, eventId, type, dataText, metadataText, hash, prevHash}`',
    content: { 'application/x-ndjson': { schema: { type: 'string' } } },
  })
  async export(@Param('id') id: string, @Res() response: { setHeader(k: string, v: string): void; write(s: string): boolean; end(): void }): Promise<void> {
    await this.sessions.load(id); // 404 before any byte is written
    response.setHeader('content-type', 'application/x-ndjson; charset=utf-8');
    for await (const link of this.store.readStreamLinks(sessionStreamName(id))) response.write(`${JSON.stringify(link)}\n`);
    response.end();
  }

  /**
   * Every stream's audit trail as JSON lines (`application/x-ndjson`), stream by stream (in stream id order), each from
   * revision 0: the same records as `GET /sessions/:id/export`; what `runledger export --all` reads and signs.
   */
  @Get('export')
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({
    description: 'one JSON object per line, grouped by stream: `{streamId, revision, globalPosition, eventId, type, dataText, metadataText, hash, prevHash}`',
    content: { 'application/x-ndjson': { schema: { type: 'string' } } },
  })
  async exportAll(@Res() response: { setHeader(k: string, v: string): void; write(s: string): boolean; end(): void }): Promise<void> {
    response.setHeader('content-type', 'application/x-ndjson; charset=utf-8');
    for await (const stream of this.store.listStreams()) {
      for await (const link of this.store.readStreamLinks(stream)) response.write(`${JSON.stringify(link)}\n`);
    }
    response.end();
  }

  /**
   * The session's Claude Code transcript byte for byte, from runledger's archive (docs/ARCHITECTURE.md §4a): there even
   * after Claude Code deleted the original. 404 TRANSCRIPT.NOT_FOUND when none was linked or archived.
   */
  @Get('sessions/:id/transcript')
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'the transcript JSONL, exactly as Claude Code wrote it', content: { 'application/x-ndjson': { schema: { type: 'string' } } } })
  async transcript(@Param('id') id: string, @Query() query: TranscriptQuery, @Res() response: Writable & { setHeader(k: string, v: string): void }): Promise<void> {
    const { file } = await this.transcripts.archived(id, query.subagent); // 404 / 400 before any byte is written
    response.setHeader('content-type', 'application/x-ndjson');
    await pipeline(createReadStream(file), response);
  }
}
