import { agentCapabilities } from '../agent/agent-kinds';
import { assertNever } from '../shared/assert-never';
import type { SessionCommand } from './session.commands';
import { decideSession, evolveSession, type Session, type SessionState } from './session.decider';
import type { ResumeMode, SessionRuntime } from './session.events';
import { hasResult } from '../tool-call/tool-call.decider';
import type { ToolCallRecorder } from '../tool-call/tool-call.recorder';
import type { TokenCounts } from '../usage/usage.events';

/** One tool call of the agent's transcript (main or sub-agent), input and output as the transcript holds them (the recorder redacts what is appended). */
export interface TranscriptCallFact {
  callId: string;
  tool: string;
  input: unknown;
  /** The matching tool_result, or null when the transcript has none (the call was cut short). */
  result: { status: 'completed' | 'failed'; output: unknown; exitCode?: number } | null;
  /** Sub-agent transcript file name (e.g. `agent-a1b2.jsonl`) when the call is a sub-agent's. */
  subagent?: string;
  /** The transcript's own id of the call, when `callId` is the id the log gave it (a Gemini CLI hook id paired with it). */
  agentCallId?: string;
}

/** One model call's usage in the agent's transcript (main or sub-agent): `complete` false while its message may still grow. */
export interface TranscriptUsageFact extends TokenCounts {
  key: string;
  model: string | null;
  runId: string | null;
  subagent?: string;
  /** ISO time of the call in the transcript (the day it counts for). */
  at: string;
  complete: boolean;
}

/** What the agent's transcript says (docs/ARCHITECTURE.md §4.3). */
export interface TranscriptFacts {
  calls: TranscriptCallFact[];
  /**
   * The agent writes a call's result to its transcript before it runs the PostToolUse hook (Codex): while the transcript
   * is unsettled, a logged call's result there is left to that hook, which may be held across a restart.
   */
  resultsBeforeHook?: boolean;
  /** Usage per model call (docs/ARCHITECTURE.md §4g); absent when the agent's record holds none. */
  usage?: TranscriptUsageFact[];
  /** The transcript's last turn ended with the assistant's final answer (the agent finished its prompt). */
  lastTurnEnded: boolean;
  /** The last turn ended on an API error Claude Code gave up on (`<error>: API Error: …`): its run failed, not completed. */
  lastTurnFailure?: string;
  /**
   * The transcript is complete for comparison: the agent is gone or has stopped. Only then is a call the log has and the
   * transcript lacks reported (while the agent runs its transcript may trail the hooks).
   */
  settled: boolean;
  /** Builds the calls and results appended from this transcript, redacted (the tool-call intake's recorder, invariant 12). */
  record: ToolCallRecorder;
}

/**
 * Whether the recorded runtime lives: `alive` (same pid and start time / tmux session); `unrecorded` (a live agent of
 * this session the log never recorded, found by its environment); `dead` with the exit code or signal when runledger
 * observed the exit (it was the parent), absent when it did not; `none` (runledger runs no runtime: external sessions);
 * `remote` (a remote flight-recorder session: its agent runs on another machine, judged from its signals only, never
 * dead without evidence, docs/ARCHITECTURE.md §4f).
 */
export type RuntimeFact =
  | { state: 'alive' }
  | { state: 'unrecorded'; runtime: SessionRuntime }
  | { state: 'dead'; exitCode?: number; signal?: string; orphans?: OrphanProcess[] }
  | { state: 'none' }
  | { state: 'remote' };

/**
 * A process of the session still alive after its agent died: a tool's child the agent left behind (Codex's exec
 * children outlive a SIGKILLed Codex). The reconciler stopped it (its process group) before deciding.
 */
export interface OrphanProcess {
  pid: number;
  command: string[];
}

/** `pid 12 (sleep 30), pid 14 (node server.js)`: orphans for a reason text, each command cut to 60 characters. */
const describeOrphans = (orphans: OrphanProcess[]): string =>
  orphans.map((o) => `pid ${o.pid} (${o.command.join(' ').slice(0, 60)})`).join(', ');

/** Why a reconcile runs: the worker's start-up, the runtime watcher, a Stop/SessionEnd hook, or a request (API/CLI). */
export type ReconcileTrigger = 'boot' | 'watch' | 'hook' | 'request';

