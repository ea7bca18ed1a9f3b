import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Matches, MaxLength } from 'class-validator';
import { IsOptional } from '../../http/field-rules';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Body of `POST /projects/:id/env/forget` (docs/ARCHITECTURE.md §4c): the env names to forget, every configured one when absent. */
export class ForgetEnvDto {
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(500) @IsString({ each: true }) @MaxLength(200, { each: true })
  @Matches(ENV_NAME, { each: true, message: 'names must be env variable names (letters, digits, _; not starting with a digit)' })
  names?: string[];
}
