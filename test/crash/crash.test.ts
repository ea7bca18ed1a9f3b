import { chosenPostgres } from '../support/postgres-server';
import { Ack, AgentOrphan, AgentRecord, checkAgentSessions, checkOrphans, checkRestart, checkWork, RestartObservation, RuntimeId, StoredEvent, ViolationKind, WorkObservation } from './checks';
import { spawn } from 'node:child_process';
import { readProcStat } from '@runledger/infra/runtime';
import { livenessNow, runCrashSoak } from './harness';
import { describeWithCodex } from '../support/codex/codex-env';

const AGENT: RuntimeId = { pid: 4242, startTime: '777' };
const SERVER_PID = 999;

/** A small, consistent world: one project, one session whose agent survived the kill and was adopted after it. */
const world = () => {
  let position = 0;
  const revisions = new Map<string, number>();
  const ev = (streamId: string, type: string, data: object): StoredEvent => {
    const revision = (revisions.get(streamId) ?? -1) + 1;
    revisions.set(streamId, revision);
    position++;
    return { position, streamId, revision, eventId: `e${position}`, type, data, hash: `h${position}` };
  };
  const runtime = { type: 'process', ...AGENT, command: ['sleep'], logPath: '/tmp/x.log' };
  const before = [
    ev('project-p', 'ProjectRegistered', { projectId: 'p' }),
    ev('project-p', 'SessionIdAllocated', { sessionId: 'p-1', number: 1 }),
    ev('session-p-1', 'SessionStarted', { sessionId: 'p-1', projectId: 'p', agent: 'command' }),
    ev('session-p-1', 'SessionRuntimeLaunched', { runtime }),
    ev('session-p-1', 'ToolCallDispatched', { callId: 'm1', attempt: 1, mode: 'managed', tool: 'shell' }),
    ev('session-p-1', 'ToolCallDispatched', { callId: 'o1', attempt: 1, mode: 'observed', tool: 'Bash' }),
  ];
  const after = [
    ...before,
    ev('system', 'ReconcileCompleted', { pid: SERVER_PID }),
    ev('session-p-1', 'SessionAdopted', { runtime }),
    ev('session-p-1', 'ToolCallInterrupted', { callId: 'm1', attempt: 1, reason: 'executor gone' }),
  ];
  const acks: Ack[] = [
    { op: 'project', projectId: 'p' },
    { op: 'spawn', sessionId: 'p-1', projectId: 'p', revision: 1, runtime: AGENT },
    { op: 'dispatch', sessionId: 'p-1', callId: 'm1', attempt: 1 },
    { op: 'dispatch', sessionId: 'p-1', callId: 'o1', attempt: 1 },
  ];
  const view = { id: 'p-1', projectId: 'p', status: 'running', revision: 5, runtime: { type: 'process', pid: AGENT.pid, startTime: AGENT.startTime, alive: null } };
  const observation: RestartObservation = {
    before, after, acks,
    liveAtKill: new Map([['p-1', AGENT]]),
    serverPid: SERVER_PID,
    leases: [],
    isAlive: (r) => r.pid === AGENT.pid && r.startTime === AGENT.startTime,
    snapshots: new Map([['p-1', view]]),
    listedIds: ['p-1'],
    replays: new Map([['p-1', { view: { ...view, runtime: { ...view.runtime } }, head: 5 }]]),
    reconciled: true,
    agentSessions: new Map(),
    moving: new Set(),
  };
  return { observation, ev };
};

const kinds = (o: RestartObservation): ViolationKind[] => checkRestart(o).map((v) => v.kind);

