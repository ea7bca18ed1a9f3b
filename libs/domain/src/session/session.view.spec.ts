import { replay } from '../shared/decider';
import { deepFreeze } from '../shared/given-when-then';
import type { ToolCall } from '../tool-call/tool-call.decider';
import type { SessionCommand } from './session.commands';
import { PersistentMap } from '../shared/persistent-map';
import { reviveSession, sessionDecider, type Session, type SessionState } from './session.decider';
import type { ProcessRuntime, SessionEvent } from './session.events';
import { toSessionView, toToolCallView } from './session.view';

const T = (s: number): string => `2025-02-01T10:00:${String(s).padStart(2, '0')}.000Z`;
const runtime: ProcessRuntime = { type: 'process', pid: 4242, startTime: '981234', command: ['claude'], logPath: '/logs/p-1.log' };

/** Runs commands through the decider (so every history is one the domain accepts) and returns the events. */
const history = (commands: SessionCommand[]): SessionEvent[] => {
  let state: SessionState = sessionDecider.initialState();
  const events: SessionEvent[] = [];
  for (const command of commands) {
    for (const event of sessionDecider.decide(command, state)) {
      events.push(event);
      state = sessionDecider.evolve(state, event);
    }
  }
  return events;
};
const fold = (events: SessionEvent[]): Session => {
  const state = replay(sessionDecider, events);
  if (state.status === 'none') throw new Error('not started');
  return deepFreeze(state);
};

const base: SessionCommand[] = [
  { type: 'StartSession', data: { sessionId: 'p-1', projectId: 'p', kind: 'worker', agent: 'claude-code', prompt: 'fix it', branch: 'runledger/p-1', baseRef: 'main', at: T(0) } },
  { type: 'RecordWorktreeCreated', data: { repo: 'web', path: '/wt/p-1/web', branch: 'runledger/p-1', baseRef: 'main', at: T(1) } },
  { type: 'RecordWorktreeCreated', data: { repo: 'api', path: '/wt/p-1/api', branch: 'runledger/p-1', baseRef: 'main', at: T(2) } },
  { type: 'RecordRuntimeLaunched', data: { runtime, at: T(3) } },
  { type: 'LinkAgentSession', data: { agentSessionId: 'cc-9', transcriptPath: '/t/cc-9.jsonl', at: T(4) } },
  { type: 'StartAgentRun', data: { runId: 'r1', prompt: 'fix it', at: T(5) } },
  { type: 'DispatchToolCall', data: { callId: 'c1', tool: 'Bash', input: { command: 'ls' }, mode: 'observed', runId: 'r1', at: T(6) } },
  { type: 'RecordToolCallResult', data: { callId: 'c1', status: 'completed', output: 'a\nb', exitCode: 0, source: 'hook', at: T(7) } },
  { type: 'DispatchToolCall', data: { callId: 'c2', tool: 'Read', input: { path: 'x' }, mode: 'observed', at: T(8) } },
  { type: 'RecordToolCallResult', data: { callId: 'c2', status: 'failed', error: 'ENOENT', source: 'hook', at: T(9) } },
  { type: 'DispatchToolCall', data: { callId: 'c3', tool: 'Bash', input: { command: 'sleep 9' }, mode: 'observed', at: T(10) } },
];

