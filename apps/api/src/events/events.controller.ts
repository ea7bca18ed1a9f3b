import { Controller, Get, Headers, Inject, OnModuleDestroy, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiProduces, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { UserTokens } from '@runledger/infra/auth/user-tokens';
import { EventStore, RecordedEvent } from '@runledger/infra/event-store';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { IsOptional } from '../http/field-rules';
import { Principal } from '../http/principal';
import { LIVE_TAIL_BACKSTOP_POLL_MS, LiveTailHub } from './live-tail-hub';

/** Largest page of `GET /events`. */
export const MAX_FEED_PAGE = 1000;
/** Interval of SSE keep-alive comments (ms), so proxies keep the connection open. */
export const SSE_HEARTBEAT_MS = 15_000;

/** `GET /events?from=&limit=`: events after global position `from` (default 0), at most `limit`. */
export class FeedQuery {
  @ApiPropertyOptional({ description: 'global position to start after (default 0)', minimum: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  from?: number;

  @ApiPropertyOptional({ description: `page size (default and max ${MAX_FEED_PAGE}); ignored when streaming`, minimum: 1, maximum: MAX_FEED_PAGE })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_FEED_PAGE)
  limit?: number;
}

/** One event of the global feed. */
export interface FeedEvent {
  globalPosition: number;
  streamId: string;
  revision: number;
  eventId: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  hash: string;
}

const feedEvent = (e: RecordedEvent): FeedEvent => ({
  globalPosition: e.globalPosition, streamId: e.streamId, revision: e.revision, eventId: e.eventId,
  type: e.type, data: e.data, metadata: e.metadata, hash: e.hash,
});

/** The request of a live tail: its close, and who it was authenticated as. */
interface TailRequest {
  on(event: 'close', listener: () => void): void;
  principal?: Principal;
}

interface SseResponse {
  status(code: number): { json(body: unknown): void };
  setHeader(name: string, value: string): void;
  flushHeaders(): void;
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): void;
  end(): void;
}

/**
 * `GET /events`: the global log (docs/ARCHITECTURE.md §5). As JSON, a page `{events, next}` to pass back as `from`. With
 * `Accept: text/event-stream` it tails the log live: catch-up from `from` (or `Last-Event-ID`), then every event as its
 * transaction commits, in the gap-safe order of the subscription (invariant 9), `id:` being the global position.
 * Idle tails cost nothing each: one watcher (LiveTailHub) wakes them; past RUNLEDGER_MAX_LIVE_TAILS a tail gets 503.
 */
@ApiTags('events')
@ApiBearerAuth('bearer')
@Controller('events')
export class EventsController implements OnModuleDestroy {
  /** Closers of the live tails being served: a graceful shutdown ends them, else the HTTP server would wait on them forever. */
  private readonly liveTails = new Set<() => Promise<void>>();

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore, private readonly hub: LiveTailHub, private readonly users: UserTokens) {}

  /** Ends every live tail (its client reconnects with Last-Event-ID to the next server) so the shutdown can complete. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.liveTails].map((close) => close()));
  }

  @Get()
  @ApiProduces('application/json', 'text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'resume a live tail after this global position' })
  @ApiOkResponse({
    description: 'JSON: `{events: [{globalPosition, streamId, revision, eventId, type, data, metadata, hash}], next}`; ' +
      'text/event-stream: one `id:` (global position) / `event:` (type) / `data:` (the event as JSON) frame per event, live',
    content: {
      'application/json': { schema: { type: 'object', properties: { events: { type: 'array', items: { type: 'object' } }, next: { type: 'integer' } } } },
      'text/event-stream': { schema: { type: 'string' } },
    },
  })
  async feed(
    @Query() query: FeedQuery,
    @Headers('accept') accept: string | undefined,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: TailRequest,
    @Res() response: SseResponse,
  ): Promise<void> {
    const from = lastEventId && /^\d+$/.test(lastEventId) ? Number(lastEventId) : (query.from ?? 0);
    if (accept?.includes('text/event-stream')) return this.tail(from, request, response);
    const events: FeedEvent[] = [];
    for await (const e of this.store.readAll({ fromPosition: from, maxCount: query.limit ?? MAX_FEED_PAGE })) events.push(feedEvent(e));
    response.status(200).json({ events, next: events.length ? events[events.length - 1].globalPosition : from });
  }

  /** False once the person a tail was opened for no longer holds that token (revoked, or revoked and added again). */
  private async stillHeld(principal: Principal | undefined): Promise<boolean> {
    if (principal?.kind !== 'user') return true;
    return (await this.users.active(principal.name))?.revision === principal.revision;
  }

  private async tail(from: number, request: TailRequest, response: SseResponse): Promise<void> {
    // Refusals (too many tails, the store away) before the stream starts, so they leave in the error shape.
    const release = this.hub.admit();
    let start;
    try {
      start = await this.store.checkpointAfter(from);
    } catch (error) {
      release();
      throw error;
    }
    response.setHeader('content-type', 'text/event-stream; charset=utf-8');
    response.setHeader('cache-control', 'no-cache, no-transform');
    response.setHeader('connection', 'keep-alive');
    response.setHeader('x-accel-buffering', 'no');
    response.flushHeaders();
    response.write(': runledger live feed\n\n');
    const send = async (chunk: string) => {
      if (!response.write(chunk)) await new Promise<void>((resolve) => response.once('drain', resolve));
    };
    const subscription = this.store.subscribeToAll({
      from: start,
      onEvents: async (events) => {
        // A person's tail ends with their token (docs/ARCHITECTURE.md §8): checked before each batch is sent.
        if (!(await this.stillHeld(request.principal))) return void close();
        for (const e of events) await send(`id: ${e.globalPosition}\nevent: ${e.type}\ndata: ${JSON.stringify(feedEvent(e))}\n\n`);
      },
      // Woken by the hub's one watcher of the log, not by a poll or a LISTEN connection of its own.
      wakeOn: this.hub.wakeOn,
      pollIntervalMs: LIVE_TAIL_BACKSTOP_POLL_MS,
    });
    const heartbeat = setInterval(() => {
      response.write(': keep-alive\n\n');
      void this.stillHeld(request.principal).then((held) => {
        if (!held) void close();
      }, () => undefined);
    }, SSE_HEARTBEAT_MS);
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        clearInterval(heartbeat);
        this.liveTails.delete(close);
        release();
        await subscription.stop().catch(() => undefined);
        response.end();
      })());
    this.liveTails.add(close);
    request.on('close', () => void close());
  }
}