describe('crash checks: each property can fail (fabricated states)', () => {
  it('holds on a consistent world', () => {
    expect(checkRestart(world().observation)).toEqual([]);
  });

  it('reports a managed call left dispatched without a live lease holder', () => {
    const { observation: o, ev } = world();
    o.after.push(ev('session-p-1', 'ToolCallDispatched', { callId: 'm2', attempt: 1, mode: 'managed', tool: 'shell' }));
    (o.replays.get('p-1') as { head: number }).head = 6;
    (o.snapshots.get('p-1') as { revision: number }).revision = 6;
    (o.replays.get('p-1')!.view as { revision: number }).revision = 6;
    expect(kinds(o)).toEqual(['tool-call-without-owner']);
    o.leases = [{ resource: 'tool-call:p-1:m2:1', owner: `host:${SERVER_PID + 1}:abc` }]; // the dead process's unexpired lease
    expect(kinds(o)).toEqual(['tool-call-without-owner']);
    o.leases = [{ resource: 'tool-call:p-1:m2:1', owner: `host:${SERVER_PID}:abc` }];
    expect(checkRestart(o)).toEqual([]);
  });

  it('reports an observed call whose agent is dead, and a live agent that was not adopted', () => {
    const { observation: o } = world();
    o.isAlive = () => false;
    expect(kinds(o).sort()).toEqual(['agent-not-adopted', 'tool-call-without-owner']);
  });

  it('reports an acknowledged event that is missing, and a committed event that vanished', () => {
    const { observation: o } = world();
    o.acks.push({ op: 'result', sessionId: 'p-1', callId: 'o1', attempt: 1, late: false });
    expect(kinds(o)).toEqual(['event-lost']);
    const { observation: p } = world();
    p.after = p.after.filter((e) => e.type !== 'ProjectRegistered');
    expect(kinds(p)).toContain('event-lost');
  });

  it('reports a snapshot that differs from the replay of its stream', () => {
    const { observation: o } = world();
    (o.snapshots.get('p-1') as { status: string }).status = 'interrupted';
    expect(checkRestart(o)).toEqual([{ kind: 'snapshot-mismatch', detail: expect.stringContaining('$.status') }]);
  });

  it('leaves out of the snapshot comparison a stream that grew while it was read, and only that one', () => {
    const { observation: o } = world();
    (o.snapshots.get('p-1') as { revision: number }).revision = 4;
    expect(kinds(o)).toEqual(['snapshot-mismatch']);
    o.moving = new Set(['p-1']);
    expect(checkRestart(o)).toEqual([]);
  });

  it('reports a session id minted by the restart, or a key answered with another id', () => {
    const { observation: o, ev } = world();
    o.after.push(ev('project-p', 'SessionIdAllocated', { sessionId: 'p-1', number: 2 }));
    expect(kinds(o).sort()).toEqual(['session-id', 'session-id']);
    const { observation: p } = world();
    p.acks.push({ op: 'spawn-retry', sessionId: 'p-2', expectedSessionId: 'p-1', idempotencyKey: 'k' });
    expect(kinds(p)).toEqual(['session-id']);
  });

  it('reports a reconcile that never completed', () => {
    const { observation: o } = world();
    o.reconciled = false;
    expect(kinds(o)).toEqual(['reconcile-missing']);
  });
});

describe('crash checks: liveness sampled before the log is read', () => {
  it('keeps the liveness of the instant it was sampled: a process that ends afterwards still counts as alive in it', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const runtime: RuntimeId = { pid: child.pid!, startTime: readProcStat(child.pid!)!.startTime };
    const sampled = livenessNow();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(sampled(runtime)).toBe(true);
    expect(livenessNow()(runtime)).toBe(false);
    expect(sampled({ ...runtime, startTime: `${runtime.startTime}0` })).toBe(false); // same pid, another process
  });
});

