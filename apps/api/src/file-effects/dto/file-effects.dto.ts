import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { HasNoNul, IsOptional } from '../../http/field-rules';

/** `GET /sessions/:id/diff?from=N&to=M`: the revisions to compare (`to` defaults to the head). */
export class RangeDiffQuery {
  @Type(() => Number) @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  from!: number;

  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  to?: number;
}

/** `GET /sessions/:id/files?at=N[&path=P]`: the revision (default the head), and a path (a folder lists it, a file answers its bytes). */
export class FilesQuery {
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  at?: number;

  @IsOptional() @IsString() @HasNoNul() @MinLength(1) @MaxLength(4096)
  path?: string;
}

/** Body of `POST /sessions/:id/rewind` and `POST /sessions/:id/fork`: the call, and the state before or after it. */
export class CallStateDto {
  @IsString() @HasNoNul() @MinLength(1) @MaxLength(200)
  callId!: string;

  @IsIn(['before', 'after'])
  phase!: 'before' | 'after';
}

/** Body of `POST /sessions/:id/fork`: the call state, and the prompt the forked agent starts with (default: its original prompt). */
export class ForkSessionDto extends CallStateDto {
  @IsOptional() @IsString() @HasNoNul() @MinLength(1) @MaxLength(100_000)
  prompt?: string;
}

/** Body of `DELETE /sessions/:id/snapshots` (optional). */
export class PruneSnapshotsDto {
  @IsOptional() @IsString() @HasNoNul() @MaxLength(500)
  reason?: string;
}
