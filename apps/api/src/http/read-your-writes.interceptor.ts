import { CallHandler, ExecutionContext, Inject, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { EventStore } from '@runledger/infra/event-store';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { from, Observable, switchMap } from 'rxjs';
import { ProjectionRunner } from '../../../worker/src/projections/projection-runner';

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
  private runner: ProjectionRunner | null | undefined;

  constructor(private readonly modules: ModuleRef, @Inject(EVENT_STORE) private readonly store: EventStore) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const method = context.switchToHttp().getRequest<{ method: string }>().method;
    if (method === 'GET') return next.handle();
    return next.handle().pipe(switchMap((body) => from(this.settle().then(() => body))));
  }

  private async settle(): Promise<void> {
    const runner = this.projectionRunner();
    if (!runner) return;
    try {
      await runner.waitForPosition(await this.store.headPosition(), READ_YOUR_WRITES_TIMEOUT_MS);
    } catch (error) {
      this.logger.warn(`projection did not catch up in time: ${(error as Error).message}`);
    }
  }

  private projectionRunner(): ProjectionRunner | null {
    if (this.runner === undefined) {
      try {
        this.runner = this.modules.get(ProjectionRunner, { strict: false });
      } catch {
        this.runner = null;
      }
    }
    return this.runner ?? null;
  }
}
