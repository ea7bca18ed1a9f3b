import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsString, MaxLength, MinLength } from 'class-validator';
import { HasNoNul, IsOptional, IsPlainText } from '../../http/field-rules';

/** Body of `POST /projects/:id/orchestrator` (docs/ARCHITECTURE.md §5): ensure (`clean` false, the default) or replace (`clean` true). */
export class OrchestratorDto {
  @IsOptional() @IsBoolean()
  clean?: boolean;

  /** The agent of a new orchestrator (default: the project's orchestratorAgent, else claude-code). */
  @IsOptional() @IsString() @IsPlainText() @MinLength(1) @MaxLength(60)
  agent?: string;

  /** argv of a `command` orchestrator (no shell). */
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(200) @IsString({ each: true }) @HasNoNul({ each: true }) @MaxLength(65536, { each: true })
  command?: string[];

  @IsOptional() @IsString() @HasNoNul() @MaxLength(100_000)
  prompt?: string;
}
