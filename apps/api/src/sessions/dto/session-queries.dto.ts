import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsOptional, HasNoNul } from '../../http/field-rules';

/** Filters of `GET /sessions`. */
export class ListSessionsQuery {
  @IsOptional() @IsString() @MaxLength(60)
  projectId?: string;

  @IsOptional() @IsIn(['starting', 'running', 'exited', 'interrupted', 'retiring', 'terminated'])
  status?: 'starting' | 'running' | 'exited' | 'interrupted' | 'retiring' | 'terminated';

  @IsOptional() @IsIn(['worker', 'orchestrator'])
  kind?: 'worker' | 'orchestrator';

  @IsOptional() @IsString() @MaxLength(200)
  agentSessionId?: string;
}

/** Largest page of `GET /sessions/:id/events`. */
export const MAX_EVENTS_PAGE = 1000;

/** `GET /sessions/:id/events?from=&limit=`: revisions from `from` (default 0), at most `limit` (default and max 1000). */
export class SessionEventsQuery {
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  from?: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_EVENTS_PAGE)
  limit?: number;
}

/** `GET /sessions/:id/state?at=N`: the revision to replay to (default: the head). */
export class SessionStateQuery {
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  at?: number;
}

/** Body of `POST /sessions/:id/kill` (optional). */
export class KillSessionDto {
  @IsOptional() @IsString() @HasNoNul() @MaxLength(500)
  reason?: string;
}

/** `POST /sessions/:id/resume` body: an optional new prompt (default: a short continuation prompt for a native resume, the original prompt for a fresh one). */
export class ResumeSessionDto {
  @IsOptional() @IsString() @HasNoNul() @MinLength(1) @MaxLength(100_000)
  prompt?: string;
}
