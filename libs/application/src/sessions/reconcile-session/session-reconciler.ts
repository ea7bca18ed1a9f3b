import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  reconcileDecision,
  ReconcileFacts,
  ReconcilePlan,
  ReconcileTrigger,
  recordingAgent,
  RuntimeFact,
  Session,
  SessionView,
  TranscriptCallFact,
  TranscriptFacts,
  TranscriptUsageFact,
} from '@runledger/domain';
import { SqlDatabase } from '@runledger/infra/database';
import { acquireOrTakeOver, LeaseStore, ownerAlive, processOwnerId, RECONCILE_LEASE_TTL_MS, reconcileLease, toolCallLease } from '@runledger/infra/leases';
import type { RuntimeIdentity, TmuxPane } from '@runledger/infra/runtime';
import { SQL_DATABASE } from '@runledger/infra/tokens';
import { CommandContext } from '../../event-sourcing/command-context';
import { ToolCallIntake } from '../../tool-calls/tool-call-intake';
import { RestoreSessionCommand } from '../lifecycle.command';
import { AgentLauncher } from '../runtime/agent-launcher';
import { SessionStreams } from '../session-streams';
import { SessionViews } from '../session-views';
import { AgentAdapters } from '../../agents/agent-adapters';
import { SessionTranscripts } from '../../agents/session-transcripts';
import { subagentRunOf } from '../../agents/claude-code/import-validation';
import type { AgentTranscript } from '../../agents/agent-adapter';
import { usageCommands } from '@runledger/domain';

/** How long a reconcile waits for Node to reap a child that just died, to learn its exit code (ms). */
export const REAP_WAIT_MS = 1_000;

/** Outcome of one session's reconcile: the plan's outcome and counts, events appended, the relaunch done, the session after. */
export interface ReconcileResult {
  sessionId: string;
  trigger: ReconcileTrigger;
  /** `skipped`: another live process holds this session's reconcile lease. */
  outcome: ReconcilePlan['outcome'] | 'skipped';
  why: string;
  appended: number;
  counts: ReconcilePlan['counts'];
  /** `native` or `fresh` when the agent was relaunched, and the status the relaunch left. */
  relaunched?: { mode: 'native' | 'fresh'; status: string };
  /** The session after the reconcile; absent when it acted on nothing and the caller had read the session itself (`loaded`). */
  session?: SessionView;
}

/** Options of one reconcile: agent processes from one /proc scan and tmux panes from one `list-panes` (boot). */
export interface ReconcileOptions {
  agents?: Map<string, RuntimeIdentity[]>;
  /** The tmux server's panes, listed once for a reconcile of many sessions (else listed per session). */
  panes?: TmuxPane[];
  /**
   * The caller has just read the session (the boot reconcile reads its sessions in bulk, SessionStreams.loadMany):
   * decide first on that state without the lease, and take the lease (and fresh state) only when the plan acts.
   */
  loaded?: boolean;
}

/** Longest a budget check waits for the agent's transcript to hold the call it checks (ms; inside the hook's 30 s margin). */
const TRANSCRIPT_CATCH_UP_MS = 3_000;
/** How often that wait reads the transcript again (ms). */
const TRANSCRIPT_POLL_MS = 50;

/** Whether the transcript (main or a sub-agent's) holds the tool call `callId`. */
const holdsCall = ({ main, subagents }: AgentTranscript, callId: string): boolean =>
  main.toolCalls.some((c) => c.callId === callId) || subagents.some((sub) => sub.parsed.toolCalls.some((c) => c.callId === callId));

/** The usage facts of a transcript, main and sub-agents (each sub-agent's under its run `subagent:<name>`, docs/ARCHITECTURE.md §4g). */
const usageFactsOf = ({ main, subagents }: AgentTranscript): TranscriptUsageFact[] => [
  ...(main.usage ?? []),
  ...subagents.flatMap((sub) => (sub.parsed.usage ?? []).map((u) => ({ ...u, runId: subagentRunOf(sub.name), subagent: sub.name }))),
];

