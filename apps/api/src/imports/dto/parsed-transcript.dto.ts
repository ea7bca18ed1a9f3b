import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsBoolean, IsIn, IsInt, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateBy, ValidateIf } from 'class-validator';
import type { ImportedTranscript } from '@runledger/application';
import type { ParsedModelCall, ParsedRun, ParsedToolCall, ParsedToolResult, SkippedLine } from '@runledger/infra/agents/claude-code/transcript-parser';
import { HasNoNul, IsOptional, IsPlainText, NestedArray, NestedObject } from '../../http/field-rules';

/** Longest id (run, call, agent session) and tool name an import accepts (characters). */
export const MAX_IMPORT_ID = 200;
/** Longest path (cwd, transcript path) an import accepts (characters). */
export const MAX_IMPORT_PATH = 4096;
/** Most runs, tool calls or skipped lines one parsed transcript may hold (items of each array). */
export const MAX_IMPORT_ITEMS = 100_000;
/** Longest prompt or failure text of a run an import accepts (characters). */
export const MAX_IMPORT_TEXT = 1_000_000;

/** An ISO-8601 date-time with a zone, as Claude Code writes its timestamps. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const ISO_MESSAGE = { message: '$property must be an ISO-8601 time' };

/** Present (any JSON value, null included), as a tool_use block's `input` always is. */
const IsPresent = (): PropertyDecorator =>
  ValidateBy({ name: 'isPresent', validator: { validate: (value: unknown) => value !== undefined, defaultMessage: (args) => `${args?.property ?? 'value'} is required` } });

/** A value that may be null but, when given, follows the rules after it. */
const NullableOptional = (): PropertyDecorator => ValidateIf((_, value) => value !== null && value !== undefined);

/** A tool's result as the transcript holds it (`runledger import` parses it on the client). */
export class ParsedToolResultDto implements ParsedToolResult {
  @ApiProperty({ enum: ['completed', 'failed'] })
  @IsIn(['completed', 'failed'])
  status!: 'completed' | 'failed';

  @ApiPropertyOptional({ description: 'the tool_result content as written' })
  @Allow()
  output!: unknown;

  @ApiPropertyOptional({ description: 'the structured result (toolUseResult)' })
  @Allow()
  structured?: unknown;

  @ApiProperty({ format: 'date-time', description: 'ISO-8601 time of the result line' })
  @Matches(ISO_TIME, ISO_MESSAGE)
  at!: string;


