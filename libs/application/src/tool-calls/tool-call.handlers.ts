import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DomainError, Session, ToolCallView, toToolCallView } from '@runledger/domain';
import { RunledgerConfig } from '@runledger/infra/config';
import { ToolInputError, validateToolCall } from '@runledger/infra/tools';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { SessionStreams } from '../sessions/session-streams';
import { sessionWorkdir } from '../sessions/worktree-layout';
import { SecretRedaction } from './secret-redaction';
import { RecordToolCallResultCommand, RequestToolCallCommand, RetryToolCallCommand } from './tool-call.commands';

/** A tool call view plus whether this request created it (201) or found it (200, invariant 3). */
export interface ToolCallReply {
  call: ToolCallView;
  created: boolean;
}

const viewOf = (state: Session, callId: string): ToolCallView => {
  const call = state.toolCalls.get(callId);
  if (!call) throw new DomainError('TOOL_CALL.NOT_FOUND', 'not_found', `no tool call ${callId}`, { callId });
  return toToolCallView(call);
};

/**
 * Checkpoint before dispatch (invariant 4): the call is validated (managed: built-in tool, paths inside the
 * worktree; 400 otherwise, nothing appended), redacted (invariant 12), and `ToolCallDispatched` is committed before
 * this returns; a managed call is then executed by the worker's executor, an observed one is the agent's to run.
 * A repeated callId returns the existing call (invariant 3).
 */
@CommandHandler(RequestToolCallCommand)
export class RequestToolCallHandler implements ICommandHandler<RequestToolCallCommand, ToolCallReply> {
  constructor(
    private readonly sessions: SessionStreams,
    private readonly redaction: SecretRedaction,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
  ) {}

  async execute({ sessionId, request, context }: RequestToolCallCommand): Promise<ToolCallReply> {
    const { state } = await this.sessions.load(sessionId);
    const { state: project } = await this.sessions.project(state.projectId);
    const callId = request.callId ?? randomUUID();
    if (state.toolCalls.get(callId)) {
      const decided = await this.sessions.decide(sessionId, () => [dispatch(callId, request, request.input)], context); // [] or ID_CONFLICT
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
    const input = this.redaction.forProject(project.env).redact(request.input);
    const decided = await this.sessions.decide(sessionId, () => [dispatch(callId, request, input)], context);
    return { call: viewOf(decided.state as Session, callId), created: decided.events.length > 0 };
  }
}

const dispatch = (callId: string, request: RequestToolCallCommand['request'], input: unknown) =>
  ({
    type: 'DispatchToolCall' as const,
    data: {
      callId, tool: request.tool, input, mode: request.mode, at: new Date().toISOString(),
      ...(request.runId ? { runId: request.runId } : {}),
      ...(request.idempotent !== undefined ? { idempotent: request.idempotent } : {}),
    },
  });

/**
 * Appends a result the moment it arrives (invariant 5), redacted. A result for an attempt that was interrupted is
 * kept as `ToolCallLateResultRecorded` (surfaced, never merged); any other call not in flight is 409.
 */
@CommandHandler(RecordToolCallResultCommand)
export class RecordToolCallResultHandler implements ICommandHandler<RecordToolCallResultCommand, ToolCallView> {
  constructor(private readonly sessions: SessionStreams, private readonly redaction: SecretRedaction) {}

  async execute({ sessionId, callId, result, context }: RecordToolCallResultCommand): Promise<ToolCallView> {
    const { state } = await this.sessions.known(sessionId); // its project; the decision below folds fresh state
    const { state: project } = await this.sessions.project(state.projectId);
    const redactor = this.redaction.forProject(project.env);
    const decided = await this.sessions.decide(
      sessionId,
      () => [{
        type: 'RecordToolCallResult',
        data: {
          callId, status: result.status, source: result.source ?? 'agent', at: result.occurredAt ?? new Date().toISOString(),
          ...(result.attempt !== undefined ? { attempt: result.attempt } : {}),
          ...(result.output !== undefined ? { output: redactor.redact(result.output) } : {}),
          ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
          ...(result.error !== undefined ? { error: redactor.redact(result.error) } : {}),
        },
      }],
      context,
    );
    return viewOf(decided.state as Session, callId);
  }
}

/** Dispatches an interrupted call again as attempt + 1 (docs/ARCHITECTURE.md §2); 409 TOOL_CALL.NOT_RETRYABLE otherwise. */
@CommandHandler(RetryToolCallCommand)
export class RetryToolCallHandler implements ICommandHandler<RetryToolCallCommand, ToolCallView> {
  constructor(private readonly sessions: SessionStreams) {}

  async execute({ sessionId, callId, context }: RetryToolCallCommand): Promise<ToolCallView> {
    const decided = await this.sessions.decide(sessionId, () => [{ type: 'RetryToolCall', data: { callId, at: new Date().toISOString() } }], context);
    if (decided.state.status === 'none') await this.sessions.load(sessionId);
    return viewOf(decided.state as Session, callId);
  }
}