/**
 * One session's reconcile (docs/ARCHITECTURE.md §4, invariants 6, 7, 14, 15): under the session's reconcile lease, gathers the facts
 * (runtime liveness and exit status, the agent's transcript with its sub-agents; the leases of managed calls), asks the
 * pure `reconcileDecision` (its calls built by the tool-call intake's recorder, redacted), appends its commands, and relaunches when it says so
 * (native resume or fresh, same id). Used at boot, by the runtime watcher, on Stop/SessionEnd hooks and on request.
 */
@Injectable()
export class SessionReconciler {
  private readonly logger = new Logger('SessionReconciler');
  private readonly leases = new LeaseStore();
  /** This process as a lease owner. */
  readonly owner = processOwnerId();
  private readonly bootedAt = Date.now();

  constructor(
    private readonly sessions: SessionStreams,
    private readonly launcher: AgentLauncher,
    private readonly intake: ToolCallIntake,
    private readonly views: SessionViews,
    private readonly commands: CommandBus,
    @Inject(SQL_DATABASE) private readonly db: SqlDatabase,
    private readonly transcripts: SessionTranscripts,
    private readonly adapters: AgentAdapters,
  ) {}

  /** Reconciles `sessionId`; throws SESSION.NOT_FOUND (404). Returns `skipped` when another live process is reconciling it. */
  async reconcile(sessionId: string, trigger: ReconcileTrigger, context: CommandContext, options: ReconcileOptions = {}): Promise<ReconcileResult> {
    const resource = reconcileLease(sessionId);
    const loaded = options.loaded ? await this.sessions.known(sessionId) : await this.sessions.load(sessionId); // 404 before any lease
    let gathered: { revision: number; facts: Omit<ReconcileFacts, 'at'> } | undefined;
    if (options.loaded) {
      // Nothing to do on the state just read: no lease, no second read (a plan that acts is re-made under the lease).
      gathered = { revision: loaded.revision, facts: await this.gather(loaded.state, trigger, options) };
      const plan = reconcileDecision(loaded.state, { ...gathered.facts, at: new Date().toISOString() });
      if (plan.commands.length === 0 && !plan.relaunch) {
        // No view: a caller that read the session in bulk (the boot reconcile) has its state and drops the result's view.
        return { sessionId, trigger, outcome: plan.outcome, why: plan.why, appended: 0, counts: plan.counts };
      }
    }
    if (!(await acquireOrTakeOver(this.leases, this.db, resource, this.owner, RECONCILE_LEASE_TTL_MS))) {
      return { sessionId, trigger, outcome: 'skipped', why: 'another process holds this session\'s reconcile lease', appended: 0, counts: { callsFromTranscript: 0, resultsFromTranscript: 0, callsOnlyInLog: 0, toolCallsInterrupted: 0 } };
    }
    try {
      return await this.reconcileHeld(sessionId, trigger, context, options, gathered);
    } finally {
      await this.leases.release(this.db, resource, this.owner).catch(() => undefined);
    }
  }

  /** The reconcile under the lease, on fresh state; the facts gathered just before the lease serve while the stream has not moved since. */
  private async reconcileHeld(
    sessionId: string, trigger: ReconcileTrigger, context: CommandContext, options: ReconcileOptions, gathered?: { revision: number; facts: Omit<ReconcileFacts, 'at'> },
  ): Promise<ReconcileResult> {
    const { state, revision } = await this.sessions.load(sessionId);
    const facts = gathered?.revision === revision ? gathered.facts : await this.gather(state, trigger, options);
    let plan: ReconcilePlan | undefined;
    const decided = await this.sessions.decide(sessionId, (s) => {
      if (s.status === 'none') return [];
      plan = reconcileDecision(s, { ...facts, at: new Date().toISOString() });
      return plan.commands;
    }, context);
    const finalPlan = plan!;
    const result: ReconcileResult = {
      sessionId, trigger, outcome: finalPlan.outcome, why: finalPlan.why, appended: decided.events.length, counts: finalPlan.counts,
    };
    if (decided.events.length > 0) this.logger.log(`${sessionId} (${trigger}): ${finalPlan.outcome}, ${finalPlan.why}; ${decided.events.length} events appended`);
    if (finalPlan.relaunch) {
      const view = (await this.commands.execute(new RestoreSessionCommand(sessionId, context, { mode: finalPlan.relaunch }))) as SessionView;
      result.relaunched = { mode: finalPlan.relaunch, status: view.status };
      result.session = view;
      return result;
    }
    result.session = this.views.fromState(decided.state as Session, decided.revision);
    return result;
  }

