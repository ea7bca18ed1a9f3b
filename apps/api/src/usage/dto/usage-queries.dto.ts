import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsOptional, IsPlainText } from '../../http/field-rules';

/** A UTC day `YYYY-MM-DD`, or an ISO-8601 date-time with a zone. */
const SINCE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const SINCE_MESSAGE = { message: 'since must be a date (YYYY-MM-DD) or an ISO-8601 date-time with a zone' };

/** Largest page of `GET /search`. */
export const MAX_SEARCH_PAGE = 100;

/** `GET /usage?projectId=&since=&groupBy=`: usage of a project (or all), from a day on, grouped per day, session or project. */
export class UsageQuery {
  @IsOptional() @IsString() @IsPlainText() @MaxLength(60)
  projectId?: string;

  @IsOptional() @IsString() @MaxLength(40) @Matches(SINCE, SINCE_MESSAGE)
  since?: string;

  @IsOptional() @IsIn(['day', 'session', 'project'])
  groupBy?: 'day' | 'session' | 'project';
}

/** `GET /search?q=&projectId=&since=&limit=&cursor=`: full-text search over the stored events, newest first. */
export class SearchQuery {
  @IsString() @IsPlainText() @MinLength(1) @MaxLength(500)
  q!: string;

  @IsOptional() @IsString() @IsPlainText() @MaxLength(60)
  projectId?: string;

  @IsOptional() @IsString() @MaxLength(40) @Matches(SINCE, SINCE_MESSAGE)
  since?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_SEARCH_PAGE)
  limit?: number;

  /** The previous page's `nextCursor` (a global position): hits older than it. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER)
  cursor?: number;
}
