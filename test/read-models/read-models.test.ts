import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { sessionStreamName } from '@runledger/domain';
import { RecordedEvent } from '@runledger/infra/event-store';
import {
  CheckpointMovedError,
  checkpointOf,
  projectAndCheckpoint,
  projectBatch,
  ProjectionGapError,
  truncateReadModels,
} from '@runledger/infra/read-models';
import { ProjectionRunner } from '../../apps/worker/src/projections/projection-runner';
import { describeEachEngine } from '../support/stores';
import { appendScenario, DecidedStreams, dumpReadModels, getToolCall, listToolCalls, projectionSuite, readLog, TestClock } from './scenario';

Logger.overrideLogger(['error']);

describeEachEngine('read models', (engine) => {
  const { db, store, readModels } = projectionSuite(engine);

  /** Projects `events` in consecutive batches of the given sizes (cycling), each in its own transaction. */
  const projectInBatches = async (events: RecordedEvent[], sizes: number[]): Promise<RecordedEvent[][]> => {
    const batches: RecordedEvent[][] = [];
    for (let i = 0, k = 0; i < events.length; k++) {
      const batch = events.slice(i, i + sizes[k % sizes.length]);
      await db().transaction((tx) => projectBatch(tx, batch));
      batches.push(batch);
      i += batch.length;
    }
    return batches;
  };
  const fromScratch = () => db().transaction((tx) => truncateReadModels(tx));

  it('incremental projection in small batches, with re-deliveries, equals a rebuild from the log (invariant 8)', async () => {
    await appendScenario(store());
    await appendScenario(store());
    const log = await readLog(store());

    await fromScratch();
    const batches = await projectInBatches(log, [1, 3, 2, 5, 4]);
    // Re-deliver a batch in the middle and the last one: at-least-once delivery must change nothing.
    await db().transaction((tx) => projectBatch(tx, batches[3]));
    await db().transaction((tx) => projectBatch(tx, batches[batches.length - 1]));
    const incremental = await dumpReadModels(db());
    expect(incremental.rl_rm_sessions).toHaveLength(4);
    expect(incremental.rl_rm_tool_calls.length).toBeGreaterThanOrEqual(6);

    // Rebuild through the runner (truncate + reset checkpoint, replay the whole log in batches).
    const runner = new ProjectionRunner(db(), store());
    const progress: [number, number][] = [];
    const rebuilt = await runner.rebuild((done, total) => progress.push([done, total]));
    expect(rebuilt.events).toBeGreaterThan(0);
    expect(rebuilt.events).toBeLessThanOrEqual(log.length);
    expect(progress[progress.length - 1][0]).toBe(rebuilt.events);
    // Events a transaction elsewhere on a shared server still hides from readAll arrive through the live subscription.
    await runner.start();
    try {
      await runner.catchUp(30_000);
    } finally {
      await runner.stop();
    }
    expect(await dumpReadModels(db())).toEqual(incremental);

    // And the whole log as one batch: any batching gives the same rows.
    await fromScratch();
    await db().transaction((tx) => projectBatch(tx, log));
    expect(await dumpReadModels(db())).toEqual(incremental);
  });

  it('builds snapshots from the events only: revision = stream head, times = event times', async () => {
    const clock = new TestClock(Date.UTC(2024, 5, 1, 12, 0, 0));
    const ids = await appendScenario(store(), clock);
    await fromScratch();
    await projectInBatches(await readLog(store()), [7]);

    const worker = await readModels().getSession(ids.worker);
    expect(worker).not.toBeNull();
    expect(worker!.revision).toBe(await store().streamRevision(sessionStreamName(ids.worker)));
    expect(worker).toMatchObject({
      id: ids.worker,
      projectId: ids.projectId,
      kind: 'worker',
      status: 'terminated',
      agent: 'claude-code',
      agentSessionId: expect.stringMatching(/^cc-/),
      runtime: { type: 'process', pid: 4300, startTime: '430000', alive: null },
      toolCalls: { total: 3, dispatched: 0, completed: 2, failed: 1, interrupted: 0 },
      lastCompletedToolCall: { callId: 'c3', tool: 'Bash', status: 'completed', attempt: 2 },
      runs: { total: 1, open: 0 },
      termination: { cause: 'killed', reason: 'user asked', freed: false },
      createdAt: '2024-06-01T12:00:02.000Z',
    });
    expect(worker!.updatedAt).toBe(worker!.termination!.at);
    expect(worker!.updatedAt.startsWith('2024-06-01T12:00:')).toBe(true);
    expect(worker!.lateResults).toEqual([expect.objectContaining({ callId: 'c3', attempt: 1, output: 'late', source: 'transcript' })]);
    expect(worker!.divergences).toHaveLength(1);
    expect(worker!.worktrees).toEqual([
      { repo: 'api', path: `/wt/${ids.worker}/api`, branch: `runledger/${ids.worker}`, state: 'active', stranded: true, strandedReason: 'un-landed commits' },
      { repo: 'web', path: `/wt/${ids.worker}/web`, branch: `runledger/${ids.worker}`, state: 'active' },
    ]);

    const orchestrator = await readModels().getSession(ids.orchestrator);
    expect(orchestrator!.revision).toBe(await store().streamRevision(sessionStreamName(ids.orchestrator)));
    expect(orchestrator!.worktrees).toEqual([
      expect.objectContaining({ repo: 'web', state: 'unavailable', preservedRef: `refs/runledger/preserved/${ids.orchestrator}/web` }),
    ]);

    // Worktree rows mirror the snapshot; the path index answers the reaper's question.
    const { rows } = await db().query<{ session_id: string; repo: string; state: string; preserved_ref: string | null; stranded: boolean }>(
      'SELECT session_id, repo, state, preserved_ref, stranded FROM rl_rm_worktrees WHERE path = $1',
      [`/wt/${ids.orchestrator}/web`],
    );
    expect(rows).toEqual([{ session_id: ids.orchestrator, repo: 'web', state: 'unavailable', preserved_ref: `refs/runledger/preserved/${ids.orchestrator}/web`, stranded: false }]);

    // Tool calls in first-dispatch order; the retried call shows attempt 2 and keeps its late result apart.
    const calls = await listToolCalls(db(), ids.worker);
    expect(calls.map((c) => [c.callId, c.status, c.attempt])).toEqual([['c1', 'completed', 1], ['c2', 'failed', 1], ['c3', 'completed', 2]]);
    expect(calls[1]).toMatchObject({ mode: 'managed', result: { output: 'bin\ufffdary', error: 'binary file' }, source: 'executor' });
    expect(calls[2].lateResults).toHaveLength(1);
    expect(await getToolCall(db(), ids.worker, 'c1')).toEqual(calls[0]);
  });

  it('lists projects as narrow summaries and masks env values; no secret lands in a read-model table (invariant 12)', async () => {
    const ids = await appendScenario(store());
    await projectInBatches(await readLog(store()), [50]);

    const summaries = await readModels().listProjects();
    const summary = summaries.find((p) => p.id === ids.projectId);
    expect(summary).toEqual({ id: ids.projectId, name: 'Shop', kind: 'workspace', sessionPrefix: ids.prefix, orchestratorAgent: 'claude-code' });
    for (const p of summaries) expect(Object.keys(p).filter((k) => ['env', 'repos', 'defaultBranch'].includes(k))).toEqual([]);

    const project = await readModels().getProject(ids.projectId);
    expect(project).toMatchObject({
      id: ids.projectId,
      repos: [{ name: 'web', path: '/src/web' }, { name: 'api', path: '/src/api' }],
      defaultBranch: 'main',
      env: { DATABASE_PASSWORD: '***' },
      nextSessionNumber: 3,
    });
    expect(project!.activeOrchestrator).toBeUndefined();
    expect(await readModels().getProject(`nope-${randomUUID()}`)).toBeNull();

    const { rows } = await db().query<{ n: string | number }>(
      `SELECT count(*) AS n FROM rl_rm_projects p WHERE p.state::text LIKE $1 OR p.view::text LIKE $1 OR p.summary::text LIKE $1`,
      [`%${ids.secret}%`],
    );
    expect(Number(rows[0].n)).toBe(0);
  });

  it('ignores a re-delivered batch, even after later batches (no regression), and skips non-domain streams', async () => {
    const ids = await appendScenario(store());
    await fromScratch();
    const log = await readLog(store());
    const batches = await projectInBatches(log, [4]);
    const before = await dumpReadModels(db());

    const reports = [];
    for (const batch of [batches[0], batches[2], batches[1]]) reports.push(await db().transaction((tx) => projectBatch(tx, batch)));
    expect(await dumpReadModels(db())).toEqual(before);
    expect(reports.every((r) => r.applied === 0 && r.projects.length === 0 && r.sessions.length === 0)).toBe(true);

    const system = log.filter((e) => e.streamId === 'system');
    expect(system.length).toBeGreaterThan(0);
    expect(await db().transaction((tx) => projectBatch(tx, system))).toEqual({ applied: 0, duplicates: 0, unknown: [], projects: [], sessions: [], custody: [], deadLetters: [] });
    expect(await readModels().getSession(ids.worker)).not.toBeNull();
  });

  it('filters sessions by project, status, kind and agent session, ordered by creation', async () => {
    const ids = await appendScenario(store());
    await projectInBatches(await readLog(store()), [100]);
    const rm = readModels();
    expect((await rm.listSessions({ projectId: ids.projectId })).map((s) => s.id)).toEqual([ids.worker, ids.orchestrator]);
    expect((await rm.listSessions({ projectId: ids.projectId, kind: 'orchestrator' })).map((s) => s.id)).toEqual([ids.orchestrator]);
    expect((await rm.listSessions({ projectId: ids.projectId, status: 'running' })).map((s) => s.id)).toEqual([]);
    const worker = await rm.getSession(ids.worker);
    expect((await rm.listSessions({ agentSessionId: worker!.agentSessionId })).map((s) => s.id)).toEqual([ids.worker]);
    const all = await rm.listSessions();
    const keys = all.map((s) => `${s.createdAt}|${s.id}`);
    expect(keys).toEqual([...keys].sort());
    const revisions = await rm.sessionRevisions();
    expect(revisions).toContainEqual({ sessionId: ids.worker, revision: worker!.revision });
  });

  it('skips events of unknown types without losing the revision, and refuses a gap instead of folding a wrong state', async () => {
    const clock = new TestClock();
    const w = new DecidedStreams(store());
    const sessionId = `gap-${randomUUID().slice(0, 8)}`;
    await w.session(sessionId, { type: 'StartSession', data: { sessionId, projectId: 'p', kind: 'worker', agent: 'external', branch: 'b', baseRef: 'main', at: clock.at() } });
    await store().appendToStream(sessionStreamName(sessionId), [{ eventId: randomUUID(), type: 'SomethingFromTheFuture', data: { at: clock.at() } }], 0);
    const log = (await readLog(store())).filter((e) => e.streamId === sessionStreamName(sessionId));
    const report = await db().transaction((tx) => projectBatch(tx, log));
    expect(report.unknown).toEqual([`${sessionStreamName(sessionId)}@1 SomethingFromTheFuture`]);
    expect((await readModels().getSession(sessionId))!.revision).toBe(1);

    // Rows lost while the checkpoint stayed: the next event cannot be folded onto nothing.
    await db().query('DELETE FROM rl_rm_sessions WHERE session_id = $1', [sessionId]);
    await store().appendToStream(sessionStreamName(sessionId), [{ eventId: randomUUID(), type: 'SessionRetiring', data: { at: clock.at() } }], 1);
    const next = (await readLog(store())).filter((e) => e.streamId === sessionStreamName(sessionId) && e.revision === 2);
    await expect(db().transaction((tx) => projectBatch(tx, next))).rejects.toBeInstanceOf(ProjectionGapError);
  });

  it('commits rows with their checkpoint, skips what the stored checkpoint covers, and detects a checkpoint moved back', async () => {
    await appendScenario(store());
    await fromScratch();
    const log = await readLog(store());
    const half = Math.floor(log.length / 2);
    const first = await db().transaction((tx) => projectAndCheckpoint(tx, log.slice(0, half), { transactionId: '0', globalPosition: 0 }));
    expect(first.checkpoint).toEqual(checkpointOf(log[half - 1]));
    expect(await readModels().checkpoint()).toEqual(first.checkpoint);
    // Another worker re-reading from the start only folds what is past the stored checkpoint.
    const second = await db().transaction((tx) => projectAndCheckpoint(tx, log, { transactionId: '0', globalPosition: 0 }));
    expect(second.checkpoint).toEqual(checkpointOf(log[log.length - 1]));
    expect(second.report!.duplicates).toBe(0);
    // A reader ahead of the stored checkpoint (reset by a rebuild elsewhere) must re-read, not skip.
    await fromScratch();
    await expect(db().transaction((tx) => projectAndCheckpoint(tx, log.slice(half), checkpointOf(log[half - 1])))).rejects.toBeInstanceOf(
      CheckpointMovedError,
    );
  });
});