  /** Every fact the policy needs, read from the OS, the transcript files and the lease table. */
  private async gather(session: Session, trigger: ReconcileTrigger, options: ReconcileOptions): Promise<Omit<ReconcileFacts, 'at'>> {
    const runtime = await this.runtimeFact(session, trigger, options);
    const liveManagedCalls: string[] = [];
    for (const call of session.toolCalls.values()) {
      if (call.status !== 'dispatched' || call.mode !== 'managed') continue;
      const lease = await this.leases.holder(this.db, toolCallLease(session.sessionId, call.callId, call.attempt));
      if (lease && ownerAlive(lease.owner)) liveManagedCalls.push(call.callId);
    }
    // A remote agent's transcript may still grow unless its hook just told (Stop, SessionEnd) or it ended.
    const settled = trigger === 'hook' || runtime.state === 'dead' || runtime.state === 'none' || (runtime.state === 'remote' && session.agentEnded !== undefined);
    return {
      trigger,
      runtime,
      transcript: await this.transcriptFacts(session, settled),
      liveManagedCalls,
      // A spawn or restore this process started after boot is in the hands of its command handler, not reconcile's.
      launchInProgress: (session.status === 'starting' || session.restoring) && Date.parse(session.updatedAt) >= this.bootedAt,
    };
  }

  private async runtimeFact(session: Session, trigger: ReconcileTrigger, options: ReconcileOptions): Promise<RuntimeFact> {
    if (session.remote) return { state: 'remote' }; // another machine's agent: no pid of it is looked up here
    if (session.agent === 'external') return { state: 'none' };
    if (trigger === 'hook') return { state: 'alive' }; // the agent is posting its hooks: its runtime is not the question here
    if (this.launcher.isAlive(session.runtime, options.panes)) return { state: 'alive' };
    const agents = options.agents ?? this.launcher.agentProcesses();
    const isAgent = this.adapters.find(session.agent)?.isAgentProcess?.bind(this.adapters.find(session.agent));
    const unrecorded = this.launcher.findUnrecorded(session.sessionId, session.runtime, agents, options.panes, isAgent);
    if (unrecorded) return { state: 'unrecorded', runtime: unrecorded };
    // The agent is dead: what its tools left running (an exec child of a SIGKILLed Codex) has no owner; it is stopped,
    // and named in the reason its calls are interrupted with (never left running unnoticed).
    const orphans = isAgent ? await this.launcher.stopOrphans(this.launcher.sessionProcesses(session.sessionId, session.runtime, agents).filter((p) => !isAgent(p.command))) : [];
    if (orphans.length) this.logger.warn(`${session.sessionId}: stopped ${orphans.length} process(es) its dead agent left running: ${orphans.map((o) => `${o.pid} (${o.command.join(' ')})`).join(', ')}`);
    let exit = this.launcher.exitStatus(session.runtime);
    for (const deadline = Date.now() + REAP_WAIT_MS; exit === null && Date.now() < deadline; exit = this.launcher.exitStatus(session.runtime)) {
      await new Promise((resolve) => setTimeout(resolve, 25)); // our child died; Node reaps it on the event loop
    }
    return {
      state: 'dead',
      ...(exit && exit.code !== null ? { exitCode: exit.code } : {}),
      ...(exit && exit.signal !== null ? { signal: exit.signal } : {}),
      ...(orphans.length ? { orphans: orphans.map((o) => ({ pid: o.pid, command: o.command })) } : {}),
    };
  }