describe('crash checks: worktree custody (fabricated states)', () => {
  const expected = new Map([['README.md', 'a\nwork 1\n'], ['wip-1.txt', 'uncommitted 1\n']]);
  const work = (over: Partial<WorkObservation>): WorkObservation => ({
    sessionId: 'p-1', expected, commits: [{ sha: 'c1', onBranch: true }], recorded: { state: 'active' }, onDisk: new Map(expected), inRef: null, ...over,
  });

  it('holds while the work is on disk, or in the recorded preserved ref once the worktree is gone', () => {
    expect(checkWork([work({})])).toEqual([]);
    expect(checkWork([work({ onDisk: null, recorded: { state: 'unavailable', preservedRef: 'refs/runledger/preserved/p-1' }, inRef: new Map(expected) })])).toEqual([]);
  });

  it('reports a commit gone from the branch, and uncommitted work found whole in neither place', () => {
    expect(checkWork([work({ commits: [{ sha: 'c1', onBranch: false }] })]).map((v) => v.kind)).toEqual(['work-lost']);
    // A partly removed directory, and a ref that was overwritten from it.
    const partial = new Map([['README.md', 'a\nwork 1\n'], ['wip-1.txt', null]]);
    expect(checkWork([work({ onDisk: partial, recorded: { state: 'active', preservedRef: 'r' }, inRef: partial })])).toEqual([
      { kind: 'work-lost', detail: expect.stringContaining('wip-1.txt') },
    ]);
    expect(checkWork([work({ onDisk: null, recorded: { state: 'removed' } })]).map((v) => v.kind)).toEqual(['work-lost']);
  });
});

