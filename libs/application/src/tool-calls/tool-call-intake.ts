import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError, Redact, RegisteredProject, Session, ToolCallRecorder, toolCallRecorder, ToolCallView, toToolCallView } from '@runledger/domain';
import { RunledgerConfig } from '@runledger/infra/config';
import { ToolInputError, validateToolCall } from '@runledger/infra/tools';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { CommandContext } from '../event-sourcing/command-context';
import { Idempotent } from '../idempotency/idempotent';
import { FileEffects } from '../file-effects/file-effects.service';
import { SessionStreams } from '../sessions/session-streams';
import { sessionWorkdir } from '../sessions/worktree-layout';
import { SecretRedaction } from './secret-redaction';
import { RequestToolCallInput, ToolCallResultInput } from './tool-call.commands';

/** A tool call view plus whether this request created it (201) or found it (200, invariant 3). */
export interface ToolCallReply {
  call: ToolCallView;
  created: boolean;
}

/** What a path that records tool calls inside a larger decision needs: the recorder and the same redaction for its other content. */
export interface ToolCallDoor {
  /** Builds DispatchToolCall / RecordToolCallResult, redacted (invariant 12). */
  calls: ToolCallRecorder;
  /** The project's redaction, for what else the path records (prompts, hook details). */
  redact: Redact;
}

/** Whether the project's state holds env values written into the log by an older version (secrets a later event may forget). */
const hasLegacyEnv = (project: RegisteredProject): boolean => project.env !== undefined && Object.keys(project.env).length > 0;

/** The call's view in `state`; throws TOOL_CALL.NOT_FOUND (404). */
const viewOf = (state: Session, callId: string): ToolCallView => {
  const call = state.toolCalls.get(callId);
  if (!call) throw new DomainError('TOOL_CALL.NOT_FOUND', 'not_found', `no tool call ${callId}`, { callId });
  return toToolCallView(call);
};

/**
 * The one door for tool calls (docs/ARCHITECTURE.md §2, invariants 3, 4, 5, 12): every path that records a tool call or
 * its result gets its commands here. The HTTP routes and the managed executor call `request` / `recordResult`, which
 * decide on the session stream themselves (and `retry`, a new attempt of an interrupted call); Claude Code hooks, transcript import and reconcile fold the calls into a
 * larger decision and take a `door` (the recorder with the project's redaction). The door reads nothing on top of the
 * decision unless the project holds legacy env values (then one read of the project stream's tail).
 */
@Injectable()
export class ToolCallIntake {
  constructor(
    private readonly sessions: SessionStreams,
    private readonly redaction: SecretRedaction,
    private readonly idempotent: Idempotent,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
    private readonly fileEffects: FileEffects,
  ) {}

  /** The door for a session of `project`: its env values are secrets too. Pure and cheap (no read). */
  doorFor(project: RegisteredProject): ToolCallDoor {
    const redactor = this.redaction.forProject(project.env);
    const redact: Redact = (value) => redactor.redact(value);
    return { calls: toolCallRecorder(redact), redact };
  }

  /**
   * The door for `sessionId` and its project; throws SESSION.NOT_FOUND / PROJECT.NOT_FOUND (404). Reads nothing when
   * this process holds the project's fold and it has no legacy env values: the values it adds to redaction come only
   * from `ProjectRegistered` (later events only forget some), so such a project's door is the store's redaction.
   */
  async door(sessionId: string): Promise<ToolCallDoor & { project: RegisteredProject }> {
    const { state } = await this.sessions.known(sessionId); // its project; decisions fold fresh state
    const project = await this.redactionProject(state.projectId);
    return { ...this.doorFor(project), project };
  }

  /** The project whose env the redaction adds: the fold this process holds, read fresh only when it has legacy env values. */
  private async redactionProject(projectId: string): Promise<RegisteredProject> {
    const known = await this.sessions.knownProject(projectId);
    return hasLegacyEnv(known) ? (await this.sessions.project(projectId)).state : known;
  }

