import { randomUUID } from 'node:crypto';
import { Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EVENT_STORE, SQL_DATABASE } from '@runledger/infra/tokens';
import { ProjectionRunner, ProjectionTimeoutError } from '../../apps/worker/src/projections/projection-runner';
import { describeEachEngine } from '../support/stores';
import { appendScenario, DecidedStreams, dumpReadModels, projectionSuite, TestClock } from './scenario';

Logger.overrideLogger(['error']);

describeEachEngine('ProjectionRunner', (engine) => {
  const { db, store, readModels, newRunner } = projectionSuite(engine);
  let runner: ProjectionRunner;

  it('catches up from its checkpoint on start, then follows the log live and waits on its progress (no sleeps)', async () => {
    const ids = await appendScenario(store());
    runner = newRunner();
    await runner.start();
    await runner.caughtUp();
    await runner.catchUp(10_000);
    expect(await runner.lag()).toBe(0);
    expect((await readModels().getSession(ids.worker))?.status).toBe('terminated');
    expect(await readModels().checkpoint()).toEqual(runner.position());

    const clock = new TestClock();
    const w = new DecidedStreams(store());
    const sessionId = `live-${randomUUID().slice(0, 8)}`;
    const [position] = await w.session(sessionId, {
      type: 'StartSession',
      data: { sessionId, projectId: ids.projectId, kind: 'worker', agent: 'command', command: ['true'], branch: 'b', baseRef: 'main', at: clock.at() },
    });
    await runner.waitForPosition(position, 10_000);
    expect(await readModels().getSession(sessionId)).toMatchObject({ id: sessionId, status: 'starting', revision: 0 });

    const positions = await w.session(sessionId, { type: 'KillSession', data: { reason: 'done', freed: true, at: clock.at() } });
    await runner.waitForPosition(positions[positions.length - 1], 10_000);
    expect(await readModels().getSession(sessionId)).toMatchObject({ status: 'terminated', revision: 1 });
    expect(await runner.lag()).toBe(0);
    expect(runner.position().globalPosition).toBeGreaterThanOrEqual(positions[0]);
  });

  it('rejects waitForPosition with a clear error on timeout, and resolves at once for position 0', async () => {
    runner = newRunner();
    await runner.start();
    await expect(runner.waitForPosition(Number.MAX_SAFE_INTEGER - 1, 50)).rejects.toBeInstanceOf(ProjectionTimeoutError);
    await expect(runner.waitForPosition(Number.MAX_SAFE_INTEGER - 1, 50)).rejects.toThrow(/did not reach global position \d+ within 50 ms/);
    await expect(runner.waitForPosition(0, 1)).resolves.toBeUndefined();
  });

  it('reports lag while stopped and rebuilds to exactly the live rows, then resumes the live subscription', async () => {
    runner = newRunner();
    await runner.start();
    await runner.catchUp(10_000);
    await runner.stop();
    const ids = await appendScenario(store());
    expect(await runner.lag()).toBeGreaterThan(10);
    await runner.start();
    await runner.catchUp(10_000);
    expect(await runner.lag()).toBe(0);
    const live = await dumpReadModels(db());
    expect(live.rl_rm_sessions.some((row) => row.includes(ids.orchestrator))).toBe(true);

    const progress: [number, number][] = [];
    const result = await runner.rebuild((done, total) => progress.push([done, total]));
    expect(result.events).toBeGreaterThan(0);
    expect(progress[progress.length - 1][0]).toBe(result.events);
    await runner.catchUp(10_000); // the live subscription is back
    expect(await dumpReadModels(db())).toEqual(live);

    const lateId = `late-${randomUUID().slice(0, 8)}`;
    const [after] = await new DecidedStreams(store()).project(lateId, {
      type: 'RegisterProject',
      data: { projectId: lateId, name: 'Late', kind: 'single-repo', repos: [{ name: 'r', path: '/r' }], sessionPrefix: 'late', at: new TestClock().at() },
    });
    await runner.waitForPosition(after, 10_000);
    expect((await readModels().listProjects()).map((p) => p.id)).toContain(lateId);
  });

  it('refuses a second rebuild while one runs', async () => {
    runner = newRunner();
    const first = runner.rebuild();
    await expect(runner.rebuild()).rejects.toThrow('already running');
    await first;
  });

  it('starts on application bootstrap and stops on shutdown as a Nest provider', async () => {
    @Module({
      providers: [{ provide: SQL_DATABASE, useValue: db() }, { provide: EVENT_STORE, useValue: store() }, ProjectionRunner],
    })
    class HostModule {}
    const app = await Test.createTestingModule({ imports: [HostModule] }).compile();
    await app.init(); // onApplicationBootstrap: starts the subscription
    const hosted = app.get(ProjectionRunner);
    await hosted.caughtUp();
    const sessionId = `nest-${randomUUID().slice(0, 8)}`;
    const [position] = await new DecidedStreams(store()).session(sessionId, {
      type: 'StartSession',
      data: { sessionId, projectId: 'p', kind: 'worker', agent: 'external', branch: 'b', baseRef: 'main', at: new TestClock().at() },
    });
    await hosted.waitForPosition(position, 10_000);
    expect((await readModels().getSession(sessionId))?.id).toBe(sessionId);
    await app.close(); // beforeApplicationShutdown/onApplicationShutdown: stops it
    const stopped = await new DecidedStreams(store()).session(`${sessionId}-b`, {
      type: 'StartSession',
      data: { sessionId: `${sessionId}-b`, projectId: 'p', kind: 'worker', agent: 'external', branch: 'b', baseRef: 'main', at: new TestClock().at() },
    });
    expect(stopped).toHaveLength(1);
    expect(await readModels().getSession(`${sessionId}-b`)).toBeNull();
  });
});
