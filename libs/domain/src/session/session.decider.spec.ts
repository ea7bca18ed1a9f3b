import { replay } from '../shared/decider';
import { deepFreeze, given } from '../shared/given-when-then';
import { ToolCallIdConflict, ToolCallNotFound, ToolCallNotInFlight } from '../tool-call/tool-call.errors';
import type { ToolCallEvent } from '../tool-call/tool-call.events';
import { WorktreeNotActive, WorktreeNotFound } from '../worktree/worktree.errors';
import type { WorktreeEvent } from '../worktree/worktree.events';
import type { SessionCommand, StartSession } from './session.commands';
import {
  lastCompletedToolCall,
  reviveSession,
  sessionDecider,
  sessionLateResults,
  sessionStreamName,
  toolCallCounts,
  type Session,
  type SessionState,
} from './session.decider';
import {
  AgentRunNotFound,
  AgentRunNotOpen,
  SessionAlreadyStarted,
  SessionAlreadyTerminated,
  SessionInvalid,
  SessionInvalidTransition,
  SessionNotActive,
  SessionNotFound,
  SessionNotOrchestrator,
  SessionNotRestorable,
  SessionWorktreeNotReleased,
} from './session.errors';
import type { ProcessRuntime, SessionEvent } from './session.events';

const T = (s: number): string => `2025-01-01T00:00:${String(s).padStart(2, '0')}.000Z`;
const SID = 'rl-1';
const runtime: ProcessRuntime = { type: 'process', pid: 4242, startTime: '981234', command: ['echo', 'hi'], logPath: '/logs/rl-1.log' };
const runtime2: ProcessRuntime = { ...runtime, pid: 5151, startTime: '991000' };

const startData = (over: Partial<StartSession['data']> = {}): StartSession['data'] => ({
  sessionId: SID,
  projectId: 'p1',
  kind: 'worker',
  agent: 'command',
  command: ['echo', 'hi'],
  branch: 'runledger/rl-1',
  baseRef: 'main',
  at: T(0),
  ...over,
});

// events
const started = (over: Partial<StartSession['data']> = {}): SessionEvent => ({ type: 'SessionStarted', data: startData(over) });
const orchestrator = started({ kind: 'orchestrator', agent: 'claude-code', command: undefined, prompt: 'coordinate' });
const launched = (at = T(1), rt = runtime): SessionEvent => ({ type: 'SessionRuntimeLaunched', data: { runtime: rt, at } });
const launchFailed: SessionEvent = { type: 'SessionLaunchFailed', data: { reason: 'ENOENT', at: T(1) } };
const adopted = (at = T(6)): SessionEvent => ({ type: 'SessionAdopted', data: { runtime, at } });
const interrupted = (at = T(5)): SessionEvent => ({ type: 'SessionInterrupted', data: { reason: 'runtime gone', resumable: true, at } });
const restoreStarted = (at = T(7)): SessionEvent => ({ type: 'SessionRestoreStarted', data: { at } });
const killed: SessionEvent = { type: 'SessionKilled', data: { reason: 'user', freed: false, at: T(8) } };
const retiring: SessionEvent = { type: 'SessionRetiring', data: { at: T(3) } };
const terminated: SessionEvent = { type: 'SessionTerminated', data: { reason: 'exited', at: T(9) } };
const linked: SessionEvent = { type: 'AgentSessionLinked', data: { agentSessionId: 'cc-1', transcriptPath: '/t/cc-1.jsonl', at: T(2) } };
const runStarted = (runId = 'run-1', at = T(2)): SessionEvent => ({ type: 'AgentRunStarted', data: { runId, prompt: 'do it', at } });
const runCompleted: SessionEvent = { type: 'AgentRunCompleted', data: { runId: 'run-1', at: T(4) } };
const runFailed: SessionEvent = { type: 'AgentRunFailed', data: { runId: 'run-1', error: 'crash', at: T(4) } };
const runInterrupted = (reason = 'stop', at = T(4)): SessionEvent => ({ type: 'AgentRunInterrupted', data: { runId: 'run-1', reason, at } });
const callDispatched = (callId = 'call-1', mode: 'observed' | 'managed' = 'observed', attempt = 1, at = T(2)): ToolCallEvent => ({
  type: 'ToolCallDispatched',
  data: { callId, tool: 'Bash', input: { command: 'ls' }, mode, attempt, at },
});
const callCompleted = (callId = 'call-1', at = T(3)): ToolCallEvent => ({
  type: 'ToolCallCompleted',
  data: { callId, attempt: 1, output: 'ok', exitCode: 0, source: 'hook', at },
});
const callFailed = (callId = 'call-1'): ToolCallEvent => ({ type: 'ToolCallFailed', data: { callId, attempt: 1, error: 'x', source: 'hook', at: T(3) } });
const callInterrupted = (callId = 'call-1', reason = 'runtime gone', at = T(5)): ToolCallEvent => ({
  type: 'ToolCallInterrupted',
  data: { callId, attempt: 1, reason, at },
});
const wtCreated = (repo = 'app'): WorktreeEvent => ({
  type: 'WorktreeCreated',
  data: { repo, path: `/wt/rl-1/${repo}`, branch: 'runledger/rl-1', baseRef: 'main', at: T(1) },
});
const wtRemoved = (repo = 'app', preservedRef?: string): WorktreeEvent => ({
  type: 'WorktreeRemoved',
  data: preservedRef ? { repo, preservedRef, at: T(4) } : { repo, at: T(4) },
});
const wtRemovalFailed = (repo = 'app'): WorktreeEvent => ({ type: 'WorktreeRemovalFailed', data: { repo, error: 'busy', at: T(4) } });
const wtRestored = (repo = 'app'): WorktreeEvent => ({ type: 'WorktreeRestored', data: { repo, path: `/wt/rl-1/${repo}`, at: T(7) } });

