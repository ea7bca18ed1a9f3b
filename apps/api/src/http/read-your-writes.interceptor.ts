import { CallHandler, ExecutionContext, Inject, Injectable, Logger, NestInterceptor, Optional } from '@nestjs/common';
import { PROJECTION_PROGRESS, ProjectionProgress } from '@runledger/application';
import { EventStore } from '@runledger/infra/event-store';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { from, Observable, switchMap } from 'rxjs';

/** How long a write request waits for the in-process projection before answering anyway (ms). */
export const READ_YOUR_WRITES_TIMEOUT_MS = 5000;

/**
 * After a write (any non-GET request), waits until the in-process projection has caught up with the store's head, so
 * a following `GET` sees the write. A process without the worker role (api only, on PostgreSQL) answers at once:
 * its snapshots are eventually consistent.
 */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  private readonly logger = new Logger('ReadYourWrites');
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Optional() @Inject(PROJECTION_PROGRESS) private readonly progress: ProjectionProgress | null,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const method = context.switchToHttp().getRequest<{ method: string }>().method;
    if (method === 'GET') return next.handle();
    return next.handle().pipe(switchMap((body) => from(this.settle().then(() => body))));
  }

  private async settle(): Promise<void> {
    if (!this.progress) return;
    try {
      await this.progress.waitForPosition(await this.store.headPosition(), READ_YOUR_WRITES_TIMEOUT_MS);
    } catch (error) {
      this.logger.warn(`projection did not catch up in time: ${(error as Error).message}`);
    }
  }
}
