import { Body, Controller, Headers, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConflictResponse, ApiConsumes, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AgentHooks, CommandContext, RemoteHook, ShippedTranscript } from '@runledger/application';
import { DomainError } from '@runledger/domain';
import { commandHookStdout, HookOutput } from '@runledger/infra/agents/claude-code/hook-protocol';
import { SessionScoped } from '../http/public.decorator';
import { AnswersBeforeProjection } from '../http/read-your-writes.interceptor';
import { Ctx } from '../http/request-context';
import { ref } from '../openapi/schemas';
import { AgentParams, HookQuery, ShipTranscriptQuery } from './dto/hook-query.dto';

/** Hook events whose handling reads the read models (worktree custody asks who else uses a path): they wait for the projection like any write. */
const READS_READ_MODELS = new Set(['WorktreeCreate', 'WorktreeRemove']);

/** A hook answers once its events commit (invariant 4 asks no more; the answer reads no read model), unless its handling reads the read models. */
export const hookAnswersBeforeProjection = (request: { body?: unknown }): boolean => {
  const event = (request.body as { hook_event_name?: unknown } | undefined)?.hook_event_name;
  return typeof event !== 'string' || !READS_READ_MODELS.has(event);
};

/** A host name a remote hook may send: letters, digits, `.`, `-`, `_`, 1 to 253 characters. */
const HOST_NAME = /^[A-Za-z0-9._-]{1,253}$/;
/** A project id a remote hook may name (as `POST /projects` accepts them). */
const PROJECT_ID = /^[A-Za-z0-9._-]{1,100}$/;

const invalidHeader = (header: string, message: string): DomainError => new DomainError('HOOK.INVALID', 'invalid', message, { field: header });

/**
 * The remote flight recorder's headers of a hook (docs/ARCHITECTURE.md §4f): `X-Runledger-Host` (the machine the agent
 * runs on) and `X-Runledger-Project` (the project it records into) come together or not at all; undefined for a hook of
 * this machine. Throws HOOK.INVALID (400) naming the header.
 */
export const remoteHookOf = (host: string | undefined, projectId: string | undefined): RemoteHook | undefined => {
  if (host === undefined && projectId === undefined) return undefined;
  if (host === undefined) throw invalidHeader('X-Runledger-Host', 'a remote hook (X-Runledger-Project) must name its machine in X-Runledger-Host');
  if (projectId === undefined) throw invalidHeader('X-Runledger-Project', 'a remote hook (X-Runledger-Host) must name its project in X-Runledger-Project');
  if (!HOST_NAME.test(host)) throw invalidHeader('X-Runledger-Host', 'X-Runledger-Host must be a host name: 1 to 253 letters, digits, ".", "-" or "_"');
  if (!PROJECT_ID.test(projectId)) throw invalidHeader('X-Runledger-Project', 'X-Runledger-Project must be a project id: 1 to 100 letters, digits, ".", "-" or "_"');
  return { host, projectId };
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
  @ApiHeader({ name: 'X-Runledger-Host', required: false, description: 'remote flight recorder: the host name of the machine the agent runs on (with X-Runledger-Project)' })
  @ApiHeader({ name: 'X-Runledger-Project', required: false, description: 'remote flight recorder: the project the session records into (with X-Runledger-Host)' })
  @ApiOkResponse({ description: 'Claude Code hook output JSON; with `?transport=command`, the text a command hook prints', schema: ref('ClaudeHookOutput') })
  async hook(
    @Param() params: AgentParams,
    @Body() body: unknown,
    @Query() query: HookQuery,
    @Ctx() context: CommandContext,
    @Res({ passthrough: true }) response: { type(contentType: string): unknown },
    @Headers('x-runledger-session') sessionId?: string,
    @Headers('x-runledger-host') host?: string,
    @Headers('x-runledger-project') projectId?: string,
  ): Promise<HookOutput | string> {
    const remote = remoteHookOf(host, projectId);
    const output = await this.hooks.handle(params.agent, body, sessionId || undefined, { ...context, via: `${params.agent}-hook` }, remote);
    if (query.transport !== 'command') return output;
    response.type('text/plain; charset=utf-8');
    return commandHookStdout(output);
  }

  /**
   * The remote flight recorder's transcript shipping (docs/ARCHITECTURE.md §4f): the body (`application/octet-stream`, at
   * most MAX_SHIPPED_CHUNK bytes, request-limits.ts) is the bytes the shipper read at `offset` of the agent session's main transcript (or of
   * sub-agent transcript `subagent`). They are appended to the session's archive at its current length only: bytes it
   * already holds are checked equal and skipped (sending a chunk again appends nothing); a chunk starting past its end is
   * 409 TRANSCRIPT.OFFSET and a differing byte 409 TRANSCRIPT.MISMATCH, both with `details.expectedOffset` (resume there).
   * 404 until the session's hooks created it; 409 TRANSCRIPT.NOT_SHIPPED for a session whose transcript is on this machine.
   */
  @Put(':agent/transcript')
  @HttpCode(200)
  // At commit: it appends no event and reads no read model but the agent session's link (AgentSessionDirectory waits for the projection itself).
  @AnswersBeforeProjection()
  @ApiConsumes('application/octet-stream')
  @ApiBody({ description: 'the transcript bytes read at `offset`', required: true, schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({ description: 'the archive copy after the chunk: `length` is where the next chunk starts', schema: ref('ShippedTranscript') })
  @ApiConflictResponse({ description: 'TRANSCRIPT.OFFSET (a gap) or TRANSCRIPT.MISMATCH: `details.expectedOffset` is the copy\'s length; TRANSCRIPT.NOT_SHIPPED' })
  async shipTranscript(@Param() _params: AgentParams, @Query() query: ShipTranscriptQuery, @Req() request: { body?: unknown; headers: Record<string, unknown> }): Promise<ShippedTranscript> {
    if (!Buffer.isBuffer(request.body)) {
      throw new DomainError('TRANSCRIPT.INVALID', 'invalid', `the body must be the transcript bytes as application/octet-stream (got ${String(request.headers['content-type'] ?? 'no Content-Type')})`, { field: 'Content-Type' });
    }
    return this.hooks.shipTranscript(query.session_id, query.offset, request.body, query.subagent);
  }
}