// commands
const start = (over: Partial<StartSession['data']> = {}): SessionCommand => ({ type: 'StartSession', data: startData(over) });
const recordLaunched = (at = T(1)): SessionCommand => ({ type: 'RecordRuntimeLaunched', data: { runtime, at } });
const recordLaunchFailed: SessionCommand = { type: 'RecordLaunchFailed', data: { reason: 'ENOENT', at: T(1) } };
const adopt: SessionCommand = { type: 'AdoptSession', data: { runtime, at: T(6) } };
const interrupt: SessionCommand = { type: 'InterruptSession', data: { reason: 'runtime gone', resumable: true, at: T(5) } };
const startRestore: SessionCommand = { type: 'StartRestore', data: { at: T(7) } };
const kill: SessionCommand = { type: 'KillSession', data: { reason: 'user', freed: false, at: T(8) } };
const retire: SessionCommand = { type: 'RetireSession', data: { at: T(3) } };
const terminate: SessionCommand = { type: 'TerminateSession', data: { reason: 'exited', at: T(9) } };
const link: SessionCommand = { type: 'LinkAgentSession', data: { agentSessionId: 'cc-1', transcriptPath: '/t/cc-1.jsonl', at: T(2) } };
const startRun = (over: { runId?: string; parentRunId?: string } = {}): SessionCommand => ({
  type: 'StartAgentRun',
  data: { runId: 'run-1', prompt: 'do it', at: T(2), ...over },
});
const completeRun: SessionCommand = { type: 'CompleteAgentRun', data: { runId: 'run-1', at: T(4) } };
const failRun: SessionCommand = { type: 'FailAgentRun', data: { runId: 'run-1', error: 'crash', at: T(4) } };
const dispatch = (callId = 'call-1', tool = 'Bash'): SessionCommand => ({
  type: 'DispatchToolCall',
  data: { callId, tool, input: { command: 'ls' }, mode: 'observed', at: T(2) },
});
const recordResult = (callId = 'call-1'): SessionCommand => ({
  type: 'RecordToolCallResult',
  data: { callId, status: 'completed', output: 'ok', exitCode: 0, source: 'hook', at: T(3) },
});
const retryCall: SessionCommand = { type: 'RetryToolCall', data: { callId: 'call-1', at: T(6) } };
const createWorktree: SessionCommand = {
  type: 'RecordWorktreeCreated',
  data: { repo: 'app', path: '/wt/rl-1/app', branch: 'runledger/rl-1', baseRef: 'main', at: T(1) },
};
const divergence: SessionCommand = { type: 'RecordDivergence', data: { callId: 'call-1', kind: 'missing_result', detail: 'found in transcript', at: T(6) } };

const given_ = (events: SessionEvent[] = []) => given(sessionDecider, events);
const running = [started(), launched()];

