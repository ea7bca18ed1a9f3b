import { randomUUID } from 'node:crypto';
import {
  projectDecider,
  projectStreamName,
  sessionDecider,
  sessionStreamName,
  type Decider,
  type ProcessRuntime,
  type ProjectCommand,
  type SessionCommand,
} from '@runledger/domain';
import { migrate, SqlDatabase, SqlExecutor } from '@runledger/infra/database';
import { EventStore, eventStoreMigration, RecordedEvent } from '@runledger/infra/event-store';
import { READ_MODEL_MIGRATIONS, READ_MODEL_TABLES, ReadModels } from '@runledger/infra/read-models';
import type { ToolCallView } from '@runledger/domain';
import { ProjectionRunner } from '../../apps/worker/src/projections/projection-runner';
import type { EngineUnderTest } from '../support/stores';

/** What a read-model suite works with on one engine: its database, store, read models, and runners it starts. */
export interface ProjectionSuite {
  db(): SqlDatabase;
  store(): EventStore;
  readModels(): ReadModels;
  /** A new ProjectionRunner on the engine, stopped after the test. */
  newRunner(): ProjectionRunner;
}

/** Inside describeEachEngine: migrates the store and read models once, stops every runner a test started after it. */
export const projectionSuite = (engine: () => EngineUnderTest): ProjectionSuite => {
  const runners: ProjectionRunner[] = [];
  beforeAll(async () => {
    await migrate(engine().db, [eventStoreMigration, ...READ_MODEL_MIGRATIONS]);
  });
  afterEach(async () => {
    for (const runner of runners.splice(0)) await runner.stop();
  });
  return {
    db: () => engine().db,
    store: () => engine().store,
    readModels: () => new ReadModels(engine().db),
    newRunner: () => {
      const runner = new ProjectionRunner(engine().db, engine().store);
      runners.push(runner);
      return runner;
    },
  };
};

/** Deterministic ISO-8601 times: the test's clock, never the projector's. */
export class TestClock {
  private n = 0;
  constructor(private readonly origin = Date.UTC(2025, 0, 1, 9, 0, 0)) {}
  /** The next instant, one second after the previous one. */
  at(): string {
    return new Date(this.origin + this.n++ * 1000).toISOString();
  }
}

/** Runs commands through the domain deciders and appends what they decide with the expected revision (valid histories only). */
export class DecidedStreams {
  private readonly states = new Map<string, { state: unknown; revision: number }>();

  constructor(private readonly store: EventStore) {}

  /** Decides `command` on the project's stream and appends the events; returns their global positions. */
  project(projectId: string, command: ProjectCommand): Promise<number[]> {
    return this.run(projectStreamName(projectId), projectDecider, command);
  }

  /** Decides `command` on the session's stream and appends the events; returns their global positions. */
  session(sessionId: string, command: SessionCommand): Promise<number[]> {
    return this.run(sessionStreamName(sessionId), sessionDecider, command);
  }

  /** The stream's revision as this writer knows it (-1 for none). */
  revision(streamId: string): number {
    return this.states.get(streamId)?.revision ?? -1;
  }

  private async run<S, C, E extends { type: string; data: unknown }>(streamId: string, decider: Decider<S, C, E>, command: C): Promise<number[]> {
    const current = (this.states.get(streamId) as { state: S; revision: number } | undefined) ?? { state: decider.initialState(), revision: -1 };
    const events = decider.decide(command, current.state);
    if (events.length === 0) return [];
    const result = await this.store.appendToStream(
      streamId,
      events.map((e) => ({ eventId: randomUUID(), type: e.type, data: e.data, metadata: { actor: 'test' } })),
      current.revision === -1 ? 'no_stream' : current.revision,
    );
    this.states.set(streamId, { state: events.reduce(decider.evolve, current.state), revision: result.nextRevision });
    return result.positions;
  }
}

/** Ids of one scenario; fresh per call so tests sharing a database never collide. */
export interface ScenarioIds {
  projectId: string;
  prefix: string;
  worker: string;
  orchestrator: string;
  secret: string;
}

/**
 * Appends a realistic, interleaved history: a workspace project with an env secret; a worker session with two worktrees,
 * tool calls (completed, failed with a NUL byte in its output, interrupted then retried with a late result), a restore
 * and a kill; an orchestrator that retires with its work preserved; and a `system` event the read models must ignore.
 */
