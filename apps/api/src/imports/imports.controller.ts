import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsObject, IsString, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { CommandContext, ImportTranscriptCommand, ImportTranscriptResult } from '@runledger/application';
import { Ctx } from '../http/request-context';
import { ref } from '../openapi/schemas';
import { IsOptional, IsPlainText } from '../http/field-rules';

/** One sub-agent transcript of an import. */
export class SubagentTranscriptDto {
  @ApiProperty({ description: 'path of the sub-agent transcript file', minLength: 1, maxLength: 4096 })
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(4096)
  path!: string;

  @ApiProperty({ description: 'the parsed transcript: `{runs, toolCalls, skippedLines}` arrays', type: 'object', additionalProperties: true })
  @IsObject()
  transcript!: Record<string, unknown>;
}

/** Body of `POST /imports/claude-code`: a transcript parsed by `runledger import claude-code`. */
export class ImportClaudeCodeDto {
  @ApiPropertyOptional({ description: 'project to attach the session to', maxLength: 60 })
  @IsOptional() @IsString() @IsPlainText() @MaxLength(60)
  projectId?: string;

  @ApiProperty({ description: 'path of the transcript file', minLength: 1, maxLength: 4096 })
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(4096)
  transcriptPath!: string;

  @ApiProperty({ description: 'the parsed transcript: `{runs, toolCalls, skippedLines}` arrays', type: 'object', additionalProperties: true })
  @IsObject()
  transcript!: Record<string, unknown>;

  @ApiProperty({ type: () => [SubagentTranscriptDto] })
  @IsArray() @ValidateNested({ each: true }) @Type(() => SubagentTranscriptDto)
  subagents!: SubagentTranscriptDto[];
}

/** `POST /imports/claude-code`: import a Claude Code transcript into a session stream. */
@ApiTags('imports')
@ApiBearerAuth('bearer')
@Controller('imports')
export class ImportsController {
  constructor(private readonly commands: CommandBus) {}

  /** `{sessionId, toolCalls, completed, failed, skippedLines, subagentToolCalls, appended}`; a repeat appends nothing. */
  @Post('claude-code')
  @HttpCode(200)
  @ApiOkResponse({ description: 'what was imported (a repeat appends nothing)', schema: ref('ImportResult') })
  claudeCode(@Body() body: ImportClaudeCodeDto, @Ctx() context: CommandContext): Promise<ImportTranscriptResult> {
    return this.commands.execute(new ImportTranscriptCommand(body as never, { ...context, actor: 'import' }));
  }
}
