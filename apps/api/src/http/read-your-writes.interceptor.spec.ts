import { CallHandler, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ProjectionProgress } from '@runledger/application';
import type { EventStore } from '@runledger/infra/event-store';
import { firstValueFrom, of } from 'rxjs';
import { AnswersBeforeProjection, ReadYourWritesInterceptor } from './read-your-writes.interceptor';

/** A projection that reaches a position only when the test says so. */
const heldProjection = () => {
  const waits: { position: number; release: () => void }[] = [];
  const progress = {
    waitForPosition: (position: number) => new Promise<void>((release) => waits.push({ position, release })),
    lag: async () => 0,
    rebuild: async () => ({ events: 0, ms: 0 }),
  } as ProjectionProgress;
  return { progress, waits };
};

const marked = { hook: () => undefined, plain: () => undefined };
AnswersBeforeProjection((request) => (request.body as { event?: string }).event !== 'Reads')(marked, 'hook', Object.getOwnPropertyDescriptor(marked, 'hook')!);

const contextFor = (handler: () => void, method: string, body: unknown = {}): ExecutionContext =>
  ({ switchToHttp: () => ({ getRequest: () => ({ method, body }) }), getHandler: () => handler }) as unknown as ExecutionContext;

/** A route handler that records when it ran. */
const handlerLog = (log: string[], name: string): CallHandler => ({ handle: () => (log.push(name), of(name)) });

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('ReadYourWritesInterceptor', () => {
  let head: number;
  const store = { headPosition: async () => head } as unknown as EventStore;

  beforeEach(() => (head = 7));

  it('answers a marked write without waiting for the projection, and makes the next unmarked request wait for the head first', async () => {
    const { progress, waits } = heldProjection();
    const interceptor = new ReadYourWritesInterceptor(store, new Reflector(), progress);
    const log: string[] = [];

    await expect(firstValueFrom(interceptor.intercept(contextFor(marked.hook, 'POST'), handlerLog(log, 'hook')))).resolves.toBe('hook');
    expect(waits).toHaveLength(0);

    const read = firstValueFrom(interceptor.intercept(contextFor(marked.plain, 'GET'), handlerLog(log, 'read')));
    await flush();
    expect(log).toEqual(['hook']); // the read has not run: it waits for the projection
    expect(waits.map((w) => w.position)).toEqual([7]);
    waits[0].release();
    await expect(read).resolves.toBe('read');

    // Caught up, nothing marked since: the next read runs at once.
    await expect(firstValueFrom(interceptor.intercept(contextFor(marked.plain, 'GET'), handlerLog(log, 'read2')))).resolves.toBe('read2');
    expect(waits).toHaveLength(1);
  });

  it('keeps a marked route waiting for the requests its rule excludes, and every unmarked write waiting after it runs', async () => {
    const { progress, waits } = heldProjection();
    const interceptor = new ReadYourWritesInterceptor(store, new Reflector(), progress);
    const log: string[] = [];

    const excluded = firstValueFrom(interceptor.intercept(contextFor(marked.hook, 'POST', { event: 'Reads' }), handlerLog(log, 'excluded')));
    await flush();
    expect(log).toEqual(['excluded']);
    expect(waits).toHaveLength(1); // ran, now waits for the head before answering
    waits[0].release();
    await expect(excluded).resolves.toBe('excluded');

    const write = firstValueFrom(interceptor.intercept(contextFor(marked.plain, 'POST'), handlerLog(log, 'write')));
    await flush();
    expect(waits).toHaveLength(2);
    waits[1].release();
    await expect(write).resolves.toBe('write');
  });
});