export const appendScenario = async (store: EventStore, clock = new TestClock()): Promise<ScenarioIds> => {
  const tag = randomUUID().slice(0, 8);
  const ids: ScenarioIds = {
    projectId: `shop-${tag}`,
    prefix: `s${tag}`,
    worker: `s${tag}-1`,
    orchestrator: `s${tag}-2`,
    secret: `hunter2-${tag}-db-password`,
  };
  const w = new DecidedStreams(store);
  const runtime = (pid: number): ProcessRuntime => ({ type: 'process', pid, startTime: `${pid}00`, command: ['claude'], logPath: `/logs/${pid}.log` });
  const worker = (command: SessionCommand) => w.session(ids.worker, command);
  const orch = (command: SessionCommand) => w.session(ids.orchestrator, command);

  await w.project(ids.projectId, {
    type: 'RegisterProject',
    data: {
      projectId: ids.projectId,
      name: 'Shop',
      kind: 'workspace',
      repos: [{ name: 'web', path: '/src/web' }, { name: 'api', path: '/src/api' }],
      sessionPrefix: ids.prefix,
      defaultBranch: 'main',
      orchestratorAgent: 'claude-code',
      env: { DATABASE_PASSWORD: ids.secret },
      at: clock.at(),
    },
  });
  await w.project(ids.projectId, { type: 'AllocateSessionId', data: { kind: 'worker', at: clock.at() } });
  await worker({
    type: 'StartSession',
    data: { sessionId: ids.worker, projectId: ids.projectId, kind: 'worker', agent: 'claude-code', prompt: 'fix the cart', branch: `runledger/${ids.worker}`, baseRef: 'main', at: clock.at() },
  });
  await w.project(ids.projectId, { type: 'AllocateSessionId', data: { kind: 'orchestrator', at: clock.at() } });
  await orch({
    type: 'StartSession',
    data: { sessionId: ids.orchestrator, projectId: ids.projectId, kind: 'orchestrator', agent: 'command', command: ['sleep', '600'], branch: `runledger/${ids.orchestrator}`, baseRef: 'main', at: clock.at() },
  });
  await w.project(ids.projectId, { type: 'AssignOrchestrator', data: { sessionId: ids.orchestrator, at: clock.at() } });
  for (const repo of ['web', 'api']) {
    await worker({ type: 'RecordWorktreeCreated', data: { repo, path: `/wt/${ids.worker}/${repo}`, branch: `runledger/${ids.worker}`, baseRef: 'main', at: clock.at() } });
  }
  await orch({ type: 'RecordWorktreeCreated', data: { repo: 'web', path: `/wt/${ids.orchestrator}/web`, branch: `runledger/${ids.orchestrator}`, baseRef: 'main', at: clock.at() } });
  await worker({ type: 'RecordRuntimeLaunched', data: { runtime: runtime(4100), at: clock.at() } });
  await orch({ type: 'RecordRuntimeLaunched', data: { runtime: runtime(4200), at: clock.at() } });
  await store.appendToStream('system', [{ eventId: randomUUID(), type: 'ServerStarted', data: { pid: 1, at: clock.at() } }], 'any');
  await worker({ type: 'LinkAgentSession', data: { agentSessionId: `cc-${tag}`, transcriptPath: `/t/cc-${tag}.jsonl`, at: clock.at() } });
  await worker({ type: 'StartAgentRun', data: { runId: 'run-1', prompt: 'fix the cart', at: clock.at() } });
  await worker({ type: 'DispatchToolCall', data: { callId: 'c1', tool: 'Bash', input: { command: 'npm test' }, mode: 'observed', runId: 'run-1', at: clock.at() } });
  await worker({ type: 'RecordToolCallResult', data: { callId: 'c1', status: 'completed', output: 'ok', exitCode: 0, source: 'hook', at: clock.at() } });
  await worker({ type: 'DispatchToolCall', data: { callId: 'c2', tool: 'Read', input: { path: 'bin' }, mode: 'managed', at: clock.at() } });
  await worker({ type: 'RecordToolCallResult', data: { callId: 'c2', status: 'failed', output: 'bin\u0000ary', error: 'binary file', source: 'executor', at: clock.at() } });
  await worker({ type: 'DispatchToolCall', data: { callId: 'c3', tool: 'Bash', input: { command: 'npm run build' }, mode: 'observed', at: clock.at() } });
  // Usage of two model calls of one run (one a sub-agent's): the usage rollup is rebuilt like every read model.
  for (const [key, subagent] of [['msg-1', undefined], ['msg-2', 'agent-a.jsonl']] as const) {
    await worker({
      type: 'RecordUsage',
      data: { key, model: 'claude-sonnet-4-5', inputTokens: 3, outputTokens: 5, cacheReadTokens: 7, cacheCreationTokens: 11, source: 'transcript', runId: subagent ? 'subagent:agent-a' : 'run-1', ...(subagent ? { subagent } : {}), at: clock.at() },
    });
  }
  await worker({ type: 'InterruptSession', data: { reason: 'runtime gone after restart', resumable: true, at: clock.at() } });
  await worker({ type: 'StartRestore', data: { at: clock.at() } });
  await worker({ type: 'RecordRuntimeLaunched', data: { runtime: runtime(4300), at: clock.at() } });
  await worker({ type: 'RetryToolCall', data: { callId: 'c3', at: clock.at() } });
  await worker({ type: 'RecordToolCallResult', data: { callId: 'c3', attempt: 1, status: 'completed', output: 'late', source: 'transcript', at: clock.at() } });
  await worker({ type: 'RecordDivergence', data: { callId: 'c3', kind: 'late_result', detail: 'attempt 1 result found in the transcript', at: clock.at() } });
  await worker({ type: 'RecordToolCallResult', data: { callId: 'c3', status: 'completed', output: 'built', exitCode: 0, source: 'hook', at: clock.at() } });
  await orch({ type: 'RetireSession', data: { at: clock.at() } });
  await orch({ type: 'RecordWorkPreserved', data: { repo: 'web', ref: `refs/runledger/preserved/${ids.orchestrator}/web`, commit: 'abc123', at: clock.at() } });
  await orch({ type: 'RecordWorktreeRemoved', data: { repo: 'web', at: clock.at() } });
  await orch({ type: 'TerminateSession', data: { reason: 'replaced', at: clock.at() } });
  await w.project(ids.projectId, { type: 'ReleaseOrchestrator', data: { sessionId: ids.orchestrator, at: clock.at() } });
  await worker({ type: 'FlagWorktreeStranded', data: { repo: 'api', reason: 'un-landed commits', at: clock.at() } });
  await worker({ type: 'KillSession', data: { reason: 'user asked', freed: false, at: clock.at() } });
  return ids;
};