/** Every fact the reconcile policy needs, gathered by the reconciler (I/O stays outside the domain). */
export interface ReconcileFacts {
  trigger: ReconcileTrigger;
  runtime: RuntimeFact;
  /** null when the session has no readable transcript. */
  transcript: TranscriptFacts | null;
  /** callIds of managed calls in flight whose executor lease has a live holder. */
  liveManagedCalls: string[];
  /** A spawn or restore of this very process is under way (its handler, not reconcile, records the runtime). */
  launchInProgress: boolean;
  /** ISO-8601 time stamped on every command. */
  at: string;
}

/** What reconcile concluded about the session's runtime. */
export type ReconcileOutcome = 'unchanged' | 'adopted' | 'exited' | 'interrupted' | 'terminal';

/** The policy's answer: commands to append (in order) and whether to relaunch the agent, and how. */
export interface ReconcilePlan {
  commands: SessionCommand[];
  outcome: ReconcileOutcome;
  /** Relaunch under the same id (after the commands are appended): `native` resumes the agent's conversation, `fresh` starts it with its prompt. */
  relaunch: ResumeMode | null;
  /** One line for logs and reports. */
  why: string;
  counts: { callsFromTranscript: number; resultsFromTranscript: number; callsOnlyInLog: number; toolCallsInterrupted: number };
}

/** Divergence kinds between the log and the agent's transcript (each a `DivergenceDetected`). */
export const DIVERGENCE_KINDS = {
  callOnlyInTranscript: 'call_only_in_transcript',
  resultOnlyInTranscript: 'result_only_in_transcript',
  callOnlyInLog: 'call_only_in_log',
  toolMismatch: 'tool_mismatch',
  statusMismatch: 'status_mismatch',
} as const;

/** How a session whose runtime is gone with work cut short continues (docs/ARCHITECTURE.md §4.2), or null with the reason it does not. */
export const restorePolicy = (session: Session): { mode: ResumeMode | null; why: string } => {
  if (session.agent === 'external') return { mode: null, why: 'external session: runledger does not run its agent' };
  if (session.status === 'retiring') return { mode: null, why: 'retiring orchestrator: its replacement completes it, it never comes back' };
  const agent = agentCapabilities(session.agent);
  if (agent.nativeResume && session.agentSessionId) return { mode: 'native', why: `resumes ${agent.label} session ${session.agentSessionId} natively` };
  if (session.kind === 'orchestrator') return { mode: 'fresh', why: 'orchestrator: relaunched fresh under the same id' };
  if (session.prompt) return { mode: 'fresh', why: 'worker with a prompt and no resumable agent session: relaunched with its prompt' };
  return { mode: null, why: 'promptless worker: not resumable, stays interrupted' };
};

/** True when the session's last run was closed as completed (a Stop or SessionEnd hook recorded it) and no observed call is in flight. */
export const lastRunFinished = (session: Session): boolean => {
  const runs = Object.values(session.runs).filter((r) => r.parentRunId === undefined);
  const last = runs.reduce<(typeof runs)[number] | undefined>((latest, r) => (!latest || r.startedAt >= latest.startedAt ? r : latest), undefined);
  const inFlight = session.toolCalls.values().some((c) => c.status === 'dispatched' && c.mode === 'observed');
  return last?.status === 'completed' && !inFlight;
};

/** Applies commands to a state through the session decider (refusals throw: a policy bug, not a runtime condition). */
const fold = (state: Session, commands: SessionCommand[]): Session => {
  let current: SessionState = state;
  for (const command of commands) current = decideSession(command, current).reduce(evolveSession, current);
  return current as Session;
};

/**
 * Makes the log equal the transcript (docs/ARCHITECTURE.md §4.3, invariant 15): a call the log never saw is dispatched from the
 * transcript (`source: transcript`) with its result (one without a result only once the transcript is settled: until
 * then its PreToolUse hook may still come); a result the log lacks is appended (a late result when the attempt
 * was interrupted); each is a `DivergenceDetected` naming its kind. A call the log has and a settled transcript lacks,
 * a tool or status that differs, is reported only. Deterministic details, so a second reconcile appends nothing.
 */
