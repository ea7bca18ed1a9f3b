import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CodingAgent, describeControlCharacter, DomainError, Session, sessionNotFound, sessionStreamName, SnapshotPhase } from '@runledger/domain';
import { transcriptStartedAt } from '@runledger/infra/agents/transcript-start';
import { EventStore } from '@runledger/infra/event-store';
import { EVENT_STORE } from '@runledger/infra/tokens';
import {
  BLOCKING_HOOK_EVENTS,
  HookInputError,
  HookOutput,
  KnownHookEvent,
  parseHookInput,
  ParsedHookInput,
  preToolUseDecision,
  worktreeCreated,
} from '@runledger/infra/agents/claude-code/hook-protocol';
import { BudgetGuard } from '../budgets/budget-guard';
import { CommandContext } from '../event-sourcing/command-context';
import { FileEffects } from '../file-effects/file-effects.service';
import { SessionStreams } from '../sessions/session-streams';
import { SecretRedaction } from '../tool-calls/secret-redaction';
import { ToolCallIntake } from '../tool-calls/tool-call-intake';
import { SessionReconciler } from '../sessions/reconcile-session/session-reconciler';
import { ClaudeWorktreeCustody } from '../worktrees/claude-worktree-custody';
import type { HookDialect, RecordedToolResult } from './agent-adapter';
import { AgentAdapters } from './agent-adapters';
import { AgentSessionDirectory, AgentSessionWhere } from './agent-session-directory';
import { hookCommands } from './claude-code/hook-commands';
import { SessionTranscripts, ShippedTranscript, TranscriptSource } from './session-transcripts';

/** When a hook event snapshots the session's files (docs/ARCHITECTURE.md §4e): a run's start and end, and around every call. */
const SNAPSHOT_PHASES: Readonly<Record<string, SnapshotPhase>> = {
  UserPromptSubmit: 'run_start',
  PreToolUse: 'before',
  PostToolUse: 'after',
  PostToolUseFailure: 'after',
  Stop: 'run_end',
  SubagentStop: 'run_end',
};

/** A hook that runs on another machine (a remote flight recorder, docs/ARCHITECTURE.md §4f): the project it records into and that machine's host name. */
export interface RemoteHook {
  projectId: string;
  host: string;
}

const invalid = (field: string, message: string) => new DomainError('HOOK.INVALID', 'invalid', message, { field });

/** The hook fields that become ids, names or paths, and their longest accepted length (characters). */
export const HOOK_ID_FIELDS: Readonly<Record<string, number>> = {
  hook_event_name: 100, session_id: 200, tool_use_id: 200, tool_name: 200, transcript_path: 4096, cwd: 4096, agent_id: 200,
};