/**
 * Every committed event of the log, in commit order: (transaction id, position) compared as numbers. Read stream by
 * stream, not with readAll, so that these suites test the projection only (log-order.test.ts tests readAll's order) and
 * see events that a transaction in another database of a shared test server still hides from readAll.
 */
export const readLog = async (store: EventStore): Promise<RecordedEvent[]> => {
  const out: RecordedEvent[] = [];
  for await (const streamId of store.listStreams()) for await (const event of store.readStream(streamId)) out.push(event);
  return out.sort((a, b) => {
    const ta = BigInt(a.transactionId);
    const tb = BigInt(b.transactionId);
    return ta !== tb ? (ta < tb ? -1 : 1) : a.globalPosition - b.globalPosition;
  });
};

/** Every row of every rl_rm_* table, in primary-key order: what "reproduces them exactly" compares (invariant 8). */
export const dumpReadModels = async (db: SqlExecutor): Promise<Record<string, string[]>> => {
  const order: Record<(typeof READ_MODEL_TABLES)[number], string> = {
    rl_rm_projects: 'project_id',
    rl_rm_sessions: 'session_id',
    rl_rm_worktrees: 'session_id, repo',
    rl_rm_tool_calls: 'session_id, call_id',
    rl_rm_dead_letters: 'stream_id, revision',
    rl_rm_custody_worktrees: 'stream_id',
    rl_rm_usage: 'session_id, day, run_id, subagent, model',
    rl_rm_search: 'global_position',
  };
  const dump: Record<string, string[]> = {};
  for (const table of READ_MODEL_TABLES) {
    // ::text of jsonb is canonical (sorted keys), so the comparison is byte-for-byte, not just structural.
    const { rows } = await db.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM ${table} t ORDER BY ${order[table]}`);
    dump[table] = rows.map((r) => r.row);
  }
  return dump;
};

/** The tool calls of a session as the read model holds them, in order of first dispatch (log order); empty for an unknown session. */
export const listToolCalls = async (db: SqlExecutor, sessionId: string): Promise<ToolCallView[]> => {
  const { rows } = await db.query<{ view: ToolCallView }>('SELECT view FROM rl_rm_tool_calls WHERE session_id = $1 ORDER BY first_revision, call_id', [sessionId]);
  return rows.map((row) => row.view);
};

/** One tool call of a session as the read model holds it, or null. */
export const getToolCall = async (db: SqlExecutor, sessionId: string, callId: string): Promise<ToolCallView | null> => {
  const { rows } = await db.query<{ view: ToolCallView }>('SELECT view FROM rl_rm_tool_calls WHERE session_id = $1 AND call_id = $2', [sessionId, callId]);
  return rows[0]?.view ?? null;
};
