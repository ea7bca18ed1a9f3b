import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsInt, IsISO8601, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsOptional, IsPlainText, HasNoNul } from '../../http/field-rules';

const CALL_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** Body of `POST /sessions/:id/tool-calls` (docs/ARCHITECTURE.md §5). */
export class RequestToolCallDto {
  @IsOptional() @IsString() @Matches(CALL_ID, { message: 'callId must be letters, digits and . _ : -' }) @MaxLength(200)
  callId?: string;

  @IsString() @IsPlainText() @MinLength(1) @MaxLength(200)
  tool!: string;

  /** The tool's input as the agent (or caller) gave it; redacted before it is stored. */
  @IsDefined()
  input!: unknown;

  @IsIn(['observed', 'managed'])
  mode!: 'observed' | 'managed';

  @IsOptional() @IsString() @IsPlainText() @MaxLength(200)
  runId?: string;

  /** Declares the tool idempotent: an interrupted attempt may be re-dispatched automatically (docs/ARCHITECTURE.md §2). */
  @IsOptional() @IsBoolean()
  idempotent?: boolean;
}

/** Largest `timeoutMs` of `?wait=true` (ms). */
export const MAX_WAIT_MS = 300_000;

/** `?wait=true&timeoutMs=`: wait for a managed call's result up to the timeout (default 30 s). */
export class ToolCallWaitQuery {
  @IsOptional() @IsIn(['true', 'false'])
  wait?: 'true' | 'false';

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_WAIT_MS)
  timeoutMs?: number;
}

/** Body of `POST /sessions/:id/tool-calls/:callId/result`. */
export class ToolCallResultDto {
  @IsIn(['completed', 'failed'])
  status!: 'completed' | 'failed';

  @IsOptional()
  output?: unknown;

  @IsOptional() @IsInt()
  exitCode?: number;

  @IsOptional() @IsString() @HasNoNul() @MaxLength(100_000)
  error?: string;

  /** Which attempt this result belongs to (default: the current one); an interrupted attempt's result is recorded as late. */
  @IsOptional() @IsInt() @Min(1)
  attempt?: number;

  /** When the result happened at the agent, if earlier than its arrival (ISO-8601). */
  @IsOptional() @IsISO8601()
  occurredAt?: string;
}
