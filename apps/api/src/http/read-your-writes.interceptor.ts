import { CallHandler, ExecutionContext, Inject, Injectable, Logger, NestInterceptor, Optional, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PROJECTION_PROGRESS, ProjectionProgress } from '@runledger/application';
import { EventStore } from '@runledger/infra/event-store';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { defer, finalize, from, Observable, switchMap } from 'rxjs';

/** How long a write request waits for the in-process projection before answering anyway (ms). */
export const READ_YOUR_WRITES_TIMEOUT_MS = 5000;

/** Says of a request whether it may answer before the projection holds its write (true) or waits like any write (false). */
export type AnswersBeforeProjectionRule = (request: { body?: unknown }) => boolean;

const ANSWERS_BEFORE_PROJECTION = Symbol('answersBeforeProjection');

/**
 * Marks a write route whose answer reads nothing from the read models: it answers once its events are committed,
 * without waiting for the projection (`rule` may keep some of its requests waiting). The next request of this process
 * that is not so marked waits for the projection first, so a read after it still sees it.
 */
export const AnswersBeforeProjection = (rule: AnswersBeforeProjectionRule = () => true) => SetMetadata(ANSWERS_BEFORE_PROJECTION, rule);

/** The rule a route handler was marked with by AnswersBeforeProjection; undefined when the route waits like any write. */
export const answersBeforeProjectionRule = (handler: object, reflector: Reflector = new Reflector()): AnswersBeforeProjectionRule | undefined =>
  reflector.get<AnswersBeforeProjectionRule | undefined>(ANSWERS_BEFORE_PROJECTION, handler as never);

/**
 * Read-your-writes for the read models (docs/ARCHITECTURE.md §5, which lists the routes that answer at commit). After a
 * write (any non-GET request), waits until the in-process projection has caught up with the store's head, so a
 * following `GET` sees the write. A route marked AnswersBeforeProjection (a hook or a tool call, whose answer needs only
 * the commit) answers at once; every other request then first waits for the
 * projection to hold what such routes wrote before it started (one head read, skipped when none wrote since the last
 * wait). A process without the worker role (api only, on PostgreSQL) answers at once: its snapshots are eventually
 * consistent.
 */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  private readonly logger = new Logger('ReadYourWrites');
  /** Requests answered before the projection so far (counted when they end). */
  private answeredEarly = 0;
  /** The value of answeredEarly before the latest completed wait for the head: those writes are in the read models. */
  private settledUpTo = 0;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly reflector: Reflector,
    @Optional() @Inject(PROJECTION_PROGRESS) private readonly progress: ProjectionProgress | null,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.progress) return next.handle();
    const request = context.switchToHttp().getRequest<{ method: string; body?: unknown }>();
    const rule = answersBeforeProjectionRule(context.getHandler(), this.reflector);
    if (request.method !== 'GET' && rule?.(request)) return next.handle().pipe(finalize(() => (this.answeredEarly += 1)));
    const handled = this.answeredEarly > this.settledUpTo ? from(this.settle()).pipe(switchMap(() => next.handle())) : defer(() => next.handle());
    if (request.method === 'GET') return handled;
    return handled.pipe(switchMap((body) => from(this.settle().then(() => body))));
  }

  /** Waits (bounded) until the projection holds the store's head as read now; a timeout is logged, never thrown. */
  private async settle(): Promise<void> {
    const upTo = this.answeredEarly;
    try {
      await this.progress!.waitForPosition(await this.store.headPosition(), READ_YOUR_WRITES_TIMEOUT_MS);
      this.settledUpTo = Math.max(this.settledUpTo, upTo);
    } catch (error) {
      this.logger.warn(`projection did not catch up in time: ${(error as Error).message}`);
    }
  }
}