  /**
   * Checkpoint before dispatch (invariant 4): the call is validated (managed: built-in tool, paths inside the worktree;
   * TOOL_CALL.INVALID 400 otherwise, nothing appended), redacted (invariant 12), and `ToolCallDispatched` is committed
   * before this returns. A repeated callId returns the existing call (`created: false`, invariant 3); the same callId
   * with another tool is TOOL_CALL.ID_CONFLICT (409). With an Idempotency-Key (`context.idempotencyKey`) the request runs
   * once through `Idempotent`, like every request that honours the key: a repeat returns the first reply
   * (`created: false`), another body under the same key is IDEMPOTENCY.KEY_REUSED (409); without a callId the call's id
   * is `idem-<key>`.
   */
  async request(sessionId: string, request: RequestToolCallInput, context: CommandContext): Promise<ToolCallReply> {
    const key = context.idempotencyKey;
    if (key === undefined) return this.checkpoint(sessionId, request, context);
    const scope = `POST /sessions/${sessionId}/tool-calls`;
    const { result, replayed } = await this.idempotent.run(scope, key, request, () =>
      this.checkpoint(sessionId, { ...request, callId: request.callId ?? `idem-${key}` }, context),
    );
    return replayed ? { call: result.call, created: false } : result;
  }

  /**
   * Validates, redacts and commits `ToolCallDispatched` (see `request`). Starts from the fold this process holds (no read
   * when it holds one): a call it does not show yet is decided again on fresh state when the append meets a later
   * revision (invariant 2), and a repeat it shows is re-decided on fresh state before it is believed (DeciderStreams).
   */
  private async checkpoint(sessionId: string, request: RequestToolCallInput, context: CommandContext): Promise<ToolCallReply> {
    const { state } = await this.sessions.known(sessionId);
    const project = await this.redactionProject(state.projectId);
    const { calls } = this.doorFor(project);
    const callId = request.callId ?? randomUUID();
    const dispatch = () =>
      calls.dispatch({
        callId, tool: request.tool, input: request.input, mode: request.mode, at: new Date().toISOString(), runId: request.runId || undefined, idempotent: request.idempotent,
      });
    if (state.toolCalls.get(callId)) {
      const decided = await this.sessions.decide(sessionId, () => [dispatch()], context); // [] or ID_CONFLICT
      return { call: viewOf(decided.state as Session, callId), created: false };
    }
    if (request.mode === 'managed') {
      try {
        validateToolCall(request.tool, request.input, sessionWorkdir(this.config.dataDir, project, sessionId));
      } catch (error) {
        if (error instanceof ToolInputError) throw new DomainError('TOOL_CALL.INVALID', 'invalid', error.message, { field: error.field });
        throw error;
      }
    }
    // A managed call runs in the session's workdir: its files are snapshotted before it is dispatched (docs/ARCHITECTURE.md §4e).
    const files = request.mode === 'managed' ? await this.fileEffects.snapshotCommands(sessionId, sessionWorkdir(this.config.dataDir, project, sessionId), 'before', callId) : [];
    const decided = await this.sessions.decide(sessionId, () => [...files, dispatch()], context);
    return { call: viewOf(decided.state as Session, callId), created: decided.events.some((e) => e.type === 'ToolCallDispatched') };
  }

  /**
   * Appends a result the moment it arrives (invariant 5), redacted (invariant 12). A result for an attempt that was
   * interrupted is kept as `ToolCallLateResultRecorded` (surfaced, never merged); TOOL_CALL.NOT_FOUND (404) for an
   * unknown call, TOOL_CALL.NOT_IN_FLIGHT / ATTEMPT_MISMATCH (409) for a call not in flight.
   */
  async recordResult(sessionId: string, callId: string, result: ToolCallResultInput, context: CommandContext): Promise<ToolCallView> {
    const { calls, project } = await this.door(sessionId);
    // A managed call's files after it ran, snapshotted before its result is recorded (docs/ARCHITECTURE.md §4e).
    const { state } = await this.sessions.known(sessionId);
    const managed = state.toolCalls.get(callId)?.mode === 'managed';
    const files = managed ? await this.fileEffects.snapshotCommands(sessionId, sessionWorkdir(this.config.dataDir, project, sessionId), 'after', callId) : [];
    const decided = await this.sessions.decide(
      sessionId,
      () => [...files, calls.result({
        callId, status: result.status, source: result.source ?? 'agent', at: result.occurredAt ?? new Date().toISOString(),
        attempt: result.attempt, output: result.output, exitCode: result.exitCode, error: result.error,
      })],
      context,
    );
    return viewOf(decided.state as Session, callId);
  }

  /** Dispatches an interrupted call again as attempt + 1 (docs/ARCHITECTURE.md §2); 409 TOOL_CALL.NOT_RETRYABLE otherwise, 404 unknown. */
  async retry(sessionId: string, callId: string, context: CommandContext): Promise<ToolCallView> {
    const decided = await this.sessions.decide(sessionId, () => [{ type: 'RetryToolCall', data: { callId, at: new Date().toISOString() } }], context);
    if (decided.state.status === 'none') await this.sessions.load(sessionId); // SESSION.NOT_FOUND
    return viewOf(decided.state as Session, callId);
  }
}
