import { replay } from '../shared/decider';
import { deepFreeze } from '../shared/given-when-then';
import type { ToolCallEvent } from '../tool-call/tool-call.events';
import { toolCallRecorder } from '../tool-call/tool-call.recorder';
import { reconcileDecision, restorePolicy, type ReconcileFacts, type ReconcilePlan, type TranscriptFacts } from './reconcile.policy';
import { decideSession, evolveSession, sessionDecider, type Session, type SessionState } from './session.decider';
import type { ProcessRuntime, SessionEvent } from './session.events';

const T = (s: number): string => `2025-01-01T00:00:${String(s).padStart(2, '0')}.000Z`;
const NOW = T(50);
const runtime: ProcessRuntime = { type: 'process', pid: 4242, startTime: '981234', command: ['claude'], logPath: '/logs/rl-1.log' };
const started = (over: Record<string, unknown> = {}): SessionEvent => ({
  type: 'SessionStarted',
  data: { sessionId: 'rl-1', projectId: 'p1', kind: 'worker', agent: 'claude-code', prompt: 'fix it', branch: 'runledger/rl-1', baseRef: 'main', at: T(0), ...over },
});
const launched: SessionEvent = { type: 'SessionRuntimeLaunched', data: { runtime, at: T(1) } };
const linked: SessionEvent = { type: 'AgentSessionLinked', data: { agentSessionId: 'cc-1', transcriptPath: '/t/cc-1.jsonl', at: T(2) } };
const runStarted: SessionEvent = { type: 'AgentRunStarted', data: { runId: 'run-1', prompt: 'fix it', at: T(3) } };
const runCompleted: SessionEvent = { type: 'AgentRunCompleted', data: { runId: 'run-1', at: T(9) } };
const dispatched = (callId: string, tool = 'Bash', mode: 'observed' | 'managed' = 'observed'): ToolCallEvent => ({
  type: 'ToolCallDispatched', data: { callId, tool, input: { command: 'ls' }, mode, attempt: 1, runId: 'run-1', at: T(4) },
});
const completed = (callId: string): ToolCallEvent => ({ type: 'ToolCallCompleted', data: { callId, attempt: 1, output: 'ok', source: 'hook', at: T(5) } });
const interruptedCall = (callId: string): ToolCallEvent => ({ type: 'ToolCallInterrupted', data: { callId, attempt: 1, reason: 'gone', at: T(6) } });
const exited: SessionEvent = { type: 'SessionExited', data: { exitCode: 0, finished: true, reason: 'done', at: T(10) } };
const interrupted: SessionEvent = { type: 'SessionInterrupted', data: { reason: 'gone', resumable: true, at: T(10) } };

const facts = (over: Partial<ReconcileFacts> = {}): ReconcileFacts => ({
  trigger: 'boot', runtime: { state: 'dead' }, transcript: null, liveManagedCalls: [], launchInProgress: false, at: NOW, ...over,
});
/** The transcript facts here hold no secret: the recorder's redaction is the identity. */
const record = toolCallRecorder(<V>(value: V): V => value);
const transcript = (over: Partial<TranscriptFacts> = {}): TranscriptFacts => ({ calls: [], lastTurnEnded: false, settled: true, record, ...over });
const call = (callId: string, result: 'completed' | 'failed' | null = 'completed', tool = 'Bash') => ({
  callId, tool, input: { command: 'ls' }, result: result ? { status: result, output: `${callId} out` } : null,
});

/** given a session history, when the policy sees `f`: the plan; its commands are also run through the decider (they must be accepted). */
const given = (...history: SessionEvent[]) => ({
  when: (f: ReconcileFacts): ReconcilePlan & { after: Session } => {
    const state = deepFreeze(replay(sessionDecider, history)) as Session;
    const plan = reconcileDecision(state, f);
    let after: SessionState = state;
    for (const command of plan.commands) after = decideSession(command, after).reduce(evolveSession, after);
    return { ...plan, after: after as Session };
  },
});
const types = (plan: ReconcilePlan) => plan.commands.map((c) => c.type);

