import { BadRequestException, Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { SessionStreams } from '@runledger/application';
import { DEFAULT_PRICE_TABLE, SessionUsage, sessionUsage, UsageReport, usageReport } from '@runledger/domain';
import { SearchHit, UsageSearchQueries } from '@runledger/infra/read-models';
import { ref } from '../openapi/schemas';
import { MAX_SEARCH_PAGE, SearchQuery, UsageQuery } from './dto/usage-queries.dto';

/** Default page of `GET /search`. */
const SEARCH_PAGE = 20;

/** `since` as an ISO-8601 UTC time; 400 naming the field when it is no real date (e.g. February 30th). */
const sinceIso = (since: string | undefined): string | undefined => {
  if (since === undefined) return undefined;
  const time = Date.parse(since.length === 10 ? `${since}T00:00:00Z` : since);
  const iso = Number.isNaN(time) ? undefined : new Date(time).toISOString();
  if (iso === undefined || (since.length === 10 && iso.slice(0, 10) !== since)) {
    throw new BadRequestException({ message: 'since must be a real date or date-time', code: 'VALIDATION.INVALID', details: { field: 'since' } });
  }
  return iso;
};

/**
 * Usage (tokens and cost per run, session, project and day) and full-text search (docs/ARCHITECTURE.md §4g), read from
 * their read models in one query each; cost is priced when read, from the shipped price table and the project's own.
 */
@ApiTags('usage')
@ApiBearerAuth('bearer')
@Controller()
export class UsageController {
  constructor(private readonly queries: UsageSearchQueries, private readonly sessions: SessionStreams) {}

  /** A session's tokens and cost, sub-agents rolled in, then per model, run and sub-agent; 404 if unknown. */
  @Get('sessions/:id/usage')
  @ApiOkResponse({ description: "the session's usage", schema: ref('SessionUsage') })
  async sessionUsage(@Param('id') id: string): Promise<SessionUsage> {
    const stored = await this.queries.sessionUsage(id);
    if (stored) return sessionUsage(id, stored.rows, DEFAULT_PRICE_TABLE, stored.prices);
    await this.sessions.load(id); // 404 when there is no such session; else it is not projected yet: nothing counted
    return sessionUsage(id, [], DEFAULT_PRICE_TABLE);
  }

  /** Usage over sessions: all, or a project's, from `since` (UTC day) on, grouped per day (default), session or project. */
  @Get('usage')
  @ApiOkResponse({ description: 'usage totals and groups', schema: ref('UsageReport') })
  async usage(@Query() query: UsageQuery): Promise<UsageReport> {
    const since = sinceIso(query.since);
    const rows = await this.queries.usageRows({ ...(query.projectId ? { projectId: query.projectId } : {}), ...(since ? { sinceDay: since.slice(0, 10) } : {}) });
    const prices = await this.queries.projectPrices([...new Set(rows.map((r) => r.projectId))]);
    return usageReport(rows, query.groupBy ?? 'day', DEFAULT_PRICE_TABLE, prices);
  }

  /** Events whose prompt, tool input or output, divergence or file paths match `q`, newest first, a page at a time. */
  @Get('search')
  @ApiOkResponse({ description: 'hits, newest first', schema: ref('SearchResult') })
  async search(@Query() query: SearchQuery): Promise<{ hits: SearchHit[]; nextCursor?: number }> {
    const limit = Math.min(query.limit ?? SEARCH_PAGE, MAX_SEARCH_PAGE);
    const since = sinceIso(query.since);
    const hits = await this.queries.search({
      query: query.q,
      limit,
      ...(query.projectId ? { projectId: query.projectId } : {}),
      ...(since ? { since } : {}),
      ...(query.cursor ? { before: query.cursor } : {}),
    });
    return { hits, ...(hits.length === limit ? { nextCursor: hits[hits.length - 1].globalPosition } : {}) };
  }
}