export const transcriptCommands = (session: Session, transcript: TranscriptFacts, at: string): { commands: SessionCommand[]; counts: Pick<ReconcilePlan['counts'], 'callsFromTranscript' | 'resultsFromTranscript' | 'callsOnlyInLog'> } => {
  const commands: SessionCommand[] = [];
  const counts = { callsFromTranscript: 0, resultsFromTranscript: 0, callsOnlyInLog: 0 };
  const calls = transcript.record;
  const divergence = (callId: string, kind: string, detail: string): SessionCommand => ({ type: 'RecordDivergence', data: { callId, kind, detail, at } });
  const canOpenWork = session.status !== 'terminated';
  const inherited = new Set(session.forkedFrom?.inheritedCalls ?? []); // a conversation fork's copied calls are its source's
  for (const fact of transcript.calls) {
    if (inherited.has(fact.callId)) continue;
    const logged = session.toolCalls.get(fact.callId);
    const exitCode = fact.result?.exitCode;
    const error = exitCode !== undefined ? `exit code ${exitCode}` : undefined;
    const result = (status: 'completed' | 'failed', output: unknown): SessionCommand =>
      calls.result({ callId: fact.callId, status, output, source: 'transcript', at, ...(exitCode !== undefined ? { exitCode } : {}), ...(status === 'failed' && error !== undefined ? { error } : {}) });
    if (!logged) {
      // A call with no result while the agent still runs may be waiting on its PreToolUse hook (Codex writes the call to
      // its rollout first; a held hook arrives once runledger is back): its hook records it, or a later reconcile does.
      if (!canOpenWork || (!fact.result && !transcript.settled)) continue;
      commands.push(calls.dispatch({ callId: fact.callId, tool: fact.tool, input: fact.input, mode: 'observed', source: 'transcript', at }));
      if (fact.result) commands.push(result(fact.result.status, fact.result.output));
      commands.push(divergence(fact.callId, DIVERGENCE_KINDS.callOnlyInTranscript, `${fact.tool}${fact.subagent ? ` (sub-agent ${fact.subagent})` : ''}: in the transcript, never seen live; appended from the transcript`));
      counts.callsFromTranscript++;
      continue;
    }
    if (fact.agentCallId !== undefined && logged.agentCallId !== fact.agentCallId) {
      commands.push({ type: 'IdentifyToolCall', data: { callId: fact.callId, agentCallId: fact.agentCallId, at } });
    }
    const reported = (kind: string) => session.divergences.some((d) => d.callId === fact.callId && d.kind === kind);
    if (logged.tool !== fact.tool) {
      if (!reported(DIVERGENCE_KINDS.toolMismatch)) commands.push(divergence(fact.callId, DIVERGENCE_KINDS.toolMismatch, `the log says ${logged.tool}, the transcript says ${fact.tool}`));
      continue;
    }
    if (!fact.result) continue;
    if (!hasResult(logged) && transcript.resultsBeforeHook && !transcript.settled) continue; // its PostToolUse records it
    if (!hasResult(logged)) {
      commands.push(result(fact.result.status, fact.result.output));
      commands.push(divergence(fact.callId, DIVERGENCE_KINDS.resultOnlyInTranscript, `the log showed ${logged.status}; the transcript has a ${fact.result.status} result`));
      counts.resultsFromTranscript++;
    } else if ((logged.status === 'completed' || logged.status === 'failed') && logged.status !== fact.result.status && !reported(DIVERGENCE_KINDS.statusMismatch)) {
      commands.push(divergence(fact.callId, DIVERGENCE_KINDS.statusMismatch, `the log says ${logged.status}, the transcript says ${fact.result.status}`));
    }
  }
  commands.push(...usageCommands(session, transcript));
  if (transcript.settled) {
    const inTranscript = new Set(transcript.calls.map((c) => c.callId));
    const reported = (callId: string, kind: string) => session.divergences.some((d) => d.callId === callId && d.kind === kind);
    for (const call of session.toolCalls.values()) {
      if (call.mode !== 'observed' || inTranscript.has(call.callId) || reported(call.callId, DIVERGENCE_KINDS.callOnlyInLog)) continue;
      commands.push(divergence(call.callId, DIVERGENCE_KINDS.callOnlyInLog, `${call.tool}: in the log, not in the agent's transcript`));
      counts.callsOnlyInLog++;
    }
  }
  return { commands, counts };
};

/**
 * RecordUsage for each model call of the transcript whose usage the log lacks (docs/ARCHITECTURE.md §4g), in transcript
 * order; a call whose message may still grow (its line is the transcript's last) waits until the transcript is settled.
 * A conversation fork's inherited messages are its source's usage, never recorded again.
 */
