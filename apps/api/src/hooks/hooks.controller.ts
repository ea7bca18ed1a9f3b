import { Body, Controller, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AgentHooks, CommandContext } from '@runledger/application';
import { commandHookStdout, HookOutput } from '@runledger/infra/agents/claude-code/hook-protocol';
import { SessionScoped } from '../http/public.decorator';
import { AnswersBeforeProjection } from '../http/read-your-writes.interceptor';
import { Ctx } from '../http/request-context';
import { ref } from '../openapi/schemas';
import { AgentParams, HookQuery } from './dto/hook-query.dto';

/** Hook events whose handling reads the read models (worktree custody asks who else uses a path): they wait for the projection like any write. */
const READS_READ_MODELS = new Set(['WorktreeCreate', 'WorktreeRemove']);

/** A hook answers once its events commit (invariant 4 asks no more; the answer reads no read model), unless its handling reads the read models. */
export const hookAnswersBeforeProjection = (request: { body?: unknown }): boolean => {
  const event = (request.body as { hook_event_name?: unknown } | undefined)?.hook_event_name;
  return typeof event !== 'string' || !READS_READ_MODELS.has(event);
};

/** `POST /hooks/:agent`: the target of the coding agents' hooks (`claude-code`, `codex`, `opencode`'s plugin, `gemini-cli`). */
@ApiTags('hooks')
@ApiBearerAuth('bearer')
@Controller('hooks')
export class HooksController {
  constructor(private readonly hooks: AgentHooks) {}

  /**
   * Takes the agent's hook input JSON (Claude Code's shape; Codex sends the same) and answers its hook output JSON; PreToolUse answers allow only after the
   * `ToolCallDispatched` checkpoint is committed. The body is Claude's shape, validated by the handler (400 naming the field).
   * With `?transport=command` (the command hooks, bin/runledger-hook and `runledger hook`) the answer is text/plain:
   * exactly what the hook prints on stdout (commandHookStdout).
   */
  @Post(':agent')
  @HttpCode(200)
  @SessionScoped({ header: 'x-runledger-session' })
  @AnswersBeforeProjection(hookAnswersBeforeProjection)
  @ApiBody({ description: 'Claude Code hook input JSON (`hook_event_name`, `session_id`, `tool_name`, `tool_input`, `tool_use_id`, …)', schema: { type: 'object', additionalProperties: true } })
  @ApiHeader({ name: 'X-Runledger-Session', required: false, description: 'the runledger session id, when the hook runs inside a session runledger spawned' })
  @ApiOkResponse({ description: 'Claude Code hook output JSON; with `?transport=command`, the text a command hook prints', schema: ref('ClaudeHookOutput') })
  async hook(
    @Param() params: AgentParams,
    @Body() body: unknown,
    @Query() query: HookQuery,
    @Ctx() context: CommandContext,
    @Res({ passthrough: true }) response: { type(contentType: string): unknown },
    @Headers('x-runledger-session') sessionId?: string,
  ): Promise<HookOutput | string> {
    const output = await this.hooks.handle(params.agent, body, sessionId || undefined, { ...context, via: `${params.agent}-hook` });
    if (query.transport !== 'command') return output;
    response.type('text/plain; charset=utf-8');
    return commandHookStdout(output);
  }
}
