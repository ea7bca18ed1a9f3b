import { randomBytes, randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { DeciderStreams, SessionStreams } from '@runledger/application';
import {
  reconcileDecision,
  toolCallRecorder,
  type ProcessRuntime,
  type ReconcileFacts,
  type Session,
  type SessionCommand,
} from '@runledger/domain';
import { RedactionDoor, redactingEventStore } from '@runledger/infra/redaction/redaction-door';
import { loadSessionSnapshots, sessionHeads } from '@runledger/infra/read-models';
import { describeEachEngine } from '../support/stores';
import { DecidedStreams, projectionSuite, TestClock } from './scenario';

Logger.overrideLogger(['fatal']);

const runtime = (pid: number): ProcessRuntime => ({ type: 'process', pid, startTime: `${pid}00`, command: ['claude'], logPath: `/logs/${pid}.log` });
const record = toolCallRecorder(<V>(value: V): V => value);

/** Facts the reconcile policy is asked about on both states: the plans must be the same. */
const FACTS: Array<Omit<ReconcileFacts, 'at'>> = [
  { trigger: 'boot', runtime: { state: 'dead' }, transcript: null, liveManagedCalls: [], launchInProgress: false },
  { trigger: 'boot', runtime: { state: 'alive' }, transcript: null, liveManagedCalls: [], launchInProgress: false },
  { trigger: 'boot', runtime: { state: 'dead', exitCode: 0 }, transcript: { calls: [], lastTurnEnded: true, settled: true, record }, liveManagedCalls: [], launchInProgress: false },
  {
    trigger: 'watch',
    runtime: { state: 'dead', signal: 'SIGKILL' },
    transcript: {
      calls: [
        { callId: 'c-new', tool: 'Bash', input: { command: 'ls' }, result: { status: 'completed', output: 'a b' } },
        { callId: '7', tool: 'Read', input: { path: 'x' }, result: null, subagent: 'agent-sub1.jsonl' },
      ],
      lastTurnEnded: false,
      settled: true,
      record,
    },
    liveManagedCalls: [],
    launchInProgress: false,
  },
  { trigger: 'boot', runtime: { state: 'none' }, transcript: null, liveManagedCalls: ['m-1'], launchInProgress: false },
  { trigger: 'request', runtime: { state: 'unrecorded', runtime: runtime(9100) }, transcript: null, liveManagedCalls: [], launchInProgress: false },
];

/**
 * The boot reconcile's second start (docs/ARCHITECTURE.md §4): a session state taken from its read-model rows must be the
 * state folded from its log, and whatever those rows cannot vouch for is folded from the log instead.
 */
describeEachEngine('session states from read-model snapshots', (engine) => {
  const { db, store, newRunner } = projectionSuite(engine);
  const secret = `hunter2-${randomUUID().slice(0, 8)}-db-password`;
  let clock: TestClock;
  let w: DecidedStreams;

  beforeEach(() => {
    clock = new TestClock();
    // Appended through the redaction door, as every command is: the log and the rows hold the redacted values.
    w = new DecidedStreams(redactingEventStore(store(), new RedactionDoor([secret])));
  });

  const start = async (kind: 'worker' | 'orchestrator' = 'worker'): Promise<{ id: string; run: (c: SessionCommand) => Promise<number[]> }> => {
    const id = `snap-${randomUUID().slice(0, 8)}`;
    const run = (command: SessionCommand) => w.session(id, command);
    await run({
      type: 'StartSession',
      data: { sessionId: id, projectId: 'p', kind, agent: 'claude-code', prompt: 'work', branch: `runledger/${id}`, baseRef: 'main', at: clock.at() },
    });
    await run({ type: 'RecordWorktreeCreated', data: { repo: 'web', path: `/wt/${id}/web`, branch: `runledger/${id}`, baseRef: 'main', at: clock.at() } });
    await run({ type: 'RecordRuntimeLaunched', data: { runtime: runtime(4000 + Math.floor(Math.random() * 1000)), at: clock.at() } });
    await run({ type: 'LinkAgentSession', data: { agentSessionId: `cc-${id}`, transcriptPath: `/t/cc-${id}.jsonl`, at: clock.at() } });
    await run({ type: 'StartAgentRun', data: { runId: 'run-1', prompt: 'work', at: clock.at() } });
    return { id, run };
  };

  /** Calls of every kind, ids chosen so that first-appearance order is not the order of a record's keys (integer-like ids last). */
  const calls = async (run: (c: SessionCommand) => Promise<number[]>) => {
    await run({ type: 'DispatchToolCall', data: { callId: 'toolu_b', tool: 'Bash', input: { command: `echo ${secret}` }, mode: 'observed', runId: 'run-1', at: clock.at() } });
    await run({ type: 'RecordToolCallResult', data: { callId: 'toolu_b', status: 'completed', output: `password is ${secret}`, exitCode: 0, source: 'hook', at: clock.at() } });
    await run({ type: 'DispatchToolCall', data: { callId: '10', tool: 'Read', input: { path: 'bin' }, mode: 'managed', at: clock.at() } });
    await run({ type: 'RecordToolCallResult', data: { callId: '10', status: 'failed', output: 'binary', error: 'binary file', source: 'executor', at: clock.at() } });
    await run({ type: 'DispatchToolCall', data: { callId: '2', tool: 'Bash', input: { command: 'npm test' }, mode: 'observed', runId: 'run-1', at: clock.at() } });
    await run({ type: 'DispatchToolCall', data: { callId: 'm-1', tool: 'Bash', input: { command: 'make' }, mode: 'managed', at: clock.at() } });
    // A sub-agent's run and its calls.
    await run({ type: 'StartAgentRun', data: { runId: 'run-sub', parentRunId: 'run-1', agentId: 'sub1', agentType: 'explore', at: clock.at() } });
    await run({ type: 'DispatchToolCall', data: { callId: 'sub-1', tool: 'Grep', input: { pattern: 'x' }, mode: 'observed', runId: 'run-sub', at: clock.at() } });
    await run({ type: 'RecordToolCallResult', data: { callId: 'sub-1', status: 'completed', output: 'none', source: 'hook', at: clock.at() } });
    await run({ type: 'CompleteAgentRun', data: { runId: 'run-sub', transcriptPath: '/t/agent-sub1.jsonl', at: clock.at() } });
    await run({ type: 'SetAgentActivity', data: { activity: 'working', hook: 'PreToolUse', at: clock.at() } });
  };

  /** Sessions in the states reconcile meets: running with calls in flight, interrupted (retried, a late result), exited, an orchestrator. */
  const buildSessions = async (): Promise<string[]> => {
    const running = await start();
    await calls(running.run);

    const interrupted = await start();
    await calls(interrupted.run);
    await interrupted.run({ type: 'InterruptToolCall', data: { callId: '2', reason: 'runtime gone', at: clock.at() } });
    await interrupted.run({ type: 'InterruptSession', data: { reason: 'runtime gone after restart', resumable: true, at: clock.at() } });
    await interrupted.run({ type: 'StartRestore', data: { at: clock.at() } });
    await interrupted.run({ type: 'RecordRuntimeLaunched', data: { runtime: runtime(5300), at: clock.at() } });
    await interrupted.run({ type: 'RetryToolCall', data: { callId: '2', at: clock.at() } });
    await interrupted.run({ type: 'RecordToolCallResult', data: { callId: '2', attempt: 1, status: 'completed', output: 'late', source: 'transcript', at: clock.at() } });
    await interrupted.run({ type: 'RecordDivergence', data: { callId: '2', kind: 'late_result', detail: 'attempt 1 result found in the transcript', at: clock.at() } });
    await interrupted.run({ type: 'InterruptSession', data: { reason: 'killed again', resumable: false, at: clock.at() } });

    const exited = await start();
    await calls(exited.run);
    await exited.run({ type: 'RecordToolCallResult', data: { callId: '2', status: 'completed', output: 'ok', exitCode: 0, source: 'transcript', at: clock.at() } });
    await exited.run({ type: 'RecordRuntimeExited', data: { exitCode: 0, finished: true, reason: 'agent finished', at: clock.at() } });

    const orchestrator = await start('orchestrator');
    await orchestrator.run({ type: 'DispatchToolCall', data: { callId: '1', tool: 'Bash', input: { command: 'runledger spawn' }, mode: 'observed', at: clock.at() } });
    return [running.id, interrupted.id, exited.id, orchestrator.id];
  };

  const project = async () => {
    const runner = newRunner();
    await runner.start();
    await runner.catchUp(30_000);
    await runner.stop();
  };

  /** Each session folded from its log by a fresh SessionStreams (no cache shared with the one under test). */
  const foldedFromLog = (ids: string[]) => new SessionStreams(new DeciderStreams(store())).loadMany(ids);

  const expectSameStates = (got: Map<string, { state: Session; revision: number }>, want: Map<string, { state: Session; revision: number }>, ids: string[]) => {
    for (const id of ids) {
      expect(got.get(id)).toBeDefined();
      expect(got.get(id)!.revision).toBe(want.get(id)!.revision);
      expect(got.get(id)!.state).toEqual(want.get(id)!.state);
      // Iteration order too (toEqual does not compare it): first appearance in the log.
      expect(got.get(id)!.state.toolCalls.keys()).toEqual(want.get(id)!.state.toolCalls.keys());
    }
  };

  it('takes every state from the rows at the head, equal to the fold of the log (Maps and their order included), with the same reconcile plans', async () => {
    const ids = await buildSessions();
    await project();
    const heads = await sessionHeads(store());

    const load = await loadSessionSnapshots(db(), ids, heads);
    expect(load.fallbacks).toEqual(new Map());
    expect([...load.snapshots.keys()].sort()).toEqual([...ids].sort());

    const folded = await foldedFromLog(ids);
    const sessions = new SessionStreams(new DeciderStreams(store()));
    const loaded = await sessions.loadManyFrom(load);
    expectSameStates(loaded, folded, ids);
    // The secret never reached either: both read what the redaction door let through.
    expect(JSON.stringify(loaded.get(ids[0])!.state)).not.toContain(secret);
    expect(loaded.get(ids[0])!.state.toolCalls.keys()).toEqual(['toolu_b', '10', '2', 'm-1', 'sub-1']);
    // The streams' cache holds the snapshot: what the reconciler's `known` reads without a read of the log.
    for (const id of ids) expect((await sessions.known(id)).state).toBe(loaded.get(id)!.state);

    const at = clock.at();
    for (const id of ids) {
      for (const facts of FACTS) {
        expect(reconcileDecision(loaded.get(id)!.state, { ...facts, at })).toEqual(reconcileDecision(folded.get(id)!.state, { ...facts, at }));
      }
    }
  });

  it('folds from the log, and says why, a session whose row is behind its head, has a dead letter, holds a U+FFFD, or lacks a call row', async () => {
    const [behind, deadLettered, nul, callless, fine] = [await start(), await start(), await start(), await start(), await start()];
    for (const s of [behind, deadLettered, nul, callless, fine]) await calls(s.run);
    // An agent session id over PostgreSQL's btree row limit: the row's write fails and the event is dead-lettered (the
    // row moves to its revision without it), while the fold of the log has it.
    await deadLettered.run({ type: 'LinkAgentSession', data: { agentSessionId: randomBytes(12_000).toString('hex'), at: clock.at() } });
    // A NUL the log keeps and the row holds as U+FFFD.
    await nul.run({ type: 'RecordToolCallResult', data: { callId: 'm-1', status: 'completed', output: 'bin\u0000ary', source: 'executor', at: clock.at() } });
    await project();
    // Appended after the projection stopped: the row stays behind the head.
    await behind.run({ type: 'RecordToolCallResult', data: { callId: '2', status: 'completed', output: 'ok', source: 'hook', at: clock.at() } });
    await db().query('DELETE FROM rl_rm_tool_calls WHERE session_id = $1 AND call_id = $2', [callless.id, '10']);
    const ids = [behind.id, deadLettered.id, nul.id, callless.id, fine.id, 'snap-nosuchsession'];
    const heads = await sessionHeads(store());

    const load = await loadSessionSnapshots(db(), ids, heads);
    expect(load.fallbacks).toEqual(
      new Map([
        [behind.id, 'revision'],
        [deadLettered.id, 'dead_letter'],
        [nul.id, 'replacement_char'],
        [callless.id, 'calls'],
        ['snap-nosuchsession', 'no_head'],
      ]),
    );
    expect([...load.snapshots.keys()]).toEqual([fine.id]);

    const live = ids.slice(0, 5);
    const folded = await foldedFromLog(live);
    const loaded = await new SessionStreams(new DeciderStreams(store())).loadManyFrom(load);
    expect([...loaded.keys()].sort()).toEqual([...live].sort());
    expectSameStates(loaded, folded, live);
    // What the fallbacks protect against: the rows differ from the log there.
    expect(loaded.get(behind.id)!.revision).toBe(heads.get(behind.id));
    expect((loaded.get(nul.id)!.state.toolCalls.get('m-1') as { result?: { output?: unknown } }).result?.output).toBe('bin\u0000ary');
    expect(loaded.get(deadLettered.id)!.state.agentSessionId).toHaveLength(24_000);
  });

  it('folds a session without a row (the projection never reached it)', async () => {
    await project();
    const late = await start();
    await calls(late.run);
    const load = await loadSessionSnapshots(db(), [late.id], await sessionHeads(store()));
    expect(load.fallbacks).toEqual(new Map([[late.id, 'no_row']]));
    const loaded = await new SessionStreams(new DeciderStreams(store())).loadManyFrom(load);
    expectSameStates(loaded, await foldedFromLog([late.id]), [late.id]);
  });
});