describe('crash checks: real Codex sessions (fabricated states)', () => {
  const CODEX: RuntimeId = { pid: 5151, startTime: '888' };
  const RESUMED: RuntimeId = { pid: 5252, startTime: '999' };
  /** A Codex session killed mid-exec (its exec child an orphan, pid 6161) and resumed natively; `extra` events after. */
  const codexLog = (extra: Array<[string, object]> = []): StoredEvent[] => {
    let position = 0;
    let revision = -1;
    const ev = (type: string, data: object): StoredEvent => ({ position: ++position, streamId: 'session-p-2', revision: ++revision, eventId: `c${position}`, type, data, hash: `h${position}` });
    return [
      ev('SessionStarted', { sessionId: 'p-2', projectId: 'p', agent: 'codex' }),
      ev('SessionRuntimeLaunched', { runtime: { ...CODEX } }),
      ev('AgentSessionLinked', { agentSessionId: 'thread-1', transcriptPath: '/rollout-thread-1.jsonl' }),
      ev('ToolCallDispatched', { callId: 'call_a', attempt: 1, mode: 'observed', tool: 'Bash' }),
      ev('SessionInterrupted', { reason: 'runtime gone; the processes it left running were stopped: pid 6161 (sleep 20)' }),
      ev('ToolCallInterrupted', { callId: 'call_a', attempt: 1, reason: 'session interrupted: runtime gone; the processes it left running were stopped: pid 6161 (sleep 20)' }),
      ev('SessionRuntimeLaunched', { runtime: { ...RESUMED }, resumeMode: 'native' }),
      ...extra.map(([type, data]) => ev(type, data)),
    ];
  };
  const record = (over: Partial<AgentRecord> = {}): AgentRecord => ({ callIds: () => ['call_a'], lastTurnEnded: () => false, resumesInPlace: true, files: () => 1, ...over });
  const dead = () => false;
  const orphan: AgentOrphan = { sessionId: 'p-2', pid: 6161, startTime: '1000', command: 'sleep 20', endsAt: 30 };

  it('holds for a Codex killed mid-exec, its orphan stopped and named, resumed natively under one thread and one rollout', () => {
    expect(checkAgentSessions(codexLog(), dead, { codex: record() })).toEqual([]);
    expect(checkOrphans([orphan], codexLog(), dead, 15)).toEqual([]);
  });

  it('reports an orphan that outlived the reconcile, and one stopped without an interrupted call naming it', () => {
    expect(checkOrphans([orphan], codexLog(), (r) => r.pid === orphan.pid, 15)).toEqual([{ kind: 'orphan-unnoticed', detail: expect.stringContaining('outlived the reconcile') }]);
    const unnamed = codexLog().filter((e) => e.type !== 'ToolCallInterrupted');
    expect(checkOrphans([orphan], unnamed, dead, 15)).toEqual([{ kind: 'orphan-unnoticed', detail: expect.stringContaining('no interrupted call') }]);
    expect(checkOrphans([orphan], unnamed, dead, 31)).toEqual([]); // gone after it would have ended on its own: not judged
  });

  it('reports a second thread or a second rollout for one session, a fresh relaunch, and a finished rollout left interrupted', () => {
    const kinds = (log: StoredEvent[], r: AgentRecord) => checkAgentSessions(log, dead, { codex: r }).map((v) => v.kind);
    expect(kinds(codexLog(), record({ files: () => 2 }))).toEqual(['agent-work-repeated']);
    expect(kinds(codexLog([['AgentSessionLinked', { agentSessionId: 'thread-2' }]]), record())).toEqual(['agent-work-repeated']);
    expect(kinds(codexLog([['SessionRuntimeLaunched', { runtime: { pid: 1, startTime: '1' }, resumeMode: 'fresh' }]]), record())).toEqual(['agent-work-repeated']);
    expect(kinds(codexLog([['SessionInterrupted', { reason: 'cut' }]]), record({ lastTurnEnded: () => true }))).toEqual(['agent-work-repeated']);
    expect(kinds(codexLog([['SessionExited', { finished: true }]]), record({ lastTurnEnded: () => true }))).toEqual([]);
    expect(kinds(codexLog([['SessionExited', { finished: true }], ['SessionRuntimeLaunched', { runtime: { pid: 1, startTime: '1' }, resumeMode: 'native' }]]), record())).toEqual(['agent-work-repeated']);
  });

  it('reports a session interrupted as resumable that the restart left interrupted, not one that is not resumable', () => {
    const kinds = (log: StoredEvent[]) => checkAgentSessions(log, dead, { codex: record() }).map((v) => v.kind);
    expect(kinds(codexLog([['SessionInterrupted', { reason: 'runtime gone with work cut short', resumable: true }]]))).toEqual(['agent-not-resumed']);
    expect(kinds(codexLog([['SessionInterrupted', { reason: 'promptless', resumable: false }]]))).toEqual([]);
    expect(kinds(codexLog([['SessionInterrupted', { reason: 'cut', resumable: true }], ['SessionRuntimeLaunched', { runtime: { ...RESUMED }, resumeMode: 'native' }]]))).toEqual([]);
  });

  it('reports rollout calls the log lacks once the agent is gone, and leaves sessions of agents without a record alone', () => {
    const gone = codexLog([['SessionExited', { finished: true }]]);
    expect(checkAgentSessions(gone, dead, { codex: record({ callIds: () => ['call_a', 'call_b'] }) })).toEqual([{ kind: 'log-not-transcript', detail: expect.stringContaining('call_b') }]);
    expect(checkAgentSessions(gone, dead, { 'claude-code': record({ callIds: () => ['call_b'] }) })).toEqual([]);
  });

  it('accepts a logged call the agent died before writing only when it is interrupted and named call_only_in_log', () => {
    const kinds = (log: StoredEvent[]) => checkAgentSessions(log, dead, { codex: record({ callIds: () => [] }) }).map((v) => v.kind);
    const named: [string, Record<string, unknown>] = ['DivergenceDetected', { callId: 'call_a', kind: 'call_only_in_log', detail: 'Bash: in the log, not in the agent\'s transcript' }];
    expect(kinds(codexLog([['SessionExited', { finished: true }], named]))).toEqual([]);
    expect(kinds(codexLog([['SessionExited', { finished: true }]]))).toEqual(['log-not-transcript']);
    const dispatched = codexLog([['SessionExited', { finished: true }], named]).filter((e) => e.type !== 'ToolCallInterrupted');
    expect(kinds(dispatched)).toEqual(['log-not-transcript']);
  });

  it('accepts a logged call that ended before its agent died unwritten only when the session was interrupted after it, and named', () => {
    const kinds = (log: StoredEvent[]) => checkAgentSessions(log, dead, { codex: record({ callIds: () => [] }) }).map((v) => v.kind);
    const named: [string, object] = ['DivergenceDetected', { callId: 'call_b', kind: 'call_only_in_log', detail: 'run_shell_command: in the log, not in the agent\'s transcript' }];
    const dispatched: [string, object] = ['ToolCallDispatched', { callId: 'call_b', attempt: 1, mode: 'observed', tool: 'run_shell_command' }];
    const completed: [string, object] = ['ToolCallCompleted', { callId: 'call_b', attempt: 1 }];
    const diedUnwritten = codexLog([['DivergenceDetected', { callId: 'call_a', kind: 'call_only_in_log' }], dispatched, completed, ['SessionInterrupted', { reason: 'runtime gone' }], named, ['SessionExited', { finished: true }]]);
    expect(kinds(diedUnwritten)).toEqual([]);
    // Its agent alive after the call ended (a result recorded twice, say): the log holds a call that never was.
    const phantom = codexLog([['DivergenceDetected', { callId: 'call_a', kind: 'call_only_in_log' }], dispatched, completed, named, ['SessionExited', { finished: true }]]);
    expect(kinds(phantom)).toEqual(['log-not-transcript']);
    expect(kinds(diedUnwritten.filter((e) => !(e.type === 'DivergenceDetected' && e.data?.callId === 'call_b')))).toEqual(['log-not-transcript']);
  });

  it('compares a call the log holds under a hook id of its own (Gemini CLI) under the agent\'s id once identified, not before', () => {
    const gone: Array<[string, object]> = [['ToolCallDispatched', { callId: 'gemini:t:run_shell_command:1', attempt: 1, mode: 'observed', tool: 'run_shell_command' }], ['SessionExited', { finished: true }]];
    const kinds = (log: StoredEvent[]) => checkAgentSessions(log, dead, { codex: record({ callIds: () => ['call_a', 'run_shell_command__x'] }) }).map((v) => v.kind);
    expect(kinds(codexLog([...gone, ['ToolCallIdentified', { callId: 'gemini:t:run_shell_command:1', agentCallId: 'run_shell_command__x' }]]))).toEqual([]);
    expect(kinds(codexLog(gone))).toEqual(['log-not-transcript', 'log-not-transcript']);
  });

  it('wants one agent session per session only of an agent that resumes in place', () => {
    const twice = codexLog([['AgentSessionLinked', { agentSessionId: 'thread-2' }]]);
    expect(checkAgentSessions(twice, dead, { codex: record({ resumesInPlace: undefined, files: undefined }) })).toEqual([]);
    expect(checkAgentSessions(twice, dead, { codex: record({ files: undefined }) }).map((v) => v.kind)).toEqual(['agent-work-repeated']);
  });
});