  @ApiProperty({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  line!: number;

  @ApiPropertyOptional({ type: 'integer', description: "a shell call's exit code, where the record names one (OpenCode bash, Gemini CLI)" })
  @IsOptional() @IsInt() @Min(-2147483648) @Max(2147483647)
  exitCode?: number;

  @ApiPropertyOptional({ description: "the tool's error text, where the record keeps it apart (Gemini CLI)", maxLength: 100_000 })
  @IsOptional() @IsString() @HasNoNul() @MaxLength(100_000)
  error?: string;
}

/** One tool call of the transcript with its result (null when the transcript has none). */
export class ParsedToolCallDto implements ParsedToolCall {
  @ApiProperty({ minLength: 1, maxLength: MAX_IMPORT_ID })
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(MAX_IMPORT_ID)
  callId!: string;

  @ApiProperty({ nullable: true, maxLength: MAX_IMPORT_ID })
  @NullableOptional() @IsString() @IsPlainText() @MinLength(1) @MaxLength(MAX_IMPORT_ID)
  runId!: string | null;

  @ApiProperty({ minLength: 1, maxLength: MAX_IMPORT_ID })
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(MAX_IMPORT_ID)
  tool!: string;

  @ApiProperty({ description: 'the tool_use input as written' })
  @IsPresent()
  input!: unknown;

  @ApiProperty({ format: 'date-time', description: 'ISO-8601 time of the tool_use line' })
  @Matches(ISO_TIME, ISO_MESSAGE)
  requestedAt!: string;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  line!: number;

  @ApiProperty({ type: () => ParsedToolResultDto, nullable: true })
  @NullableOptional() @NestedObject(() => ParsedToolResultDto)
  result!: ParsedToolResultDto | null;
}

/** One agent run: a prompt and the turn until it ended. */
export class ParsedRunDto implements ParsedRun {
  @ApiProperty({ minLength: 1, maxLength: MAX_IMPORT_ID })
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(MAX_IMPORT_ID)
  runId!: string;

  @ApiProperty({ maxLength: MAX_IMPORT_TEXT })
  @IsString() @HasNoNul() @MaxLength(MAX_IMPORT_TEXT)
  prompt!: string;

  @ApiProperty({ format: 'date-time', description: 'ISO-8601 time of the prompt line' })
  @Matches(ISO_TIME, ISO_MESSAGE)
  startedAt!: string;

  @ApiProperty({ nullable: true, format: 'date-time', description: 'ISO-8601 time the turn ended; null mid-turn' })
  @NullableOptional() @Matches(ISO_TIME, ISO_MESSAGE)
  endedAt!: string | null;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  line!: number;

  @ApiPropertyOptional({ description: 'the API error the turn ended on', maxLength: MAX_IMPORT_TEXT })
  @IsOptional() @IsString() @HasNoNul() @MaxLength(MAX_IMPORT_TEXT)
  failure?: string;
}

/** A line the client parser skipped. */
export class SkippedLineDto implements SkippedLine {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  line!: number;

  @ApiProperty({ enum: ['invalid_json', 'unknown_shape'] })
  @IsIn(['invalid_json', 'unknown_shape'])
  reason!: 'invalid_json' | 'unknown_shape';
}

/** A token count of a model call: a non-negative integer. */
const TokenCount = (): PropertyDecorator => applyDecorators(IsInt(), Min(0), Max(Number.MAX_SAFE_INTEGER));

/** One model call's usage as the transcript holds it (docs/ARCHITECTURE.md §4g). */
export class ParsedModelCallDto implements ParsedModelCall {
  @ApiProperty({ minLength: 1, maxLength: MAX_IMPORT_ID, description: "the call's own id (Claude Code message.id, Codex response_id)" })
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(MAX_IMPORT_ID)
  key!: string;

  @ApiProperty({ nullable: true, maxLength: MAX_IMPORT_ID })
  @NullableOptional() @IsString() @IsPlainText() @MinLength(1) @MaxLength(MAX_IMPORT_ID)
  model!: string | null;

  @ApiProperty({ nullable: true, maxLength: MAX_IMPORT_ID })
  @NullableOptional() @IsString() @IsPlainText() @MinLength(1) @MaxLength(MAX_IMPORT_ID)
  runId!: string | null;

  @ApiProperty({ type: 'integer', minimum: 0 }) @TokenCount() inputTokens!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) @TokenCount() outputTokens!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) @TokenCount() cacheReadTokens!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) @TokenCount() cacheCreationTokens!: number;

  @ApiProperty({ format: 'date-time', description: "ISO-8601 time of the call's first line" })
  @Matches(ISO_TIME, ISO_MESSAGE)
  at!: string;

  @ApiProperty()
  @IsBoolean()
  complete!: boolean;
}

/** A transcript parsed by `runledger import claude-code` (libs/infra/src/agents/claude-code/transcript-parser.ts). */
export class ParsedTranscriptDto implements ImportedTranscript {
  @ApiPropertyOptional({ nullable: true, maxLength: MAX_IMPORT_ID })
  @NullableOptional() @IsString() @IsPlainText() @MinLength(1) @MaxLength(MAX_IMPORT_ID)
  agentSessionId?: string | null;

  @ApiPropertyOptional({ nullable: true, maxLength: MAX_IMPORT_PATH })
  @NullableOptional() @IsString() @IsPlainText() @MinLength(1) @MaxLength(MAX_IMPORT_PATH)
  cwd?: string | null;

  @ApiProperty({ type: () => [ParsedRunDto], maxItems: MAX_IMPORT_ITEMS })
  @NestedArray(() => ParsedRunDto, MAX_IMPORT_ITEMS)
  runs!: ParsedRunDto[];

  @ApiProperty({ type: () => [ParsedToolCallDto], maxItems: MAX_IMPORT_ITEMS })
  @NestedArray(() => ParsedToolCallDto, MAX_IMPORT_ITEMS)
  toolCalls!: ParsedToolCallDto[];

  @ApiProperty({ type: () => [SkippedLineDto], maxItems: MAX_IMPORT_ITEMS })
  @NestedArray(() => SkippedLineDto, MAX_IMPORT_ITEMS)
  skippedLines!: SkippedLineDto[];

  @ApiPropertyOptional({ type: () => [ParsedModelCallDto], maxItems: MAX_IMPORT_ITEMS, description: 'usage per model call (absent: none recorded)' })
  @IsOptional() @NestedArray(() => ParsedModelCallDto, MAX_IMPORT_ITEMS)
  usage?: ParsedModelCallDto[];

  @ApiPropertyOptional({ type: 'integer', minimum: 0 })
  @IsOptional() @IsInt() @Min(0)
  lineCount?: number;

  @ApiPropertyOptional({ maxLength: MAX_IMPORT_PATH })
  @IsOptional() @IsString() @IsPlainText() @MaxLength(MAX_IMPORT_PATH)
  transcriptPath?: string;
}