describe('reconcile policy: the runtime (docs/ARCHITECTURE.md §4.2, invariants 7 and 14)', () => {
  it('adopts a live runtime at boot, same id', () => {
    const plan = given(started(), launched).when(facts({ runtime: { state: 'alive' } }));
    expect(plan.outcome).toBe('adopted');
    expect(plan.commands).toEqual([{ type: 'AdoptSession', data: { runtime, at: NOW } }]);
    expect(plan.relaunch).toBeNull();
  });

  it.each(['dead', 'alive'] as const)('never adopts back, interrupts or relaunches a retiring orchestrator (runtime %s): its replacement completes it', (state) => {
    const retiring: SessionEvent = { type: 'SessionRetiring', data: { reason: 'replaced', at: T(11) } };
    const plan = given(started({ kind: 'orchestrator' }), launched, retiring).when(facts({ runtime: { state } as ReconcileFacts['runtime'] }));
    expect(plan).toMatchObject({ outcome: 'unchanged', commands: [], relaunch: null });
    expect(plan.after.status).toBe('retiring');
  });

  it('leaves a running session with a live runtime alone when the watcher looks', () => {
    const plan = given(started(), launched).when(facts({ trigger: 'watch', runtime: { state: 'alive' } }));
    expect(plan).toMatchObject({ outcome: 'unchanged', commands: [], relaunch: null });
  });

  it('records an agent launched but never recorded instead of launching a second one', () => {
    const other: ProcessRuntime = { ...runtime, pid: 77 };
    expect(types(given(started()).when(facts({ runtime: { state: 'unrecorded', runtime: other } })))).toEqual(['RecordRuntimeLaunched']);
    expect(given(started(), launched).when(facts({ runtime: { state: 'unrecorded', runtime: other } })).commands).toEqual([{ type: 'AdoptSession', data: { runtime: other, at: NOW } }]);
  });

  it('interrupts the calls of a dead runtime when it adopts an agent the log never recorded in its place (invariant 6)', () => {
    // The recorded runtime is dead: its in-flight observed calls have no owner, whatever live process of the session is adopted.
    const other: ProcessRuntime = { ...runtime, pid: 77 };
    for (const trigger of ['boot', 'watch'] as const) {
      const plan = given(started(), launched, linked, runStarted, dispatched('c1'), dispatched('c2'), completed('c2'), dispatched('m1', 'Bash', 'managed'))
        .when(facts({ trigger, runtime: { state: 'unrecorded', runtime: other }, liveManagedCalls: ['m1'] }));
      expect(plan.outcome).toBe('adopted');
      expect(types(plan)).toEqual(['InterruptToolCall', 'AdoptSession']);
      expect(plan.counts.toolCallsInterrupted).toBe(1);
      expect(plan.after).toMatchObject({ status: 'running', runtime: other });
      expect(plan.after.toolCalls.get('c1')?.status).toBe('interrupted');
      expect(plan.after.toolCalls.get('c2')?.status).toBe('completed');
      expect(plan.after.toolCalls.get('m1')?.status).toBe('dispatched'); // a managed call stays with its executor
    }
  });

  it('keeps the calls of an agent launched but never recorded: they are its own', () => {
    const other: ProcessRuntime = { ...runtime, pid: 77 };
    const plan = given(started(), dispatched('c1')).when(facts({ runtime: { state: 'unrecorded', runtime: other } }));
    expect(types(plan)).toEqual(['RecordRuntimeLaunched']);
    expect(plan.after.toolCalls.get('c1')?.status).toBe('dispatched');
  });

  it('never relaunches an agent whose last run finished (Stop recorded): exited', () => {
    const plan = given(started(), launched, linked, runStarted, dispatched('c1'), completed('c1'), runCompleted).when(facts());
    expect(plan.outcome).toBe('exited');
    expect(plan.relaunch).toBeNull();
    expect(plan.after).toMatchObject({ status: 'exited', exit: { finished: true } });
  });

  it('never relaunches an agent whose transcript ended its last turn: its open run completes, exited', () => {
    const plan = given(started(), launched, linked, runStarted).when(facts({ transcript: transcript({ lastTurnEnded: true }) }));
    expect(types(plan)).toEqual(['CompleteAgentRun', 'RecordRuntimeExited']);
    expect(plan.relaunch).toBeNull();
    expect(plan.after.runs['run-1'].status).toBe('completed');
  });

  it('fails the open run of a transcript whose last turn ended on an API error Claude Code gave up on', () => {
    const plan = given(started(), launched, linked, runStarted).when(facts({ transcript: transcript({ lastTurnEnded: true, lastTurnFailure: 'unknown: API Error: 400 bad' }) }));
    expect(types(plan)).toEqual(['FailAgentRun', 'RecordRuntimeExited']);
    expect(plan.after.runs['run-1']).toMatchObject({ status: 'failed', error: 'unknown: API Error: 400 bad' });
  });

  it('records the exit code or signal the watcher observed, even mid-run: exited, not relaunched', () => {
    const plan = given(started(), launched, linked, runStarted, dispatched('c1')).when(facts({ trigger: 'watch', runtime: { state: 'dead', signal: 'SIGKILL' } }));
    expect(plan.outcome).toBe('exited');
    expect(plan.after).toMatchObject({ status: 'exited', exit: { signal: 'SIGKILL', finished: false } });
    expect(plan.after.toolCalls.get("c1")!.status).toBe('interrupted');
    expect(plan.relaunch).toBeNull();
  });

  it('interrupts a Claude session cut short and resumes it natively when it has an agent session id', () => {
    const plan = given(started(), launched, linked, runStarted, dispatched('c1')).when(facts({ transcript: transcript({ settled: true, calls: [call('c1', null)] }) }));
    expect(plan).toMatchObject({ outcome: 'interrupted', relaunch: 'native' });
    expect(plan.after).toMatchObject({ status: 'interrupted', interruption: { resumable: true } });
    expect(plan.after.toolCalls.get("c1")!.status).toBe('interrupted');
  });

  it('relaunches fresh a worker with a prompt and no agent session; leaves a promptless one interrupted', () => {
    expect(given(started({ agent: 'command', command: ['x'] }), launched).when(facts()).relaunch).toBe('fresh');
    const promptless = given(started({ agent: 'command', command: ['x'], prompt: undefined }), launched).when(facts());
    expect(promptless).toMatchObject({ outcome: 'interrupted', relaunch: null });
    expect(promptless.after).toMatchObject({ interruption: { resumable: false } });
  });

  it('relaunches an interrupted session again at boot but never on a reconcile request', () => {
    expect(given(started(), launched, linked, interrupted).when(facts()).relaunch).toBe('native');
    const requested = given(started(), launched, linked, interrupted).when(facts({ trigger: 'request' }));
    expect(requested).toMatchObject({ outcome: 'interrupted', relaunch: null, commands: [] });
  });

  it('records exited, never relaunches, a session under restore whose agent finished before its launch was recorded', () => {
    const restoreStarted: SessionEvent = { type: 'SessionRestoreStarted', data: { at: T(11) } };
    const plan = given(started(), launched, linked, runStarted, dispatched('c1'), interrupted, restoreStarted).when(facts({ transcript: transcript({ lastTurnEnded: true }) }));
    expect(plan).toMatchObject({ outcome: 'exited', relaunch: null });
    expect(plan.after).toMatchObject({ status: 'exited', restoring: false, exit: { finished: true } });
    expect((plan.after as Extract<Session, { status: 'exited' }>).exit).not.toHaveProperty('exitCode');
    // Its turn not ended: cut short again, and resumed natively.
    const cut = given(started(), launched, linked, runStarted, dispatched('c1'), interrupted, restoreStarted).when(facts({ transcript: transcript({ lastTurnEnded: false }) }));
    expect(cut).toMatchObject({ outcome: 'interrupted', relaunch: 'native' });
    // An interrupted session not under restore is left to its restore policy, whatever its transcript says.
    expect(given(started(), launched, linked, interrupted).when(facts({ transcript: transcript({ lastTurnEnded: true }) })).outcome).toBe('interrupted');
  });

  it('leaves an exited session exited (a restart never repeats its work)', () => {
    expect(given(started(), launched, linked, runStarted, runCompleted, exited).when(facts())).toMatchObject({ outcome: 'unchanged', commands: [], relaunch: null });
  });

  it('interrupts a call recorded after the session ended when its runtime is dead (a hook that outlived its agent)', () => {
    const afterExit = given(started(), launched, linked, runStarted, runCompleted, exited, dispatched('late')).when(facts({ trigger: 'request' }));
    expect(afterExit).toMatchObject({ outcome: 'unchanged', relaunch: null, commands: [{ type: 'InterruptToolCall', data: { callId: 'late' } }] });
    expect(afterExit.after.toolCalls.get('late')).toMatchObject({ status: 'interrupted' });
    const afterInterruption = given(started(), launched, linked, interrupted, dispatched('late')).when(facts({ trigger: 'request' }));
    expect(types(afterInterruption)).toEqual(['InterruptToolCall']);
    expect(afterInterruption).toMatchObject({ outcome: 'interrupted', relaunch: null });
  });

  it('interrupts the unowned calls of an external session and never relaunches it', () => {
    const plan = given(started({ agent: 'external', prompt: undefined }), dispatched('c1')).when(facts({ runtime: { state: 'none' } }));
    expect(types(plan)).toEqual(['InterruptToolCall']);
    expect(plan.relaunch).toBeNull();
  });

  it('leaves a remote session\'s calls in flight to its agent\'s hooks: a restart of this server is no evidence against an agent on another machine', () => {
    const plan = given(started({ agent: 'external', prompt: undefined, remote: { host: 'laptop', person: 'alice' } }), dispatched('c1')).when(facts({ trigger: 'boot', runtime: { state: 'remote' } }));
    expect(plan).toMatchObject({ commands: [], outcome: 'unchanged', relaunch: null });
    expect(plan.after.toolCalls.get('c1')).toMatchObject({ status: 'dispatched' });
  });

  it('touches only the calls when a launch of this process is under way, or on a Stop hook', () => {
    expect(given(started()).when(facts({ launchInProgress: true }))).toMatchObject({ commands: [], outcome: 'unchanged' });
    expect(given(started(), launched, runStarted).when(facts({ trigger: 'hook', transcript: transcript({ settled: false }) }))).toMatchObject({ commands: [], outcome: 'unchanged' });
  });
});

