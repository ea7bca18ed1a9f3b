import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { CommandContext, ImportTranscriptCommand, ImportTranscriptResult } from '@runledger/application';
import { Ctx } from '../http/request-context';
import { ref } from '../openapi/schemas';
import { IsOptional, IsPlainText, NestedArray, NestedObject } from '../http/field-rules';
import { AgentParams } from '../hooks/dto/hook-query.dto';
import { MAX_IMPORT_PATH, ParsedTranscriptDto } from './dto/parsed-transcript.dto';

/** Most sub-agent transcripts one import may carry. */
export const MAX_IMPORT_SUBAGENTS = 10_000;

/** One sub-agent transcript of an import. */
export class SubagentTranscriptDto {
  @ApiProperty({ description: 'path of the sub-agent transcript file', minLength: 1, maxLength: MAX_IMPORT_PATH })
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(MAX_IMPORT_PATH)
  path!: string;

  @ApiProperty({ description: 'the parsed transcript', type: () => ParsedTranscriptDto })
  @NestedObject(() => ParsedTranscriptDto)
  transcript!: ParsedTranscriptDto;
}

/** Body of `POST /imports/:agent`: a transcript parsed by `runledger import <agent>`, validated field by field (400 naming e.g. `transcript.toolCalls[3].requestedAt`). */
export class ImportClaudeCodeDto {
  @ApiPropertyOptional({ description: 'project to attach the session to', maxLength: 60 })
  @IsOptional() @IsString() @IsPlainText() @MaxLength(60)
  projectId?: string;

  @ApiProperty({ description: 'path of the transcript file', minLength: 1, maxLength: MAX_IMPORT_PATH })
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(MAX_IMPORT_PATH)
  transcriptPath!: string;

  @ApiProperty({ description: 'the parsed transcript', type: () => ParsedTranscriptDto })
  @NestedObject(() => ParsedTranscriptDto)
  transcript!: ParsedTranscriptDto;

  @ApiProperty({ type: () => [SubagentTranscriptDto], maxItems: MAX_IMPORT_SUBAGENTS })
  @NestedArray(() => SubagentTranscriptDto, MAX_IMPORT_SUBAGENTS)
  subagents!: SubagentTranscriptDto[];
}

/** `POST /imports/:agent`: import a coding agent's transcript (Claude Code's, or a Codex rollout) into a session stream. */
@ApiTags('imports')
@ApiBearerAuth('bearer')
@Controller('imports')
export class ImportsController {
  constructor(private readonly commands: CommandBus) {}

  /** `{sessionId, toolCalls, completed, failed, skippedLines, subagentToolCalls, appended}`; a repeat appends nothing. */
  @Post(':agent')
  @HttpCode(200)
  // Waits for the projection: finding the agent session's runledger session and the project holding its cwd reads the read models (docs/ARCHITECTURE.md §5).
  @ApiOkResponse({ description: 'what was imported (a repeat appends nothing)', schema: ref('ImportResult') })
  importTranscript(@Param() params: AgentParams, @Body() body: ImportClaudeCodeDto, @Ctx() context: CommandContext): Promise<ImportTranscriptResult> {
    return this.commands.execute(new ImportTranscriptCommand({ ...body, agent: params.agent }, { ...context, via: 'import' }));
  }
}