/** Throws HOOK.INVALID naming the field when an id/name/path field is present but not a plain string (no control character, within its length). */
export const checkHookFields = (input: Record<string, unknown>): void => {
  for (const [field, max] of Object.entries(HOOK_ID_FIELDS)) {
    const value = input[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw invalid(field, `${field} must be a string`);
    if (value.length > max) throw invalid(field, `${field} must be at most ${max} characters`);
    const control = describeControlCharacter(value);
    if (control) throw invalid(field, `${field} must not contain control characters (${control})`);
  }
};

/** Checks a hook input against the protocol model and the id/path rules; throws HOOK.INVALID (400) naming the field. */
export const parseHookBody = (body: unknown): ParsedHookInput => {
  let parsed: ParsedHookInput;
  try {
    parsed = parseHookInput(body);
  } catch (error) {
    if (error instanceof HookInputError) throw invalid(error.problem.field, error.problem.message);
    throw error;
  }
  checkHookFields(parsed.input);
  return parsed;
};

/** `parsed` with the call id a hook dialect paired its tool hook with. */
const withCallId = (parsed: ParsedHookInput, callId: string): ParsedHookInput => ({ ...parsed, input: { ...parsed.input, tool_use_id: callId } } as ParsedHookInput);

/** Hook input fields that are identifiers or paths (never rewritten by redaction: refused when they hold a secret). */
const HOOK_IDENTIFIERS = ['session_id', 'transcript_path', 'tool_use_id', 'tool_name', 'agent_id', 'prompt_id', 'agent_transcript_path'] as const;

/**
 * A coding agent's hooks as session events (docs/ARCHITECTURE.md §4a, §4d): Claude Code's, Codex's (the same
 * payload shape, Codex's `call_id` as `tool_use_id`) and OpenCode's plugin and Gemini CLI's payloads (mapped by their adapters' `hookDialect`). Every event the agent sends is accepted and kept, unknown ones
 * too (`hookCommands` says what each one changes). PreToolUse commits `ToolCallDispatched` BEFORE answering allow
 * (invariant 4); results are appended as they arrive (invariant 5). The session comes from the `X-Runledger-Session`
 * header of the settings runledger generated (or the session credential), else from the agent's `session_id`; an
 * unknown agent session becomes an external session (observing that agent) of the project whose repository holds its
 * `cwd` (404 when none does).
 */
@Injectable()
export class AgentHooks {
  private readonly logger = new Logger('AgentHooks');

  constructor(
    private readonly sessions: SessionStreams,
    private readonly directory: AgentSessionDirectory,
    private readonly intake: ToolCallIntake,
    private readonly reconciler: SessionReconciler,
    private readonly worktrees: ClaudeWorktreeCustody,
    private readonly transcripts: SessionTranscripts,
    private readonly redaction: SecretRedaction,
    private readonly adapters: AgentAdapters,
    private readonly fileEffects: FileEffects,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly budgets: BudgetGuard,
  ) {}

  /**
   * Records one hook call of `agent`; `remote` when the hook runs on another machine (a remote flight recorder,
   * docs/ARCHITECTURE.md §4f: its session is created in `remote.projectId`, its transcript read from what it shipped, its
   * files never snapshotted here). Throws HOOK.INVALID (400), SESSION.NOT_FOUND / PROJECT.NOT_FOUND_FOR_CWD /
   * PROJECT.NOT_FOUND (404), 409 refusals.
   */
  async handle(agent: CodingAgent, body: unknown, headerSessionId: string | undefined, context: CommandContext, remote?: RemoteHook): Promise<HookOutput> {
    const adapter = this.adapters.of(agent);
    // An agent posting its own payload shape (OpenCode's plugin, Gemini CLI's hooks) has it mapped into the shared shape first.
    const dialect = adapter.hookDialect;
    const parsed = parseHookBody(dialect ? dialect.payload(body) : body);
    const input = parsed.input;
    // Ids and paths Claude Code sends are stored as given and looked up later: one holding a secret is refused before
    // anything is created (invariant 12, invariant 13), rather than rewritten.
    for (const field of HOOK_IDENTIFIERS) {
      const value = (input as Record<string, unknown>)[field];
      if (typeof value === 'string') this.redaction.assertNoSecret(value, field);
    }
    const sessionId =
      headerSessionId ??
      (await this.directory.findOrCreate(input.session_id, { cwd: input.cwd ?? null, transcriptPath: input.transcript_path, agent, ...(await this.remoteWhere(remote, context)) }, context));
    const known = await this.knownState(sessionId);
    const transcript = this.transcripts.sourceOf({ sessionId, remote: known?.remote, ...(input.transcript_path ? { transcriptPath: input.transcript_path } : {}) }, adapter.archivesTranscript !== false);
    // Custody of Claude Code's own worktrees (docs/ARCHITECTURE.md §4b): runledger creates and removes them, on its own
    // disk, so never for an agent on another machine (its installed hooks do not register these events).
    if (remote && (input.hook_event_name === 'WorktreeCreate' || input.hook_event_name === 'WorktreeRemove')) {
      throw new DomainError('HOOK.REMOTE_WORKTREE', 'conflict', `${input.hook_event_name} from ${remote.host}: worktree custody works on this server's disk only; a remote agent keeps its own worktrees`, { field: 'hook_event_name' });
    }
    if (input.hook_event_name === 'WorktreeCreate') {
      const worktreePath = await this.worktrees.create({ sessionId, agentSessionId: input.session_id, name: input.name, ...(input.cwd ? { cwd: input.cwd } : {}) }, context);
      return worktreeCreated(worktreePath);
    }
    if (input.hook_event_name === 'WorktreeRemove') {
      await this.worktrees.remove({ sessionId, worktreePath: input.worktree_path }, context);
      return {};
    }
    // A hook held across a restart from an agent that died meanwhile names a conversation older than the session's
    // current runtime: it must not take the session over (a native resume would continue the dead conversation).
    const stale = headerSessionId ? await this.staleAgentSession(sessionId, input.session_id, input.transcript_path) : undefined;
    if (stale) {
      const detail = `${input.hook_event_name} from agent session ${input.session_id}, whose conversation began at ${stale.startedAt} before the current runtime was launched at ${stale.launchedAt}: not linked, not recorded as the current agent's`;
      await this.sessions.decide(sessionId, (s) => (s.status === 'none' ? [] : [{ type: 'RecordDivergence', data: { kind: 'stale_agent_hook', detail, at: new Date().toISOString() } }]), context);
      return input.hook_event_name === 'PreToolUse' ? this.answer(dialect, preToolUseDecision('deny', `runledger: ${input.session_id} is not the current agent of ${sessionId}`)) : {};
    }
    // An enforced budget that is spent stops the call before anything is snapshotted or dispatched (docs/ARCHITECTURE.md
    // §4g); the agent reads the reason, and the call reaches the log from the transcript at the next reconcile.
    if (input.hook_event_name === 'PreToolUse') {
      const blocked = await this.budgets.preToolUse(sessionId, context, typeof input.tool_use_id === 'string' ? input.tool_use_id : undefined);
      if (blocked !== null) return preToolUseDecision('deny', blocked);
    }
    const { redact } = await this.intake.door(sessionId); // the decision below folds fresh state
    const turnFailure = input.hook_event_name === 'SessionEnd' ? await this.lastTurnFailure(agent, transcript, input.session_id) : undefined;
    const toolHook = input.hook_event_name === 'PreToolUse' || input.hook_event_name === 'PostToolUse';
    // A dialect's tool hook that carries no call id is paired with the session's fold (here for the snapshot, again in the decision on fresh state).
    const pairs = dialect?.callId && toolHook ? dialect.callId.bind(dialect) : undefined;
    const paired = (s: Session): ParsedHookInput => (pairs ? withCallId(parsed, pairs(input as never, s, redact)) : parsed);
    const pairedInput = pairs ? paired(known ?? (await this.sessions.known(sessionId)).state).input : input;
    const toolResult = input.hook_event_name !== 'PostToolUse' ? undefined
      : (dialect?.result(input as never, body) ?? (typeof input.tool_use_id === 'string' ? await this.transcriptToolResult(agent, transcript, input.tool_use_id) : undefined));
    const facts = { at: new Date().toISOString(), newRunId: randomUUID, redact, ...(turnFailure !== undefined ? { turnFailure } : {}), ...(toolResult ? { toolResult } : {}) };
    // The files before a call is allowed and after its result is known, appended ahead of the call's own events.
    const phase = SNAPSHOT_PHASES[input.hook_event_name];
    const callId = phase === 'before' || phase === 'after' ? pairedInput.tool_use_id : undefined;
    // A remote session's files are on its machine: none are snapshotted here (docs/ARCHITECTURE.md §4f).
    const files = phase && !known?.remote ? await this.fileEffects.snapshotCommands(sessionId, input.cwd, phase, typeof callId === 'string' ? callId : undefined) : [];
    const decided = await this.sessions.decide(sessionId, (s) => (s.status === 'none' ? [] : [...files, ...hookCommands(paired(s), s, facts)]), context);
    if (input.hook_event_name === 'Stop' || input.hook_event_name === 'SessionEnd') {
      await this.reconcileWithTranscript(sessionId, context);
      if (decided.state.status !== 'none') void this.evaluateBudgets(decided.state.projectId, sessionId, context);
    }
    // A call recorded on a session that already ended has an owner only if its agent still lives: a reconcile adopts the
    // agent, or interrupts the call (off the hook's path; the answer does not wait for it).
    if (input.hook_event_name === 'PreToolUse' && (decided.state.status === 'exited' || decided.state.status === 'interrupted')) {
      void this.reconcileLateCall(sessionId, context);
    }
    // The transcript archive is fed off the blocking path: never before a PreToolUse or PermissionRequest answer.
    if (!BLOCKING_HOOK_EVENTS.includes(input.hook_event_name as KnownHookEvent)) transcript?.captureSoon();
    if (input.hook_event_name !== 'PreToolUse') return {};
    return this.answer(dialect, preToolUseDecision('allow', `runledger recorded ${String(pairedInput.tool_use_id)} in ${sessionId}`));
  }

  /**
   * Appends a chunk of the transcript of the remote agent session `agentSessionId` (docs/ARCHITECTURE.md §4f), read at
   * byte `offset` of its main transcript or of sub-agent transcript `subagent`, to its session's archive
   * (SessionTranscripts.ship: idempotent, appended only at the copy's length). Throws SESSION.NOT_FOUND (404 naming
   * `session_id`: its hooks create the session) and the refusals of SessionTranscripts.ship.
   */
  async shipTranscript(agentSessionId: string, offset: number, bytes: Buffer, subagent?: string): Promise<ShippedTranscript> {
    const sessionId = await this.directory.find(agentSessionId);
    if (sessionId === null) throw sessionNotFound(agentSessionId, 'session_id');
    const { state } = await this.sessions.known(sessionId);
    // The path is linked by the session's first hook and never changes: the fold this process holds names it unless a
    // hook served by another process linked it, which a fresh load finds.
    const session = state.transcriptPath ? state : (await this.sessions.load(sessionId)).state;
    return this.transcripts.ship(session, offset, bytes, subagent);
  }

  /** The answer in the agent's own words (a hook dialect's), else Claude Code's as it is. */
  private answer(dialect: HookDialect | undefined, output: HookOutput): HookOutput {
    return dialect?.answer ? (dialect.answer(output as Record<string, unknown>) as HookOutput) : output;
  }

  /**
   * For a hook naming an agent session other than the one `sessionId` is linked to: the start of that conversation and
   * the launch of the session's current runtime when the conversation began first (a hook from a previous runtime's
   * agent), else undefined. Reads the session's last launch and the transcript's head only for such a hook.
   */
  private async staleAgentSession(sessionId: string, agentSessionId: string | undefined, transcriptPath: string | undefined): Promise<{ startedAt: string; launchedAt: string } | undefined> {
    if (!agentSessionId || !transcriptPath) return undefined;
    const { state } = await this.sessions.known(sessionId);
    if (state.agentSessionId === agentSessionId || state.status !== 'running') return undefined;
    const launch = (await this.store.lastEventOfType(sessionStreamName(sessionId), 'SessionRuntimeLaunched'))?.data as { at?: unknown; runtime?: { startedAt?: unknown } } | undefined;
    // The runtime's own start (taken before its spawn), never the event's time: an agent's transcript can begin before
    // the launch is recorded, and a hook of the current agent must never be taken for a stale one.
    const launchedAtText = typeof launch?.runtime?.startedAt === 'string' && launch.runtime.startedAt ? launch.runtime.startedAt : launch?.at;
    const launchedAt = typeof launchedAtText === 'string' ? new Date(launchedAtText) : undefined;
    if (!launchedAt || Number.isNaN(launchedAt.getTime())) return undefined;
    const startedAt = await transcriptStartedAt(transcriptPath);
    if (!startedAt || startedAt >= launchedAt) return undefined;
    const fresh = (await this.sessions.load(sessionId)).state; // this process's fold may miss a link another one appended
    return fresh.agentSessionId === agentSessionId ? undefined : { startedAt: startedAt.toISOString(), launchedAt: launchedAt.toISOString() };
  }

  /**
   * For a remote hook: its project (PROJECT.NOT_FOUND, 404 naming X-Runledger-Project) and origin (the host it sent, the
   * person of the request's actor); nothing for a hook of this machine.
   */
  private async remoteWhere(remote: RemoteHook | undefined, context: CommandContext): Promise<Pick<AgentSessionWhere, 'project' | 'remote'>> {
    if (!remote) return {};
    const project = await this.sessions.knownProject(remote.projectId, 'X-Runledger-Project');
    return { project, remote: { host: remote.host, person: context.actor.replace(/^user:/, '') } };
  }

  /** The session as this process last folded it (SessionStreams.known), or null when it does not exist (the decision then appends nothing). */
  private async knownState(sessionId: string): Promise<Session | null> {
    try {
      return (await this.sessions.known(sessionId)).state;
    } catch (error) {
      if (error instanceof DomainError && error.code === 'SESSION.NOT_FOUND') return null;
      throw error;
    }
  }

  /** The API error the transcript's last turn ended on, if any (read at SessionEnd only, never on the tool-call path); undefined when there is no file to read. */
  private async lastTurnFailure(agent: CodingAgent, transcript: TranscriptSource | null, agentSessionId: string): Promise<string | undefined> {
    const file = transcript?.file();
    if (!file) return undefined;
    return (await this.adapters.of(agent).readTranscript(file, agentSessionId)).main.runs.at(-1)?.failure;
  }

  /** The result the agent's transcript holds for `callId` at its PostToolUse, for agents whose payload cannot say (AgentAdapter.hookToolResult). */
  private async transcriptToolResult(agent: CodingAgent, transcript: TranscriptSource | null, callId: string): Promise<RecordedToolResult | undefined> {
    const adapter = this.adapters.of(agent);
    const file = transcript?.file();
    return file && adapter.hookToolResult ? adapter.hookToolResult(file, callId) : undefined;
  }

  /** Reconciles a session that received a call after it ended (trigger `request`: adopts a live agent, never relaunches); a failure is logged. */
  private async reconcileLateCall(sessionId: string, context: CommandContext): Promise<void> {
    try {
      await this.reconciler.reconcile(sessionId, 'request', context);
    } catch (error) {
      this.logger.warn(`${sessionId}: reconcile of a call recorded after the session ended failed: ${(error as Error).message}`);
    }
  }

  /** After a turn's usage is recorded, records the budget crossings it made (off the hook's answer); a failure is logged. */
  private async evaluateBudgets(projectId: string, sessionId: string, context: CommandContext): Promise<void> {
    try {
      await this.budgets.afterTurn(projectId, sessionId, context);
    } catch (error) {
      this.logger.warn(`${sessionId}: budget evaluation after the turn failed: ${(error as Error).message}`);
    }
  }

  /** At Stop and SessionEnd the transcript holds the whole turn: the log is made equal to it (invariant 15); a failure is logged, never fails the hook. */
  private async reconcileWithTranscript(sessionId: string, context: CommandContext): Promise<void> {
    try {
      await this.reconciler.reconcile(sessionId, 'hook', context);
    } catch (error) {
      this.logger.warn(`${sessionId}: transcript reconcile after the hook failed: ${(error as Error).message}`);
    }
  }
}
