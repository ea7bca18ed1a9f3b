import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { sessionStreamName } from '@runledger/domain';
import { EventStore } from '@runledger/infra/event-store';
import { findLaggingSnapshots, listDeadLetters } from '@runledger/infra/read-models';
import { ProjectionRunner } from '../../apps/worker/src/projections/projection-runner';
import { SystemStatusService, SystemStreamService } from '@runledger/application';
import { RunledgerConfig } from '@runledger/infra/config';
import { RunledgerMetrics } from '@runledger/infra/metrics';
import { GitSnapshotStore } from '@runledger/infra/file-snapshots';
import { statusLines } from '../../apps/cli/src/commands/status.command';
import { describeEachEngine } from '../support/stores';
import { DecidedStreams, dumpReadModels, listToolCalls, projectionSuite, TestClock } from './scenario';

Logger.overrideLogger(['fatal']);

/** A projection that cannot be wedged (invariant 8): NUL-safe rows, dead letters, rebuilds that swap or leave things be. */
describeEachEngine('read-model projection under hostile events', (engine) => {
  const { db, store, readModels, newRunner } = projectionSuite(engine);
  let runner: ProjectionRunner;

  const startSession = async (w: DecidedStreams, clock: TestClock): Promise<string> => {
    const sessionId = `h-${randomUUID().slice(0, 8)}`;
    await w.session(sessionId, {
      type: 'StartSession',
      data: { sessionId, projectId: 'p', kind: 'worker', agent: 'command', command: ['true'], branch: 'b', baseRef: 'main', at: clock.at() },
    });
    return sessionId;
  };

  const appendHostileHistory = async () => {
    const clock = new TestClock();
    const w = new DecidedStreams(store());
    const sessionId = await startSession(w, clock);
    // NUL in a tool name, a call id, an input key and value: valid events the log's json column keeps.
    await w.session(sessionId, {
      type: 'DispatchToolCall',
      data: { callId: 'call\u0000-1', tool: 'Ba\u0000sh', input: { 'k\u0000': 'v\u0000', lone: '\ud800' }, mode: 'observed', at: clock.at() },
    });
    // An agent session id over PostgreSQL's btree row limit (SQLSTATE 54000 on the indexed column): the write fails.
    await w.session(sessionId, { type: 'LinkAgentSession', data: { agentSessionId: randomBytes(12_000).toString('hex'), at: clock.at() } });
    // A malformed event the domain's evolve cannot fold (data null): the fold throws.
    const head = w.revision(sessionStreamName(sessionId));
    await store().appendToStream(sessionStreamName(sessionId), [{ eventId: randomUUID(), type: 'ToolCallCompleted', data: null, metadata: {} }], head);
    // Events after them, on the same stream (raw, the writer's revision moved) and on another stream.
    const after = await store().appendToStream(
      sessionStreamName(sessionId),
      [{ eventId: randomUUID(), type: 'SessionKilled', data: { reason: 'done', freed: true, at: clock.at() }, metadata: {} }],
      head + 1,
    );
    const other = await startSession(w, clock);
    return { sessionId, other, lastPosition: after.positions[0], clock };
  };

  it('stores NUL-laden events, dead-letters what it cannot project, and moves on (the same stream and others)', async () => {
    const { sessionId, other } = await appendHostileHistory();
    runner = newRunner();
    await runner.start();
    await runner.catchUp(20_000);
    expect(await runner.lag()).toBe(0);

    const session = await readModels().getSession(sessionId);
    expect(session).toMatchObject({ status: 'terminated', revision: 4 });
    expect(await readModels().getSession(other)).toMatchObject({ status: 'starting' });
    const calls = await listToolCalls(db(), sessionId);
    expect(calls).toEqual([expect.objectContaining({ callId: 'call\ufffd-1', tool: 'Ba\ufffdsh', input: { 'k\ufffd': 'v\ufffd', lone: '\ufffd' } })]);

    const { count, deadLetters } = await listDeadLetters(db());
    const mine = deadLetters.filter((d) => d.streamId === sessionStreamName(sessionId));
    expect(mine.map((d) => [d.revision, d.type])).toEqual([
      [2, 'AgentSessionLinked'],
      [3, 'ToolCallCompleted'],
    ]);
    expect(mine[0].error).toMatch(/^54000: /);
    expect(mine[1].error).toMatch(/TypeError|Cannot|null/);
    expect(count).toBeGreaterThanOrEqual(2);
    expect(runner.deadLettered).toBeGreaterThanOrEqual(2);
    // Reported: a Prometheus series, GET /health, and `runledger status` (GET /status).
    expect(await new RunledgerMetrics(db(), { defaultMetrics: false }).scrape()).toContain(`runledger_projection_dead_letters ${count}\n`);
    const system = new SystemStreamService(store(), db(), { version: 'test' } as RunledgerConfig);
    expect(await system.health()).toMatchObject({ status: 'ok', deadLetters: count });
    const snapshotsDir = mkdtempSync(join(tmpdir(), 'rl-dead-snapshots-'));
    const status = await new SystemStatusService(system, db(), store(), new GitSnapshotStore({ dir: snapshotsDir })).status();
    rmSync(snapshotsDir, { recursive: true, force: true });
    expect(status.snapshots).toEqual({ bytes: 0 });
    expect(status.projections.deadLetters).toBe(count);
    expect(statusLines('http://x', status).join('\n')).toContain(`${count} dead letters (GET /projections/status lists them)`);
    // The snapshot is at its stream's head: the boot reconcile does not see it as lagging and retry it forever.
    expect((await findLaggingSnapshots(db(), store())).map((l) => l.sessionId)).not.toContain(sessionId);
  });

  it('rebuilds into new tables and swaps them in: the same rows and dead letters as the incremental run', async () => {
    runner = newRunner();
    await runner.start();
    await appendHostileHistory();
    await runner.catchUp(20_000);
    const live = await dumpReadModels(db());
    const result = await runner.rebuild();
    expect(result.events).toBeGreaterThan(0);
    expect(await dumpReadModels(db())).toEqual(live);
    const { rows } = await db().query<{ n: string | number }>("SELECT count(*) AS n FROM pg_namespace WHERE nspname = 'rl_rebuild'");
    expect(Number(rows[0].n)).toBe(0);
    // The live subscription is back and follows new events.
    const w = new DecidedStreams(store());
    const sessionId = await startSession(w, new TestClock());
    await runner.catchUp(20_000);
    expect(await readModels().getSession(sessionId)).toMatchObject({ status: 'starting' });
  });

  it('leaves the old read models in place when a rebuild fails half-way', async () => {
    runner = newRunner();
    await runner.start();
    await appendHostileHistory();
    await runner.catchUp(20_000);
    const before = await dumpReadModels(db());
    const checkpoint = await readModels().checkpoint();

    // The same store, but its full read breaks after a few events (a disk error, a lost connection mid-rebuild).
    const failing: EventStore = Object.create(store());
    failing.readAll = async function* (options) {
      let n = 0;
      for await (const event of store().readAll(options)) {
        if (++n > 3) throw new Error('read failed mid-rebuild');
        yield event;
      }
    };
    const broken = new ProjectionRunner(db(), failing);
    await expect(broken.rebuild()).rejects.toThrow('read failed mid-rebuild');
    expect(await dumpReadModels(db())).toEqual(before);
    expect(await readModels().checkpoint()).toEqual(checkpoint);
    const { rows } = await db().query<{ n: string | number }>("SELECT count(*) AS n FROM pg_namespace WHERE nspname = 'rl_rebuild'");
    expect(Number(rows[0].n)).toBe(0);
    await broken.stop();
  });
});