export const usageCommands = (session: Session, transcript: Pick<TranscriptFacts, 'usage' | 'settled'>, source: 'transcript' | 'import' = 'transcript'): SessionCommand[] => {
  const inherited = new Set(session.forkedFrom?.inheritedMessages ?? []);
  return (transcript.usage ?? [])
    .filter((fact) => (fact.complete || transcript.settled) && !session.usageKeys?.has(fact.key) && !inherited.has(fact.key))
    .map(({ complete: _complete, runId, subagent, ...fact }): SessionCommand => ({
      type: 'RecordUsage',
      data: { ...fact, ...(runId !== null ? { runId } : {}), ...(subagent !== undefined ? { subagent } : {}), source },
    }));
};

/** One rule's verdict on the runtime: the commands it appends (in order), how many tool calls they interrupt, and its outcome. */
interface Verdict {
  commands: SessionCommand[];
  interrupted: number;
  outcome: ReconcileOutcome;
  why: string;
  relaunch?: ResumeMode | null;
}

/** A verdict that appends nothing. */
const unchanged = (why: string, outcome: ReconcileOutcome = 'unchanged'): Verdict => ({ commands: [], interrupted: 0, outcome, why });

/** The session's observed calls still dispatched: their owner is the agent runtime. */
const observedInFlight = (session: Session) => session.toolCalls.values().filter((c) => c.status === 'dispatched' && c.mode === 'observed');

/** Managed calls in flight whose executor lease has no live holder: interrupted (invariant 6). */
const orphanedManagedCalls = (session: Session, liveManagedCalls: string[], at: string): SessionCommand[] =>
  session.toolCalls
    .values()
    .filter((call) => call.status === 'dispatched' && call.mode === 'managed' && !liveManagedCalls.includes(call.callId))
    .map((call) => ({ type: 'InterruptToolCall', data: { callId: call.callId, reason: 'its executor is gone (runledger restarted)', at } }));

/** Why only the log of calls is reconciled and the runtime left alone, or null when the runtime is reconciled too. */
const callsOnly = (session: Session, facts: ReconcileFacts): Verdict | null => {
  if (session.status === 'terminated') return unchanged('terminated: only calls reconciled', 'terminal');
  if (facts.trigger === 'hook') return unchanged('agent hook: calls reconciled with the transcript');
  if (facts.launchInProgress) return unchanged('a launch of this process is under way: its handler records the runtime');
  // A retiring orchestrator belongs to its replacement: never adopted back, interrupted or relaunched (invariant 11).
  if (session.status === 'retiring') return unchanged('retiring orchestrator: its replacement completes it');
  return null;
};

/** A runtime that is not dead: remote (left alone: its calls stay with its agent's hooks), none (external: its in-flight calls interrupted), alive (adopted at boot or when not running), unrecorded (recorded, never launched again). */
const liveRuntimeVerdict = (state: Session, runtime: Exclude<RuntimeFact, { state: 'dead' }>, trigger: ReconcileTrigger, at: string): Verdict => {
  const adoptable = state.status === 'running' || state.status === 'interrupted' || state.status === 'exited';
  switch (runtime.state) {
    case 'remote':
      // A restart of this server is no evidence about an agent on another machine: its hooks held and record the calls.
      return unchanged('remote session: its agent runs on another machine, judged from its signals (no_signal), never from this restart');
    case 'none': {
      const unowned = observedInFlight(state);
      const reason = 'owner unknown after a runledger restart (external session)';
      const commands = unowned.map((call): SessionCommand => ({ type: 'InterruptToolCall', data: { callId: call.callId, reason, at } }));
      return { commands, interrupted: unowned.length, outcome: 'unchanged', why: 'external session: runledger runs no runtime' };
    }
    case 'alive':
      if (state.status === 'running' && trigger !== 'boot') return unchanged('runtime alive');
      if (!adoptable) return unchanged(`runtime alive, session ${state.status}`);
      return { commands: [{ type: 'AdoptSession', data: { runtime: state.runtime!, at } }], interrupted: 0, outcome: 'adopted', why: 'runtime alive: adopted under the same id' };
    case 'unrecorded': {
      const why = 'agent launched but never recorded: adopted, not launched again';
      if (state.status === 'starting' || state.restoring) return { commands: [{ type: 'RecordRuntimeLaunched', data: { runtime: runtime.runtime, at } }], interrupted: 0, outcome: 'adopted', why };
      if (!adoptable) return unchanged(`an unrecorded agent lives, session ${state.status}`);
      // A running session's observed calls belong to its recorded runtime, which is dead (else it would be alive): the
      // process adopted in its place never owned them, so they are interrupted, not left dispatched (invariant 6).
      const orphaned = state.status === 'running' ? observedInFlight(state) : [];
      const reason = `its agent runtime${state.runtime ? ` (pid ${state.runtime.pid})` : ''} is gone; another process of the session was adopted`;
      const interrupts = orphaned.map((call): SessionCommand => ({ type: 'InterruptToolCall', data: { callId: call.callId, reason, at } }));
      return { commands: [...interrupts, { type: 'AdoptSession', data: { runtime: runtime.runtime, at } }], interrupted: orphaned.length, outcome: 'adopted', why };
    }
    default:
      return assertNever(runtime);
  }
};