describe('reconcile policy: managed calls (invariant 6)', () => {
  it('interrupts a managed call whose executor is gone and keeps one whose lease holder lives', () => {
    const history = [started({ agent: 'command', command: ['x'] }), launched, dispatched('m1', 'shell', 'managed'), dispatched('m2', 'shell', 'managed')];
    const plan = given(...history).when(facts({ runtime: { state: 'alive' }, liveManagedCalls: ['m2'] }));
    expect(plan.commands[0]).toEqual({ type: 'InterruptToolCall', data: { callId: 'm1', reason: 'its executor is gone (runledger restarted)', at: NOW } });
    expect(plan.after.toolCalls.get("m2")!.status).toBe('dispatched');
  });

  it('still interrupts orphaned managed calls of a terminated session, and nothing else', () => {
    const killed: SessionEvent = { type: 'SessionKilled', data: { reason: 'user', freed: true, at: T(7) } };
    const plan = given(started({ agent: 'command', command: ['x'] }), launched, killed, dispatched('m1', 'shell', 'managed')).when(facts());
    expect(plan).toMatchObject({ outcome: 'terminal', relaunch: null });
    expect(types(plan)).toEqual(['InterruptToolCall']);
  });
});

describe('reconcile policy: the log equals the transcript (docs/ARCHITECTURE.md §4.3, invariant 15)', () => {
  it('appends a call the log never saw, with its result, source transcript, and a divergence naming it', () => {
    const plan = given(started(), launched, linked, runStarted).when(facts({ trigger: 'hook', transcript: transcript({ calls: [call('c9', 'failed', 'Write')] }) }));
    expect(plan.commands).toEqual([
      { type: 'DispatchToolCall', data: { callId: 'c9', tool: 'Write', input: { command: 'ls' }, mode: 'observed', source: 'transcript', at: NOW } },
      { type: 'RecordToolCallResult', data: { callId: 'c9', status: 'failed', output: 'c9 out', source: 'transcript', at: NOW } },
      { type: 'RecordDivergence', data: { callId: 'c9', kind: 'call_only_in_transcript', detail: 'Write: in the transcript, never seen live; appended from the transcript', at: NOW } },
    ]);
    expect(plan.after.toolCalls.get("c9")!).toMatchObject({ status: 'failed', dispatchSource: 'transcript', result: { source: 'transcript' } });
    expect(plan.counts.callsFromTranscript).toBe(1);
  });

  it('leaves a call without a result to its PreToolUse hook while the agent runs (unsettled), and appends it once settled', () => {
    const history = [started(), launched, linked, runStarted];
    const pending = given(...history).when(facts({ trigger: 'hook', transcript: transcript({ settled: false, calls: [call('c7', null)] }) }));
    expect(pending.commands).toEqual([]);
    const settled = given(...history).when(facts({ trigger: 'hook', transcript: transcript({ settled: true, calls: [call('c7', null)] }) }));
    expect(types(settled)).toEqual(['DispatchToolCall', 'RecordDivergence']);
    // One with a result ran without its hook: appended while the agent runs.
    const ran = given(...history).when(facts({ trigger: 'hook', transcript: transcript({ settled: false, calls: [call('c8', 'completed')] }) }));
    expect(types(ran)).toEqual(['DispatchToolCall', 'RecordToolCallResult', 'RecordDivergence']);
  });

  it('appends a call the log never saw without a result, which the session interruption then closes', () => {
    const plan = given(started(), launched, linked, runStarted).when(facts({ transcript: transcript({ calls: [call('c9', null)] }) }));
    expect(plan.after.toolCalls.get("c9")!).toMatchObject({ status: 'interrupted', dispatchSource: 'transcript' });
  });

  it('leaves a dispatched call\'s result to its held PostToolUse while an agent that writes results first (Codex) runs, and takes it once settled', () => {
    const history = [started(), launched, linked, runStarted, dispatched('c1')];
    const alive = given(...history).when(facts({ runtime: { state: 'alive' }, transcript: transcript({ calls: [call('c1')], settled: false, resultsBeforeHook: true }) }));
    expect(types(alive)).not.toContain('RecordToolCallResult');
    expect(alive.after.toolCalls.get('c1')!).toMatchObject({ status: 'dispatched' });
    const settled = given(...history).when(facts({ trigger: 'hook', transcript: transcript({ calls: [call('c1')], settled: true, resultsBeforeHook: true }) }));
    expect(settled.after.toolCalls.get('c1')!).toMatchObject({ status: 'completed', result: { source: 'transcript' } });
  });

  it('appends a result the log lacks (dispatched), and as a late result for an interrupted attempt', () => {
    const plan = given(started(), launched, linked, runStarted, dispatched('c1'), dispatched('c2'), interruptedCall('c2'))
      .when(facts({ trigger: 'hook', transcript: transcript({ calls: [call('c1'), call('c2')] }) }));
    expect(types(plan)).toEqual(['RecordToolCallResult', 'RecordDivergence', 'RecordToolCallResult', 'RecordDivergence']);
    expect(plan.after.toolCalls.get("c1")!).toMatchObject({ status: 'completed', result: { source: 'transcript' } });
    expect(plan.after.toolCalls.get("c2")!).toMatchObject({ status: 'interrupted', lateResults: [{ source: 'transcript' }] });
    expect(plan.counts.resultsFromTranscript).toBe(2);
  });

  it('reports a call the log has and a settled transcript lacks, but not while the transcript may trail the hooks', () => {
    const history = [started(), launched, linked, runStarted, dispatched('c1'), completed('c1')];
    expect(given(...history).when(facts({ trigger: 'hook', transcript: transcript({ settled: false }) })).commands).toEqual([]);
    const plan = given(...history).when(facts({ trigger: 'hook', transcript: transcript({ settled: true }) }));
    expect(plan.commands).toEqual([{ type: 'RecordDivergence', data: { callId: 'c1', kind: 'call_only_in_log', detail: 'Bash: in the log, not in the agent\'s transcript', at: NOW } }]);
  });

  it('reports a different tool or status and changes nothing else', () => {
    const plan = given(started(), launched, linked, runStarted, dispatched('c1'), completed('c1'), dispatched('c2'), completed('c2'))
      .when(facts({ trigger: 'hook', transcript: transcript({ calls: [call('c1', 'completed', 'Read'), call('c2', 'failed')] }) }));
    expect(plan.commands.map((c) => (c as { data: { kind: string } }).data.kind)).toEqual(['tool_mismatch', 'status_mismatch']);
  });

  it('never appends a conversation fork\'s inherited calls (its source\'s), only the calls after the fork', () => {
    const fork = { sessionId: 'rl-0', callId: 'c1', phase: 'after', tree: 't', forkMode: 'conversation', inheritedCalls: ['c0', 'c1'] };
    const plan = given(started({ forkedFrom: fork }), launched, linked).when(facts({ trigger: 'hook', runtime: { state: 'alive' }, transcript: transcript({ calls: [call('c0'), call('c1'), call('c2')] }) }));
    expect(plan.commands.filter((c) => c.type === 'DispatchToolCall').map((c) => (c.data as { callId: string }).callId)).toEqual(['c2']);
  });

  it('appends nothing when reconciled twice', () => {
    const t = transcript({ calls: [call('c1'), call('c9', 'failed'), call('c10', null)], lastTurnEnded: true });
    const first = given(started(), launched, linked, runStarted, dispatched('c1'), dispatched('c5')).when(facts({ trigger: 'hook', transcript: t }));
    expect(first.commands.length).toBeGreaterThan(0);
    const second = reconcileDecision(deepFreeze(first.after), facts({ trigger: 'hook', transcript: t }));
    expect(second.commands).toEqual([]);
  });

  it('never opens work on a terminated session from its transcript', () => {
    const killed: SessionEvent = { type: 'SessionKilled', data: { reason: 'user', freed: true, at: T(7) } };
    expect(given(started(), launched, killed).when(facts({ transcript: transcript({ calls: [call('c9')] }) })).commands).toEqual([]);
  });
});

describe('restore policy (docs/ARCHITECTURE.md §4.2)', () => {
  const state = (...history: SessionEvent[]) => replay(sessionDecider, history) as Session;
  it('native for a Claude session with its agent session id; fresh for an orchestrator or a worker with a prompt; none otherwise', () => {
    expect(restorePolicy(state(started(), linked)).mode).toBe('native');
    expect(restorePolicy(state(started())).mode).toBe('fresh');
    expect(restorePolicy(state(started({ kind: 'orchestrator', prompt: undefined }))).mode).toBe('fresh');
    expect(restorePolicy(state(started({ agent: 'command', command: ['x'], prompt: undefined }))).mode).toBeNull();
    expect(restorePolicy(state(started({ agent: 'external', prompt: undefined }))).mode).toBeNull();
  });
});