describe('session decider', () => {
  describe('StartSession', () => {
    it('starts a session', () => given_().when(start()).then([started()]));

    it('refuses an id that already has a session (ids are never re-minted)', () =>
      given_([started()]).when(start()).thenThrows(SessionAlreadyStarted, { status: 'starting' }));

    it.each<[string, Partial<StartSession['data']>]>([
      ['command', { command: [] }],
      ['command', { command: undefined }],
      ['branch', { branch: '' }],
      ['baseRef', { baseRef: ' ' }],
      ['sessionId', { sessionId: '' }],
    ])('refuses an invalid %s', (field, over) => given_().when(start(over)).thenThrows(SessionInvalid, { field }));
  });

  it.each<SessionCommand>([recordLaunched(), adopt, interrupt, kill, terminate, startRun(), dispatch(), createWorktree, divergence, link])(
    'refuses $type on a session that does not exist',
    (command) => given_().when(command).thenThrows(SessionNotFound),
  );

  describe('RecordRuntimeLaunched', () => {
    it('starting → running', () => given_([started()]).when(recordLaunched()).then([launched()]));
    it('completes a restore of an interrupted session', () =>
      given_([...running, interrupted(), restoreStarted()]).when(recordLaunched(T(8))).then([launched(T(8))]));
    it('completes a restore of a terminated session', () =>
      given_([...running, killed, restoreStarted(T(9))]).when(recordLaunched(T(10))).then([launched(T(10))]));
    it('refuses a running session', () =>
      given_(running).when(recordLaunched()).thenThrows(SessionInvalidTransition, { status: 'running' }));
    it('refuses an interrupted session without a restore', () =>
      given_([...running, interrupted()]).when(recordLaunched()).thenThrows(SessionInvalidTransition, { status: 'interrupted', restoring: false }));
  });

  describe('RecordLaunchFailed', () => {
    it('starting → terminated', () => given_([started()]).when(recordLaunchFailed).then([launchFailed]));
    it('ends a failed restore', () => given_([...running, interrupted(), restoreStarted()]).when(recordLaunchFailed).then([launchFailed]));
    it('refuses a running session', () =>
      given_(running).when(recordLaunchFailed).thenThrows(SessionInvalidTransition, { status: 'running' }));
  });

  describe('AdoptSession (invariant 7)', () => {
    it('adopts a running session found alive', () => given_(running).when(adopt).then([adopted()]));
    it('adopts an interrupted session whose runtime is alive', () => given_([...running, interrupted()]).when(adopt).then([adopted()]));
    it('refuses a starting session', () => given_([started()]).when(adopt).thenThrows(SessionInvalidTransition, { status: 'starting' }));
    it('refuses a retiring session', () =>
      given_([orchestrator, launched(), retiring]).when(adopt).thenThrows(SessionInvalidTransition, { status: 'retiring' }));
    it('refuses a terminated session', () => given_([...running, killed]).when(adopt).thenThrows(SessionAlreadyTerminated));
  });

  describe('InterruptSession', () => {
    it('running → interrupted', () => given_(running).when(interrupt).then([interrupted()]));
    it('starting → interrupted', () => given_([started()]).when(interrupt).then([interrupted()]));
    it('retiring → interrupted', () => given_([orchestrator, launched(), retiring]).when(interrupt).then([interrupted()]));
    it('interrupts open runs and in-flight observed calls, leaving managed calls to their executor (docs/ARCHITECTURE.md §4.3)', () =>
      given_([...running, runStarted(), callDispatched('c-obs'), callDispatched('c-man', 'managed'), callDispatched('c-done'), callCompleted('c-done')])
        .when(interrupt)
        .then([
          interrupted(),
          callInterrupted('c-obs', 'session interrupted: runtime gone'),
          runInterrupted('session interrupted: runtime gone', T(5)),
        ]));
    it('is idempotent on an interrupted session', () => given_([...running, interrupted()]).when(interrupt).then([]));
    it('ends an interrupted restore', () =>
      given_([...running, interrupted(), restoreStarted()]).when(interrupt).then([interrupted()]));
    it('refuses a terminated session', () =>
      given_([...running, killed]).when(interrupt).thenThrows(SessionAlreadyTerminated, { status: 'terminated' }));
  });

  describe('StartRestore', () => {
    it('starts restoring an interrupted session', () => given_([...running, interrupted()]).when(startRestore).then([restoreStarted()]));
    it('starts restoring a terminated session', () => given_([...running, killed]).when(startRestore).then([restoreStarted()]));
    it('is idempotent while a restore is under way', () =>
      given_([...running, interrupted(), restoreStarted()]).when(startRestore).then([]));
    it.each<[string, SessionEvent[]]>([
      ['starting', [started()]],
      ['running', running],
      ['retiring', [orchestrator, launched(), retiring]],
    ])('refuses a %s session', (status, history) => given_(history).when(startRestore).thenThrows(SessionNotRestorable, { status }));
  });

  describe('KillSession', () => {
    it.each<[string, SessionEvent[]]>([
      ['starting', [started()]],
      ['running', running],
      ['interrupted', [...running, interrupted()]],
      ['retiring', [orchestrator, launched(), retiring]],
    ])('%s → terminated', (_status, history) => given_(history).when(kill).then([killed]));
    it('interrupts open runs and in-flight observed calls', () =>
      given_([...running, runStarted(), callDispatched()])
        .when(kill)
        .then([killed, callInterrupted('call-1', 'session killed: user', T(8)), runInterrupted('session killed: user', T(8))]));
    it('refuses a terminated session', () =>
      given_([...running, killed]).when(kill).thenThrows(SessionAlreadyTerminated, { status: 'terminated' }));
  });

  describe('RetireSession (invariant 11)', () => {
    it('running orchestrator → retiring', () => given_([orchestrator, launched()]).when(retire).then([retiring]));
    it('interrupted orchestrator → retiring', () => given_([orchestrator, launched(), interrupted()]).when(retire).then([retiring]));
    it('is idempotent while retiring (a half-done replacement can be retried)', () =>
      given_([orchestrator, launched(), retiring]).when(retire).then([]));
    it('refuses a worker', () => given_(running).when(retire).thenThrows(SessionNotOrchestrator, { kind: 'worker' }));
    it('refuses a terminated orchestrator', () => given_([orchestrator, launched(), killed]).when(retire).thenThrows(SessionAlreadyTerminated));
  });

  describe('TerminateSession', () => {
    it('running → terminated', () => given_(running).when(terminate).then([terminated]));
    it('retiring → terminated once every worktree is released', () =>
      given_([orchestrator, wtCreated('api'), wtCreated('web'), launched(), retiring, wtRemoved('api'), wtRemoved('web', 'refs/runledger/preserved/rl-1/web')])
        .when(terminate)
        .then([terminated]));
    it('refuses retiring → terminated while a worktree is active', () =>
      given_([orchestrator, wtCreated('api'), wtCreated('web'), launched(), retiring, wtRemoved('api')])
        .when(terminate)
        .thenThrows(SessionWorktreeNotReleased, { worktrees: [{ repo: 'web', status: 'active' }] }));
    it('refuses retiring → terminated while a removal must be retried', () =>
      given_([orchestrator, wtCreated(), launched(), retiring, wtRemovalFailed()])
        .when(terminate)
        .thenThrows(SessionWorktreeNotReleased, { worktrees: [{ repo: 'app', status: 'retry_remove' }] }));
    it('refuses a terminated session', () => given_([...running, terminated]).when(terminate).thenThrows(SessionAlreadyTerminated));
  });

  describe('LinkAgentSession', () => {
    it('links the agent session and transcript', () => given_(running).when(link).then([linked]));
    it('is idempotent for the same link', () => given_([...running, linked]).when(link).then([]));
    it('relinks to a new agent session id', () =>
      given_([...running, linked])
        .when({ type: 'LinkAgentSession', data: { agentSessionId: 'cc-2', at: T(3) } })
        .then([{ type: 'AgentSessionLinked', data: { agentSessionId: 'cc-2', at: T(3) } }]));
  });

  describe('agent runs', () => {
    it('starts a run', () => given_(running).when(startRun()).then([runStarted()]));
    it('starts a sub-run under a known parent', () =>
      given_([...running, runStarted()])
        .when(startRun({ runId: 'run-2', parentRunId: 'run-1' }))
        .then([{ type: 'AgentRunStarted', data: { runId: 'run-2', prompt: 'do it', parentRunId: 'run-1', at: T(2) } }]));
    it('is idempotent for an existing runId', () => given_([...running, runStarted()]).when(startRun()).then([]));
    it('refuses an unknown parent run', () =>
      given_(running).when(startRun({ runId: 'run-2', parentRunId: 'nope' })).thenThrows(AgentRunNotFound, { runId: 'nope' }));
    it('refuses a run on a terminated session', () =>
      given_([...running, terminated]).when(startRun()).thenThrows(SessionNotActive, { status: 'terminated' }));
    it('completes a started run', () => given_([...running, runStarted()]).when(completeRun).then([runCompleted]));
    it('fails a started run', () => given_([...running, runStarted()]).when(failRun).then([runFailed]));
    it.each<SessionCommand>([completeRun, failRun])('refuses $type for an unknown run', (command) =>
      given_(running).when(command).thenThrows(AgentRunNotFound, { runId: 'run-1' }));
    it.each<[SessionCommand, SessionEvent, string]>([
      [completeRun, runCompleted, 'completed'],
      [failRun, runFailed, 'failed'],
      [completeRun, runInterrupted(), 'interrupted'],
      [completeRun, runFailed, 'failed'],
    ])('refuses $type for a closed run', (command, closing, status) =>
      given_([...running, runStarted(), closing]).when(command).thenThrows(AgentRunNotOpen, { status }));
  });

  describe('tool calls routed to the tool-call decider', () => {
    it('dispatches a call', () => given_(running).when(dispatch()).then([callDispatched()]));
    it('is idempotent for the same callId and tool (invariant 3)', () => given_([...running, callDispatched()]).when(dispatch()).then([]));
    it('refuses the same callId for another tool', () =>
      given_([...running, callDispatched()]).when(dispatch('call-1', 'Edit')).thenThrows(ToolCallIdConflict));
    it('records a result', () => given_([...running, callDispatched()]).when(recordResult()).then([callCompleted()]));
    it('refuses a result for an unknown call', () => given_(running).when(recordResult()).thenThrows(ToolCallNotFound));
    it('refuses a result for a completed call', () =>
      given_([...running, callDispatched(), callCompleted()]).when(recordResult()).thenThrows(ToolCallNotInFlight, { status: 'completed' }));
    it('records a late result for a call interrupted with its session', () =>
      given_([...running, callDispatched(), interrupted(), callInterrupted()])
        .when(recordResult())
        .then([{ type: 'ToolCallLateResultRecorded', data: { callId: 'call-1', attempt: 1, status: 'completed', output: 'ok', exitCode: 0, source: 'hook', at: T(3) } }]));
    it('records the result of a managed call that outlived its killed session', () =>
      given_([...running, callDispatched('call-1', 'managed'), killed]).when(recordResult()).then([callCompleted()]));
    it('refuses a dispatch on a terminated session', () =>
      given_([...running, terminated]).when(dispatch()).thenThrows(SessionNotActive, { status: 'terminated' }));
    it('refuses a retry on a terminated session', () =>
      given_([...running, callDispatched(), killed]).when(retryCall).thenThrows(SessionNotActive));
    it('retries an interrupted call after a restore', () =>
      given_([...running, callDispatched(), interrupted(), callInterrupted(), restoreStarted(), launched(T(8))])
        .when(retryCall)
        .then([callDispatched('call-1', 'observed', 2, T(6))]));
  });

  describe('worktrees routed to the worktree decider', () => {
    it('records a created worktree', () => given_([started()]).when(createWorktree).then([wtCreated()]));
    it('refuses creating a worktree on a terminated session', () =>
      given_([started(), launchFailed]).when(createWorktree).thenThrows(SessionNotActive));
    it('creates a worktree during a restore of a terminated session', () =>
      given_([started(), launchFailed, restoreStarted()]).when(createWorktree).then([wtCreated()]));
    it('refuses removing a worktree of an unknown repo', () =>
      given_(running).when({ type: 'RecordWorktreeRemoved', data: { repo: 'app', at: T(4) } }).thenThrows(WorktreeNotFound));
    it('refuses removing a worktree that is already removed', () =>
      given_([...running, wtCreated(), wtRemoved()])
        .when({ type: 'RecordWorktreeRemoved', data: { repo: 'app', at: T(5) } })
        .thenThrows(WorktreeNotActive, { status: 'removed' }));
    it('records a skipped repo as a warning', () =>
      given_(running)
        .when({ type: 'RecordWorktreeSkipped', data: { repo: 'old', reason: 'not in project', at: T(7) } })
        .then([{ type: 'WorktreeSkipped', data: { repo: 'old', reason: 'not in project', at: T(7) } }]));
  });

  describe('RecordDivergence', () => {
    const detected: SessionEvent = {
      type: 'DivergenceDetected',
      data: { callId: 'call-1', kind: 'missing_result', detail: 'found in transcript', at: T(6) },
    };
    it('records a divergence', () => given_(running).when(divergence).then([detected]));
    it('is idempotent for the same divergence', () => given_([...running, detected]).when(divergence).then([]));
  });

  describe('evolve and replay', () => {
    it('replays a full session with runs, calls and worktrees', () => {
      const state = replay(sessionDecider, [
        started({ prompt: 'fix it' }),
        wtCreated(),
        launched(),
        linked,
        runStarted(),
        callDispatched('c1'),
        callCompleted('c1'),
        callDispatched('c2'),
        callFailed('c2'),
        runCompleted,
      ]);
      expect(state).toMatchObject({
        status: 'running',
        sessionId: SID,
        projectId: 'p1',
        kind: 'worker',
        agent: 'command',
        command: ['echo', 'hi'],
        prompt: 'fix it',
        runtime,
        agentSessionId: 'cc-1',
        transcriptPath: '/t/cc-1.jsonl',
        restoring: false,
        runs: { 'run-1': { status: 'completed', startedAt: T(2), endedAt: T(4) } },
        worktrees: { app: { status: 'active', path: '/wt/rl-1/app' } },
        divergences: [],
        lateResultCalls: [],
        createdAt: T(0),
        updatedAt: T(4),
      });
      expect(state.status !== 'none' && state.toolCalls.toJSON()).toMatchObject({ c1: { status: 'completed' }, c2: { status: 'failed' } });
      expect(toolCallCounts(state)).toEqual({ total: 2, dispatched: 0, completed: 1, failed: 1, interrupted: 0 });
      expect(lastCompletedToolCall(state)).toMatchObject({ callId: 'c1', status: 'completed' });
    });

    it('regression: a restart after a completed tool result shows that result and interrupts what was in flight', () => {
      const log: SessionEvent[] = [...running, runStarted(), callDispatched('c1'), callCompleted('c1')];
      // the process restarts here: the state is rebuilt from the log alone
      const afterRestart = replay(sessionDecider, log);
      expect(lastCompletedToolCall(afterRestart)).toMatchObject({ callId: 'c1', result: { output: 'ok', source: 'hook' } });
      given_(log).when(recordResult('c1')).thenThrows(ToolCallNotInFlight, { status: 'completed' });
      const inFlight: SessionEvent[] = [...log, callDispatched('c2', 'observed', 1, T(4))];
      given_(inFlight)
        .when(interrupt)
        .then([interrupted(), callInterrupted('c2', 'session interrupted: runtime gone'), runInterrupted('session interrupted: runtime gone', T(5))]);
    });

    it('keeps the id through interrupt, restore and relaunch, and activates restored worktrees', () => {
      const state = replay(sessionDecider, [
        started(),
        wtCreated(),
        launched(),
        interrupted(),
        restoreStarted(),
        wtRestored(),
        launched(T(8), runtime2),
      ]);
      expect(state).toMatchObject({ status: 'running', sessionId: SID, runtime: runtime2, restoring: false, worktrees: { app: { status: 'active' } } });
      expect(state).not.toHaveProperty('interruption');
    });

    it('keeps the status while restoring and records why a session ended', () => {
      expect(replay(sessionDecider, [...running, interrupted(), restoreStarted()])).toMatchObject({
        status: 'interrupted',
        restoring: true,
        interruption: { reason: 'runtime gone', resumable: true },
      });
      expect(replay(sessionDecider, [...running, killed])).toMatchObject({
        status: 'terminated',
        termination: { cause: 'killed', reason: 'user', freed: false },
      });
      expect(replay(sessionDecider, [started(), launchFailed])).toMatchObject({ status: 'terminated', termination: { cause: 'launch_failed' } });
      expect(replay(sessionDecider, [orchestrator, launched(), retiring, terminated])).toMatchObject({
        status: 'terminated',
        kind: 'orchestrator',
        termination: { cause: 'terminated', reason: 'exited' },
      });
    });

    it('collects late results, divergences and warnings on the session', () => {
      const late: ToolCallEvent = {
        type: 'ToolCallLateResultRecorded',
        data: { callId: 'call-1', attempt: 1, status: 'completed', output: 'ok', source: 'transcript', at: T(6) },
      };
      const state = replay(sessionDecider, [
        ...running,
        callDispatched(),
        interrupted(),
        callInterrupted(),
        late,
        { type: 'DivergenceDetected', data: { callId: 'call-1', kind: 'missing_result', detail: 'x', at: T(6) } },
        { type: 'WorktreeSkipped', data: { repo: 'old', reason: 'not in project', at: T(7) } },
      ]);
      expect(state.status !== 'none' && sessionLateResults(state)).toEqual([late.data]);
      expect(state).toMatchObject({
        lateResultCalls: ['call-1'],
        divergences: [{ callId: 'call-1', kind: 'missing_result', detail: 'x', at: T(6) }],
        warnings: [{ kind: 'worktree_skipped', repo: 'old', reason: 'not in project', at: T(7) }],
      });
      expect(state.status !== 'none' && state.toolCalls.toJSON()).toMatchObject({ 'call-1': { status: 'interrupted' } });
      expect(toolCallCounts(state)).toEqual({ total: 1, dispatched: 0, completed: 0, failed: 0, interrupted: 1 });
    });

    it('keeps each late result once, on its call, and reads a snapshot that kept a copy on the session', () => {
      const late: ToolCallEvent = { type: 'ToolCallLateResultRecorded', data: { callId: 'call-1', attempt: 1, status: 'failed', source: 'hook', at: T(6) } };
      const state = replay(sessionDecider, [...running, callDispatched(), interrupted(), callInterrupted(), late]);
      if (state.status === 'none') throw new Error('no session');
      expect(state).not.toHaveProperty('lateResults');
      const { lateResultCalls: _dropped, ...older } = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
      const revived = reviveSession({ ...older, lateResults: [late.data] });
      expect(revived).toMatchObject({ lateResultCalls: ['call-1'] });
      expect(revived).not.toHaveProperty('lateResults');
      expect(sessionLateResults(revived as typeof state)).toEqual([late.data]);
    });

    it('counts nothing for a session that does not exist', () => {
      expect(toolCallCounts({ status: 'none' })).toEqual({ total: 0, dispatched: 0, completed: 0, failed: 0, interrupted: 0 });
      expect(lastCompletedToolCall({ status: 'none' })).toBeUndefined();
      expect(sessionStreamName(SID)).toBe('session-rl-1');
    });

    it('serializes to JSON and back unchanged', () => {
      const state = replay(sessionDecider, [...running, wtCreated(), runStarted(), callDispatched(), callCompleted(), linked]);
      expect(reviveSession(JSON.parse(JSON.stringify(state)))).toEqual(state);
    });

    it('does not mutate its input state', () => {
      const history: SessionEvent[] = [
        started(),
        wtCreated(),
        launched(),
        linked,
        runStarted(),
        callDispatched(),
        callCompleted(),
        callDispatched('call-2'),
        interrupted(),
        callInterrupted('call-2'),
        runInterrupted(),
        { type: 'ToolCallLateResultRecorded', data: { callId: 'call-2', attempt: 1, status: 'failed', source: 'hook', at: T(6) } },
        { type: 'DivergenceDetected', data: { kind: 'k', detail: 'd', at: T(6) } },
        { type: 'WorktreeWorkPreserved', data: { repo: 'app', ref: 'refs/runledger/preserved/rl-1', commit: 'c0ffee', at: T(6) } },
        wtRemoved('app', 'refs/runledger/preserved/rl-1'),
        { type: 'WorktreeSkipped', data: { repo: 'old', reason: 'gone', at: T(6) } },
        restoreStarted(),
        wtRestored(),
        launched(T(8), runtime2),
        adopted(T(9)),
        killed,
      ];
      let state: SessionState = deepFreeze(sessionDecider.initialState());
      for (const event of history) {
        const before = JSON.stringify(state);
        const next = sessionDecider.evolve(state, event);
        expect(JSON.stringify(state)).toBe(before);
        expect(next).not.toBe(state);
        state = deepFreeze(next);
      }
      expect(state.status).toBe('terminated');
    });

    it('evolveAll folds a run of events to what one evolve per event gives, and never changes the state it starts from', () => {
      const calls = (from: number, to: number): SessionEvent[] =>
        Array.from({ length: to - from }, (_, i) => [callDispatched(`call-${from + i}`), callCompleted(`call-${from + i}`)]).flat();
      const first: SessionEvent[] = [started(), launched(), linked, ...calls(0, 400), callDispatched('call-open')];
      const rest: SessionEvent[] = [
        ...calls(400, 900),
        callDispatched('call-5', 'observed', 2),
        callCompleted('call-5'),
        callInterrupted('call-open'),
        { type: 'ToolCallLateResultRecorded', data: { callId: 'call-open', attempt: 1, status: 'completed', source: 'hook', at: T(6) } },
        terminated,
        ...calls(900, 950),
      ];
      const one = (events: SessionEvent[], from: SessionState) => events.reduce(sessionDecider.evolve, from);
      const base = deepFreeze(sessionDecider.evolveAll!(sessionDecider.initialState(), first));
      expect(base).toEqual(one(first, sessionDecider.initialState()));
      const before = JSON.stringify(base);
      const after = sessionDecider.evolveAll!(base, rest);
      expect(JSON.stringify(base)).toBe(before);
      const expected = one(rest, one(first, sessionDecider.initialState()));
      expect(after).toEqual(expected);
      expect(JSON.stringify(after)).toBe(JSON.stringify(expected));
      expect((after as Session).toolCalls.size).toBe(951);
      // The map it returns is immutable again: a later set leaves it as it was.
      const calls951 = JSON.stringify((after as Session).toolCalls);
      (after as Session).toolCalls.set('call-new', (after as Session).toolCalls.get('call-1')!);
      expect(JSON.stringify((after as Session).toolCalls)).toBe(calls951);
      expect(replay(sessionDecider, [...first, ...rest])).toEqual(expected);
    });
  });
});

