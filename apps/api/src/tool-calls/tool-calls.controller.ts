import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  CommandContext, RecordToolCallResultCommand, RequestToolCallCommand, RetryToolCallCommand, SessionStreams, ToolCallReply,
} from '@runledger/application';
import { ToolCallView, toToolCallView } from '@runledger/domain';
import { SessionScoped } from '../http/public.decorator';
import { AnswersBeforeProjection } from '../http/read-your-writes.interceptor';
import { Ctx } from '../http/request-context';
import { ref } from '../openapi/schemas';
import { RequestToolCallDto, ToolCallResultDto, ToolCallWaitQuery } from './dto/tool-call.dto';

/** Default wait of `?wait=true` (ms). */
export const DEFAULT_WAIT_MS = 30_000;
const WAIT_POLL_MS = 25;

/** `/sessions/:id/tool-calls`: checkpoint before dispatch, results, retries (docs/ARCHITECTURE.md §5, invariants 3–5). */
@ApiTags('tool-calls')
@ApiBearerAuth('bearer')
@SessionScoped({ param: 'sessionId' })
@Controller('sessions/:sessionId/tool-calls')
export class ToolCallsController {
  constructor(private readonly commands: CommandBus, private readonly sessions: SessionStreams) {}

  /**
   * 201 with the dispatched call once `ToolCallDispatched` is committed (200 with the existing call for a repeated
   * callId, the first reply for a repeated Idempotency-Key); `?wait=true` waits for a managed call's result up to
   * `timeoutMs`.
   */
  @Post()
  @AnswersBeforeProjection() // reads the session and project streams and idempotency records, never a read model (docs/ARCHITECTURE.md §5)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'a repeat with the same key and body returns the first result; without a callId, the call id becomes `idem-<key>`' })
  @ApiCreatedResponse({ description: 'dispatched (ToolCallDispatched committed); with `?wait=true`, a managed call\'s result', schema: ref('ToolCall') })
  @ApiOkResponse({ description: 'the existing call, for a repeated callId or Idempotency-Key', schema: ref('ToolCall') })
  async request(
    @Param('sessionId') sessionId: string,
    @Body() body: RequestToolCallDto,
    @Query() query: ToolCallWaitQuery,
    @Ctx() context: CommandContext,
    @Res({ passthrough: true }) response: { status(code: number): unknown },
  ): Promise<ToolCallView> {
    const reply = await this.commands.execute<RequestToolCallCommand, ToolCallReply>(new RequestToolCallCommand(sessionId, { ...body }, context));
    response.status(reply.created ? 201 : 200);
    if (query.wait !== 'true' || reply.call.status !== 'dispatched') return reply.call;
    return this.waitForResult(sessionId, reply.call, query.timeoutMs ?? DEFAULT_WAIT_MS);
  }

  /** Every tool call of the session, in dispatch order. */
  @Get()
  @ApiOkResponse({ description: 'the session\'s tool calls in dispatch order', schema: ref('ToolCallList') })
  async list(@Param('sessionId') sessionId: string): Promise<{ toolCalls: ToolCallView[] }> {
    const { state } = await this.sessions.load(sessionId);
    return { toolCalls: state.toolCalls.values().map(toToolCallView) };
  }

  /** Records a result (200); 409 if the call is not in flight, except a late result for an interrupted attempt. */
  @Post(':callId/result')
  @HttpCode(200)
  @AnswersBeforeProjection() // decides on the session stream; the answer is its fold (docs/ARCHITECTURE.md §5)
  @ApiOkResponse({ description: 'the call with its result', schema: ref('ToolCall') })
  result(@Param('sessionId') sessionId: string, @Param('callId') callId: string, @Body() body: ToolCallResultDto, @Ctx() context: CommandContext): Promise<ToolCallView> {
    return this.commands.execute(new RecordToolCallResultCommand(sessionId, callId, { ...body, source: 'agent' }, context));
  }

  /** Dispatches an interrupted call as a new attempt (201); 409 if it is not interrupted. */
  @Post(':callId/retry')
  @AnswersBeforeProjection() // decides on the session stream; the answer is its fold (docs/ARCHITECTURE.md §5)
  @ApiCreatedResponse({ description: 'the call, dispatched as a new attempt', schema: ref('ToolCall') })
  retry(@Param('sessionId') sessionId: string, @Param('callId') callId: string, @Ctx() context: CommandContext): Promise<ToolCallView> {
    return this.commands.execute(new RetryToolCallCommand(sessionId, callId, context));
  }

  private async waitForResult(sessionId: string, call: ToolCallView, timeoutMs: number): Promise<ToolCallView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { state } = await this.sessions.load(sessionId);
      const current = state.toolCalls.get(call.callId);
      if (current && (current.status !== 'dispatched' || current.attempt !== call.attempt)) return toToolCallView(current);
      if (Date.now() >= deadline) return toToolCallView(current ?? (call as never));
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  }
}