  /**
   * Records the usage of the transcript's settled model calls (a message followed by another line) and nothing else, for
   * a budget check on the tool-call path (docs/ARCHITECTURE.md §4g): no archive copy, no call reconciled. With `callId`
   * (the call whose PreToolUse asks), a transcript that does not hold that call yet while a model call in it is still
   * open is read again every TRANSCRIPT_POLL_MS, for at most TRANSCRIPT_CATCH_UP_MS: the agent writes its transcript
   * behind its hooks (Claude Code's last message before a call is settled only by the lines after it), so the model
   * call before this one counts once it is written. Appends nothing when the log already has that usage, or the
   * session has no transcript yet.
   */
  async recordSettledUsage(sessionId: string, context: CommandContext, callId?: string): Promise<void> {
    const { state } = await this.sessions.known(sessionId);
    const adapter = this.adapters.find(recordingAgent(state));
    const file = adapter ? this.transcripts.sourceOf(state, adapter.archivesTranscript !== false)?.file() : null;
    if (!adapter || !file) return;
    const deadline = Date.now() + TRANSCRIPT_CATCH_UP_MS;
    let transcript = await adapter.readTranscript(file);
    while (callId !== undefined && !holdsCall(transcript, callId) && usageFactsOf(transcript).some((u) => !u.complete)) {
      if (Date.now() >= deadline) {
        this.logger.warn(`${sessionId}: the transcript did not hold call ${callId} within ${TRANSCRIPT_CATCH_UP_MS} ms; its open model call is not counted yet`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, TRANSCRIPT_POLL_MS));
      transcript = await adapter.readTranscript(file);
    }
    const usage = usageFactsOf(transcript);
    await this.sessions.decide(sessionId, (s) => (s.status === 'none' ? [] : usageCommands(s, { usage, settled: false })), context);
  }

  /**
   * The transcript (main and sub-agents) as facts, as the transcript holds them (what reconcile appends from them is
   * redacted by the tool-call intake's recorder, as on every other path, invariant 12), archived first; read from the
   * archive when Claude Code deleted the original; null when neither exists.
   */
  private async transcriptFacts(session: Session, settled: boolean): Promise<TranscriptFacts | null> {
    const adapter = this.adapters.find(recordingAgent(session));
    const source = adapter ? this.transcripts.sourceOf(session, adapter.archivesTranscript !== false) : null;
    if (!adapter || !source) return null;
    await source.capture();
    const file = source.file();
    if (!file) return null;
    const { calls: record, redact } = await this.intake.door(session.sessionId);
    const { main, subagents } = await adapter.readTranscript(file, session.agentSessionId);
    const calls: TranscriptCallFact[] = [];
    const seen = new Set<string>();
    const add = (parsed: typeof main, subagent?: string) => {
      for (const call of parsed.toolCalls) {
        if (seen.has(call.callId)) continue;
        seen.add(call.callId);
        calls.push({
          callId: call.callId,
          tool: call.tool,
          input: call.input ?? null,
          result: call.result ? { status: call.result.status, output: call.result.output ?? null, ...(call.result.exitCode !== undefined ? { exitCode: call.result.exitCode } : {}) } : null,
          ...(subagent ? { subagent } : {}),
        });
      }
    };
    add(main);
    for (const sub of subagents) add(sub.parsed, sub.name);
    const usage = usageFactsOf({ main, subagents });
    const last = main.runs.at(-1);
    return {
      // An agent whose hooks carry no call id (Gemini CLI): the transcript's calls under the ids the hooks gave them.
      calls: adapter.hookDialect?.pairTranscriptCalls ? adapter.hookDialect.pairTranscriptCalls(calls, session, redact) : calls,
      usage, lastTurnEnded: last !== undefined && last.endedAt !== null, settled, record,
      // An agent that writes a call's result before its PostToolUse hook (Codex: AgentAdapter.hookToolResult).
      ...(adapter.hookToolResult ? { resultsBeforeHook: true } : {}),
      ...(last?.failure !== undefined ? { lastTurnFailure: redact(last.failure) } : {}), // invariant 12
    };
  }
}