/** How a dead runtime ended, for the exit's reason: finished, or on its own (mid-run when a run or observed call was open). */
const exitReason = (state: Session, runtime: Extract<RuntimeFact, { state: 'dead' }>, finished: boolean): string => {
  const how = runtime.signal !== undefined ? `signal ${runtime.signal}` : runtime.exitCode !== undefined ? `exit code ${runtime.exitCode}` : 'exit status not observed';
  const stopped = runtime.orphans?.length ? `; its orphaned processes were stopped: ${describeOrphans(runtime.orphans)}` : '';
  if (finished) return `the agent finished its run and its runtime ended (${how})${stopped}`;
  const midRun = Object.values(state.runs).some((r) => r.status === 'started') || observedInFlight(state).length > 0;
  return `the runtime ended on its own${midRun ? ' mid-run' : ''} (${how})${stopped}`;
};

/**
 * A running session whose runtime is dead and whose last run finished (Stop recorded, or the transcript's last turn
 * ended), or whose exit was observed: `exited`, never relaunched (invariant 14); its open runs closed when the transcript
 * ended them (failed on the API error it gave up on). Also an interrupted session under restore whose transcript's last
 * turn ended: the restore launched its agent, runledger stopped before recording the launch, and the agent finished
 * unrecorded (an interrupted session's transcript had not ended its turn, or it would have exited). Null when the work
 * was cut short.
 */
const exitVerdict = (state: Session, runtime: Extract<RuntimeFact, { state: 'dead' }>, transcript: TranscriptFacts | null, at: string): Verdict | null => {
  const endedInTranscript = transcript?.lastTurnEnded === true;
  const finished = lastRunFinished(state) || endedInTranscript;
  const observedExit = runtime.exitCode !== undefined || runtime.signal !== undefined;
  const restoredUnrecorded = state.status === 'interrupted' && state.restoring;
  if (restoredUnrecorded ? !endedInTranscript : state.status !== 'running' || !(finished || observedExit)) return null;
  const commands: SessionCommand[] = [];
  if (endedInTranscript) {
    for (const run of Object.values(state.runs)) {
      if (run.status !== 'started') continue;
      const failure = run.agentId === undefined ? transcript?.lastTurnFailure : undefined;
      commands.push(failure !== undefined ? { type: 'FailAgentRun', data: { runId: run.runId, error: failure, at } } : { type: 'CompleteAgentRun', data: { runId: run.runId, at } });
    }
  }
  if (restoredUnrecorded) {
    // The exit status observed belongs to the runtime before the restore, not to the agent that finished: none is given.
    const reason = 'the restored agent finished its run unrecorded (runledger stopped between its launch and recording it)';
    commands.push({ type: 'RecordRuntimeExited', data: { finished: true, reason, at } });
    return { commands, interrupted: 0, outcome: 'exited', why: reason };
  }
  const reason = exitReason(state, runtime, finished);
  commands.push({
    type: 'RecordRuntimeExited',
    data: { ...(runtime.exitCode !== undefined ? { exitCode: runtime.exitCode } : {}), ...(runtime.signal !== undefined ? { signal: runtime.signal } : {}), finished, reason, at },
  });
  return { commands, interrupted: 0, outcome: 'exited', why: reason };
};

