import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { IsOptional } from '../../http/field-rules';

/** Query of `POST /hooks/claude-code`: `transport=command` asks for the answer a command hook prints as is. */
export class HookQuery {
  /** `command`: the body is what the command hook prints on stdout (text/plain; a WorktreeCreate answer is the bare path). */
  @ApiPropertyOptional({ enum: ['command'], description: 'command: answer with what a command hook prints on stdout (text/plain)' })
  @IsOptional() @IsIn(['command'])
  transport?: 'command';
}