describe('toSessionView', () => {
  it('gives the docs/ARCHITECTURE.md §5 snapshot of a running session, timestamps from the events', () => {
    const view = toSessionView(fold(history(base)), 10);
    expect(view).toEqual({
      id: 'p-1',
      projectId: 'p',
      kind: 'worker',
      status: 'running',
      agent: 'claude-code',
      agentSessionId: 'cc-9',
      transcriptPath: '/t/cc-9.jsonl',
      branch: 'runledger/p-1',
      baseRef: 'main',
      prompt: 'fix it',
      worktrees: [
        { repo: 'api', path: '/wt/p-1/api', branch: 'runledger/p-1', state: 'active' },
        { repo: 'web', path: '/wt/p-1/web', branch: 'runledger/p-1', state: 'active' },
      ],
      runtime: { type: 'process', pid: 4242, startTime: '981234', alive: null },
      toolCalls: { total: 3, dispatched: 1, completed: 1, failed: 1, interrupted: 0 },
      lastCompletedToolCall: { callId: 'c1', tool: 'Bash', status: 'completed', attempt: 1, completedAt: T(7) },
      runs: { total: 1, open: 1 },
      lastHookAt: T(10),
      restoring: false,
      revision: 10,
      createdAt: T(0),
      updatedAt: T(10),
    });
    // Optional collections are absent (not empty) when there is nothing to report.
    expect(['divergences', 'lateResults', 'warnings', 'interruption', 'termination'].filter((key) => key in view)).toEqual([]);
  });

  it('reports a kill: termination, interrupted in-flight work, preserved and stranded worktrees', () => {
    const events = history([
      ...base,
      { type: 'RecordWorkPreserved', data: { repo: 'web', ref: 'refs/runledger/preserved/p-1/web', commit: 'abc', at: T(11) } },
      { type: 'FlagWorktreeStranded', data: { repo: 'api', reason: 'un-landed commits', at: T(12) } },
      { type: 'RecordWorktreeRemoved', data: { repo: 'web', at: T(13) } },
      { type: 'KillSession', data: { reason: 'user', freed: false, at: T(14) } },
    ]);
    const view = toSessionView(fold(events), events.length - 1);
    expect(view.status).toBe('terminated');
    expect(view.termination).toEqual({ cause: 'killed', reason: 'user', freed: false, at: T(14) });
    expect(view.toolCalls).toEqual({ total: 3, dispatched: 0, completed: 1, failed: 1, interrupted: 1 });
    expect(view.runs).toEqual({ total: 1, open: 0 });
    expect(view.worktrees).toEqual([
      { repo: 'api', path: '/wt/p-1/api', branch: 'runledger/p-1', state: 'active', stranded: true, strandedReason: 'un-landed commits' },
      { repo: 'web', path: '/wt/p-1/web', branch: 'runledger/p-1', state: 'unavailable', preservedRef: 'refs/runledger/preserved/p-1/web' },
    ]);
    expect(view.runtime).toEqual({ type: 'process', pid: 4242, startTime: '981234', alive: null });
    expect(view.revision).toBe(events.length - 1);
    expect(view.updatedAt).toBe(T(14));
  });

  it('surfaces divergences, late results and warnings only when there are some', () => {
    const events = history([
      ...base,
      { type: 'InterruptSession', data: { reason: 'runtime gone', resumable: true, at: T(11) } },
      { type: 'RecordToolCallResult', data: { callId: 'c3', status: 'completed', output: 'late', source: 'transcript', at: T(12) } },
      { type: 'RecordDivergence', data: { callId: 'c3', kind: 'late_result', detail: 'found in transcript', at: T(13) } },
      { type: 'RecordWorktreeSkipped', data: { repo: 'docs', reason: 'left the project', at: T(14) } },
    ]);
    const view = toSessionView(fold(events), events.length - 1);
    expect(view.status).toBe('interrupted');
    expect(view.interruption).toEqual({ reason: 'runtime gone', resumable: true, at: T(11) });
    expect(view.lateResults).toEqual([{ callId: 'c3', attempt: 1, status: 'completed', output: 'late', source: 'transcript', at: T(12) }]);
    expect(view.divergences).toEqual([{ callId: 'c3', kind: 'late_result', detail: 'found in transcript', at: T(13) }]);
    expect(view.warnings).toEqual([{ kind: 'worktree_skipped', repo: 'docs', reason: 'left the project', at: T(14) }]);
  });

  it('is the same whatever the key order of the state (jsonb does not keep it) and survives a JSON round trip', () => {
    const state = fold(history(base));
    const reversed = <T>(record: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(record).reverse());
    const toolCalls = PersistentMap.fromRecord(reversed(state.toolCalls.toJSON()));
    const shuffled = { ...state, worktrees: reversed(state.worktrees), toolCalls, runs: reversed(state.runs) } as Session;
    expect(toSessionView(shuffled, 10)).toEqual(toSessionView(state, 10));
    const roundTripped = reviveSession(JSON.parse(JSON.stringify(state))) as Session;
    expect(JSON.stringify(toSessionView(roundTripped, 10))).toBe(JSON.stringify(toSessionView(state, 10)));
  });

  it('shows a tmux runtime with its session name and null pid/startTime when unknown', () => {
    const events = history([
      base[0],
      { type: 'RecordRuntimeLaunched', data: { runtime: { type: 'tmux', sessionName: 'rl-p-1', command: ['claude'] }, at: T(1) } },
    ]);
    expect(toSessionView(fold(events), 1).runtime).toEqual({ type: 'tmux', pid: null, startTime: null, sessionName: 'rl-p-1', alive: null });
    expect(toSessionView(fold(history([base[0]])), 0).runtime).toBeNull();
  });
});

describe('toToolCallView', () => {
  const calls = (): Record<string, ToolCall> => fold(history(base)).toolCalls.toJSON();

  it('gives the docs/ARCHITECTURE.md §5 tool-call shape of a completed call', () => {
    expect(toToolCallView(calls().c1)).toEqual({
      callId: 'c1',
      tool: 'Bash',
      status: 'completed',
      attempt: 1,
      input: { command: 'ls' },
      mode: 'observed',
      result: { output: 'a\nb', exitCode: 0 },
      source: 'hook',
      runId: 'r1',
      idempotent: false,
      firstDispatchedAt: T(6),
      dispatchedAt: T(6),
      completedAt: T(7),
    });
  });

  it('gives the error of a failed call and no result for one in flight', () => {
    expect(toToolCallView(calls().c2)).toMatchObject({ status: 'failed', result: { error: 'ENOENT' }, source: 'hook', completedAt: T(9) });
    const inFlight = toToolCallView(calls().c3);
    expect(inFlight).toMatchObject({ status: 'dispatched', dispatchedAt: T(10) });
    expect('result' in inFlight || 'source' in inFlight || 'completedAt' in inFlight).toBe(false);
  });

  it('shows the interruption, the retry attempt and a late result of an earlier attempt', () => {
    const events = history([
      ...base,
      { type: 'InterruptToolCall', data: { callId: 'c3', reason: 'owner gone', at: T(11) } },
      { type: 'RetryToolCall', data: { callId: 'c3', at: T(12) } },
      { type: 'RecordToolCallResult', data: { callId: 'c3', attempt: 1, status: 'completed', output: 'old', source: 'agent', at: T(13) } },
    ]);
    const view = toToolCallView(fold(events).toolCalls.toJSON().c3);
    expect(view).toMatchObject({ status: 'dispatched', attempt: 2, firstDispatchedAt: T(10), dispatchedAt: T(12) });
    expect(view.lateResults).toEqual([{ callId: 'c3', attempt: 1, status: 'completed', output: 'old', source: 'agent', at: T(13) }]);
    const interrupted = toToolCallView(fold(events.slice(0, -2)).toolCalls.toJSON().c3);
    expect(interrupted.interruption).toEqual({ reason: 'owner gone', at: T(11) });
  });
});
