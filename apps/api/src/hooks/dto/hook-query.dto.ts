import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CODING_AGENTS, type CodingAgent } from '@runledger/domain';
import { IsIn } from 'class-validator';
import { IsOptional } from '../../http/field-rules';

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