describe('agent signals from hooks (activity, kept hook events, the agent session end)', () => {
  const running = [started(), launched()];
  const activity = (value: 'working' | 'waiting_input' | 'idle', hook = 'PreToolUse'): SessionCommand => ({ type: 'SetAgentActivity', data: { activity: value, hook, at: T(3) } });

  it('keeps every hook event it is given, even a repeat', () =>
    given(sessionDecider, [...running, { type: 'AgentHookReceived', data: { hook: 'Notification', detail: { message: 'hi' }, at: T(2) } }])
      .when({ type: 'RecordAgentHook', data: { hook: 'Notification', detail: { message: 'hi' }, at: T(3) } })
      .then([{ type: 'AgentHookReceived', data: { hook: 'Notification', detail: { message: 'hi' }, at: T(3) } }]));

  it('changes the activity only when it differs', () => {
    given(sessionDecider, running).when(activity('working')).then([{ type: 'AgentActivityChanged', data: { activity: 'working', hook: 'PreToolUse', at: T(3) } }]);
    given(sessionDecider, [...running, { type: 'AgentActivityChanged', data: { activity: 'working', hook: 'UserPromptSubmit', at: T(2) } }]).when(activity('working')).then([]);
  });

  it('records the end of the agent session once per reason', () => {
    const end: SessionCommand = { type: 'RecordAgentSessionEnded', data: { reason: 'prompt_input_exit', at: T(4) } };
    given(sessionDecider, running).when(end).then([{ type: 'AgentSessionEnded', data: { reason: 'prompt_input_exit', at: T(4) } }]);
    given(sessionDecider, [...running, { type: 'AgentSessionEnded', data: { reason: 'prompt_input_exit', at: T(4) } }]).when(end).then([]);
  });

  it('folds activity, the last hook signal, the end reason and a sub-agent run with its transcript', () => {
    const state = replay(sessionDecider, [
      ...running,
      runStarted(),
      { type: 'AgentRunStarted', data: { runId: 'subagent:agent-a1', parentRunId: 'run-1', agentId: 'a1', agentType: 'Explore', at: T(3) } },
      { type: 'AgentRunCompleted', data: { runId: 'subagent:agent-a1', transcriptPath: '/t/subagents/agent-a1.jsonl', at: T(4) } },
      { type: 'AgentActivityChanged', data: { activity: 'idle', hook: 'Stop', at: T(5) } },
      { type: 'AgentSessionEnded', data: { reason: 'other', at: T(6) } },
    ]) as SessionState & { status: 'running' };
    expect(state).toMatchObject({ activity: 'idle', lastHookAt: T(6), agentEnded: { reason: 'other', at: T(6) } });
    expect(state.runs['subagent:agent-a1']).toMatchObject({ status: 'completed', agentId: 'a1', agentType: 'Explore', parentRunId: 'run-1', transcriptPath: '/t/subagents/agent-a1.jsonl' });
  });
});