const pg = chosenPostgres();
const skip = 'skip' in pg ? pg.skip : null;
(skip ? describe.skip : describe)(`crash harness: SIGKILL and restart the real server on PostgreSQL${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  it('keeps every property through 3 random kills', async () => {
    const report = await runCrashSoak({ iterations: 3, parallel: 1, log: (line) => process.stdout.write(`[crash] ${line}\n`) });
    expect(report.totals.kills).toBeGreaterThanOrEqual(3);
    expect(report.totals.opsAcked).toBeGreaterThan(0);
    expect(report.violations).toEqual([]);
    expect(report.failures).toEqual([]);
  }, 900_000);

  describeWithCodex('with real Codex sessions (the CLI against the scripted Responses API)', () => {
    it('keeps every property, and Codex\'s own (orphaned exec children, one thread per session, finished never relaunched), through 3 kills', async () => {
      // Agents are killed while runledger is down at every iteration (each real one with chance 1/2): a dead Codex's exec child is left running.
      const report = await runCrashSoak({ iterations: 3, parallel: 1, realAgents: ['codex'], killAgentsWhileDown: 1, log: (line) => process.stdout.write(`[crash codex] ${line}\n`) });
      expect(report.realAgents.codex.spawned).toBeGreaterThan(0);
      expect(report.totals.kills).toBeGreaterThanOrEqual(3);
      expect(report.violations).toEqual([]);
      expect(report.failures).toEqual([]);
    }, 300_000);
  });
});
