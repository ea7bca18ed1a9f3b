import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { ToolCallView } from '@runledger/domain';
import { RecordToolCallResultCommand, RequestToolCallCommand, RetryToolCallCommand } from './tool-call.commands';
import { ToolCallIntake, ToolCallReply } from './tool-call-intake';

/** Checkpoint before dispatch (invariant 4), through the tool-call intake (`ToolCallIntake.request`). */
@CommandHandler(RequestToolCallCommand)
export class RequestToolCallHandler implements ICommandHandler<RequestToolCallCommand, ToolCallReply> {
  constructor(private readonly intake: ToolCallIntake) {}

  execute({ sessionId, request, context }: RequestToolCallCommand): Promise<ToolCallReply> {
    return this.intake.request(sessionId, request, context);
  }
}

/** A result as it arrives (invariant 5), through the tool-call intake (`ToolCallIntake.recordResult`). */
@CommandHandler(RecordToolCallResultCommand)
export class RecordToolCallResultHandler implements ICommandHandler<RecordToolCallResultCommand, ToolCallView> {
  constructor(private readonly intake: ToolCallIntake) {}

  execute({ sessionId, callId, result, context }: RecordToolCallResultCommand): Promise<ToolCallView> {
    return this.intake.recordResult(sessionId, callId, result, context);
  }
}

/** A new attempt of an interrupted call, through the tool-call intake (`ToolCallIntake.retry`). */
@CommandHandler(RetryToolCallCommand)
export class RetryToolCallHandler implements ICommandHandler<RetryToolCallCommand, ToolCallView> {
  constructor(private readonly intake: ToolCallIntake) {}

  execute({ sessionId, callId, context }: RetryToolCallCommand): Promise<ToolCallView> {
    return this.intake.retry(sessionId, callId, context);
  }
}