describe('exited: the runtime ended on its own (docs/ARCHITECTURE.md §2)', () => {
  const running: SessionEvent[] = [started(), launched()];
  const exit = (over: Record<string, unknown> = {}): SessionCommand => ({ type: 'RecordRuntimeExited', data: { exitCode: 0, finished: true, reason: 'done', at: T(5), ...over } });
  const exited: SessionEvent = { type: 'SessionExited', data: { exitCode: 0, finished: true, reason: 'done', at: T(5) } };
  const call: SessionEvent = { type: 'ToolCallDispatched', data: { callId: 'c1', tool: 'Bash', input: {}, mode: 'observed', attempt: 1, at: T(3) } };

  it('records the exit of a running session, interrupting what was in flight', () =>
    given_([...running, call, runStarted('run-1', T(2))]).when(exit({ exitCode: undefined, signal: 'SIGKILL', finished: false })).then([
      { type: 'SessionExited', data: { signal: 'SIGKILL', finished: false, reason: 'done', at: T(5) } },
      { type: 'ToolCallInterrupted', data: { callId: 'c1', attempt: 1, reason: 'agent exited: done', at: T(5) } },
      { type: 'AgentRunInterrupted', data: { runId: 'run-1', reason: 'agent exited: done', at: T(5) } },
    ]));
  it('appends nothing for a second exit', () => given_([...running, exited]).when(exit()).then([]));
  it('refuses an exit of a session that is not running', () => given_([started()]).when(exit()).thenThrows('SESSION.INVALID_TRANSITION'));
  it('is restorable: a restore (resume) relaunches it under the same id with its resume mode', () => {
    given_([...running, exited]).when({ type: 'StartRestore', data: { at: T(6) } }).then([{ type: 'SessionRestoreStarted', data: { at: T(6) } }]);
    given_([...running, exited, { type: 'SessionRestoreStarted', data: { at: T(6) } }])
      .when({ type: 'RecordRuntimeLaunched', data: { runtime: runtime2, resumeMode: 'native', at: T(7) } })
      .then([{ type: 'SessionRuntimeLaunched', data: { runtime: runtime2, resumeMode: 'native', at: T(7) } }]);
  });
  it('is not interrupted by a later reconcile, and can still be killed', () => {
    given_([...running, exited]).when({ type: 'InterruptSession', data: { reason: 'gone', resumable: true, at: T(6) } }).then([]);
    given_([...running, exited]).when({ type: 'KillSession', data: { reason: 'user', freed: true, at: T(6) } }).then([{ type: 'SessionKilled', data: { reason: 'user', freed: true, at: T(6) } }]);
  });
});