/** A request reconciles and never relaunches (resume does); the watcher relaunches only what it saw cut short now. */
const mayRelaunch = (state: Session, trigger: ReconcileTrigger): boolean =>
  trigger !== 'request' && !(trigger === 'watch' && state.status === 'interrupted' && !state.restoring);

/** Work cut short: the session interrupted (once), then the restore policy says whether and how it is relaunched. */
const interruptVerdict = (state: Session, trigger: ReconcileTrigger, at: string, orphans: OrphanProcess[] = []): Verdict => {
  const restore = restorePolicy(state);
  const cut = state.status !== 'interrupted' || state.restoring;
  const reason = `runtime gone with work cut short${orphans.length ? `; the processes it left running were stopped: ${describeOrphans(orphans)}` : ''}`;
  const commands: SessionCommand[] = cut ? [{ type: 'InterruptSession', data: { reason, resumable: restore.mode !== null, at } }] : [];
  const interrupted = cut ? observedInFlight(state).length : 0;
  if (!mayRelaunch(state, trigger)) return { commands, interrupted, outcome: 'interrupted', why: `${restore.why} (not relaunched by a ${trigger})` };
  return { commands, interrupted, outcome: 'interrupted', why: restore.why, relaunch: restore.mode };
};

/** A dead runtime: calls recorded after the session ended are interrupted, then exited (finished) or interrupted (cut short). */
const deadRuntimeVerdict = (state: Session, runtime: Extract<RuntimeFact, { state: 'dead' }>, facts: ReconcileFacts): Verdict => {
  const { at } = facts;
  // A session that already ended (exited, or interrupted earlier) and whose runtime is dead owns no call: a call recorded
  // after its end (a hook process that outlived its agent) is interrupted, never left dispatched (invariant 6).
  const ended = (state.status === 'exited' || state.status === 'interrupted') && !state.restoring;
  const late = ended ? observedInFlight(state) : [];
  const lateCommands = late.map((call): SessionCommand => ({ type: 'InterruptToolCall', data: { callId: call.callId, reason: `its agent is gone (recorded after the session was ${state.status})`, at } }));
  const verdict = state.status === 'exited' && !state.restoring ? unchanged('already exited') : (exitVerdict(state, runtime, facts.transcript, at) ?? interruptVerdict(state, facts.trigger, at, runtime.orphans));
  return { ...verdict, commands: [...lateCommands, ...verdict.commands], interrupted: late.length + verdict.interrupted };
};

/**
 * The reconcile policy (docs/ARCHITECTURE.md §4, invariants 6, 7, 14, 15): pure, facts in, commands out; the calls and
 * results it appends from the transcript are built by the transcript's recorder (the intake's, which redacts them).
 * 1. The log is made equal to the transcript (transcriptCommands).
 * 2. Managed calls in flight without a live executor are interrupted.
 * 3. The runtime: alive → adopted (at boot, or when the session was not running); a live unrecorded agent → recorded;
 *    dead and its last run finished (Stop recorded, or the transcript's last turn ended), or dead with its exit
 *    observed while running → `exited` (never relaunched); dead with work cut short → `interrupted`, then the restore
 *    policy (native resume, fresh relaunch, or not resumable; a request never relaunches). External sessions: in-flight
 *    calls interrupted.
 * A Stop/SessionEnd hook (`hook`) and a spawn or restore under way touch only the log of calls.
 */
export const reconcileDecision = (session: Session, facts: ReconcileFacts): ReconcilePlan => {
  const healed = facts.transcript ? transcriptCommands(session, facts.transcript, facts.at) : null;
  const orphaned = orphanedManagedCalls(session, facts.liveManagedCalls, facts.at);
  const commands = [...(healed?.commands ?? []), ...orphaned];
  const fromTranscript = healed?.counts ?? { callsFromTranscript: 0, resultsFromTranscript: 0, callsOnlyInLog: 0 };
  const runtime = facts.runtime;
  const verdict =
    callsOnly(session, facts) ??
    (runtime.state === 'dead' ? deadRuntimeVerdict(fold(session, commands), runtime, facts) : liveRuntimeVerdict(fold(session, commands), runtime, facts.trigger, facts.at));
  return {
    commands: [...commands, ...verdict.commands],
    outcome: verdict.outcome,
    relaunch: verdict.relaunch ?? null,
    why: verdict.why,
    counts: { ...fromTranscript, toolCallsInterrupted: orphaned.length + verdict.interrupted },
  };
};
