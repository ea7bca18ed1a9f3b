import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CODING_AGENTS, type CodingAgent } from '@runledger/domain';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsOptional, IsPlainText } from '../../http/field-rules';

/** Query of `POST /hooks/:agent`: `transport=command` asks for the answer a command hook prints as is. */
export class HookQuery {
  /** `command`: the body is what the command hook prints on stdout (text/plain; a WorktreeCreate answer is the bare path). */
  @ApiPropertyOptional({ enum: ['command'], description: 'command: answer with what a command hook prints on stdout (text/plain)' })
  @IsOptional() @IsIn(['command'])
  transport?: 'command';
}

/** Path of `POST /hooks/:agent` and `POST /imports/:agent`: the coding agent (`claude-code`, `codex`); 400 naming `agent` for another. */
export class AgentParams {
  @ApiProperty({ enum: CODING_AGENTS, description: 'the coding agent' })
  @IsIn(CODING_AGENTS)
  agent!: CodingAgent;
}

/** Query of `PUT /hooks/:agent/transcript`: whose transcript a shipped chunk belongs to and where it was read. */
export class ShipTranscriptQuery {
  /** The agent's own session id (Claude Code's `session_id`, Codex's thread id), as its hooks send it. */
  @ApiProperty({ description: "the agent's own session id, as its hooks send it (`session_id`)", maxLength: 200 })
  @IsString() @MinLength(1) @MaxLength(200) @IsPlainText()
  session_id!: string;

  /** The byte of the original transcript the body starts at. */
  @ApiProperty({ description: 'the byte of the original transcript the body starts at (0-based)', minimum: 0 })
  @Type(() => Number) @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  offset!: number;

  /** A sub-agent transcript file name (`agent-….jsonl`); absent: the main transcript. */
  @ApiPropertyOptional({ description: 'a sub-agent transcript file name (`agent-….jsonl`); default: the main transcript', maxLength: 255 })
  @IsOptional() @IsString() @MaxLength(255) @IsPlainText()
  subagent?: string;
}
