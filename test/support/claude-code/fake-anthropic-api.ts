import { randomBytes, randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, serveStandIn } from '../stand-in-server';

/** One tool call the scripted model asks for: a Claude Code tool name (`Bash`, `Read`, `Write`, `Edit`, `Task`, ...) and its input. */
export interface ScriptedToolUse {
  name: string;
  input: Record<string, unknown>;
}

/**
 * One assistant turn of the script, answered to the next main-loop request (a request that offers tools):
 * `tools` → one message with those tool_use blocks (`stop_reason: tool_use`), each with a fresh unique id;
 * `text` → a final answer (`stop_reason: end_turn`).
 */
export type ScriptedTurn = ({ tools: ScriptedToolUse[]; text?: string } | { text: string }) & { usage?: ScriptedUsage } | ScriptedError;

/** The usage a scripted message reports (default 12 input, 8 output, no cache), streamed as the real API does: `message_start` with output 1, `message_delta` with the final output. */
export type ScriptedUsage = AssistantMessage['usage'];

/** An API error answered instead of a message (e.g. 400 `invalid_request_error`: the CLI gives up and exits non-zero). */
export interface ScriptedError {
  error: { status: number; type: string; message: string };
}

/** A turn, or a function that builds it when its request arrives (e.g. a Write whose absolute path is known only after spawn). */
export type QueuedTurn = ScriptedTurn | ((request: MessagesRequest) => ScriptedTurn);

/** A request the stand-in received, parsed (the Messages API body), with the turn it was answered with. */
export interface RecordedRequest {
  path: string;
  body: MessagesRequest;
  /** `main` for a request with tools (took a turn of the script), `side` for one without (title, summary, ...). */
  kind: 'main' | 'side';
  answer: AssistantMessage | ScriptedError;
}

/** The subset of a Messages API request body the stand-in reads. */
export interface MessagesRequest {
  model?: string;
  stream?: boolean;
  system?: unknown;
  tools?: unknown[];
  messages?: Array<{ role: string; content: unknown }>;
  [field: string]: unknown;
}

/** An assistant message as the stand-in answers it (the non-streaming shape; streamed as SSE when asked). */
export interface AssistantMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<{ type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }>;
  stop_reason: 'end_turn' | 'tool_use';
  stop_sequence: null;
  usage: { input_tokens: number; output_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number };
}

/**
 * Decides the answer to a main-loop request; return undefined to take the next turn of the queue.
 * Use it to answer a sub-agent's requests apart from the main agent's (e.g. by its system prompt or first message).
 */
export type TurnChooser = (request: MessagesRequest) => ScriptedTurn | undefined;

/** Options of the stand-in. */
export interface FakeAnthropicApiOptions {
  /** Turns answered in order to main-loop requests; when exhausted, `whenExhausted` (default: end_turn "Done."). */
  script?: QueuedTurn[];
  choose?: TurnChooser;
  whenExhausted?: ScriptedTurn;
  /** Text answered to side requests (no tools offered): titles, summaries. Default "Scripted session". */
  sideText?: string;
}

/** A running stand-in for the Anthropic Messages API on 127.0.0.1 (ephemeral port). */
export interface FakeAnthropicApi {
  /** Base URL to give Claude Code as ANTHROPIC_BASE_URL (no trailing slash, no /v1). */
  url: string;
  /** Every Messages request received, in order. */
  requests: RecordedRequest[];
  /** Every tool_use id handed out, in order (all unique). */
  toolUseIds: string[];
  /** Appends turns to the queue (for a later phase of a test, e.g. after a resume). */
  push(...turns: QueuedTurn[]): void;
  /** Turns still queued. */
  remaining(): number;
  /** Drops every queued turn (e.g. retries the CLI did not use); returns how many were dropped. */
  clear(): number;
  close(): Promise<void>;
}

const DEFAULT_MODEL = 'claude-sonnet-4-5-20250929';

/** A tool_use id shaped like the real API's (`toolu_` + 24 base62 characters), never repeated. */
export const newToolUseId = (): string => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `toolu_01${Array.from(randomBytes(22), (b) => alphabet[b % alphabet.length]).join('')}`;
};

/** Builds the assistant message for `turn` with fresh tool_use ids. */
const messageFor = (turn: Exclude<ScriptedTurn, ScriptedError>, model: string): AssistantMessage => {
  const content: AssistantMessage['content'] = [];
  if (turn.text) content.push({ type: 'text', text: turn.text });
  const tools = 'tools' in turn ? turn.tools : [];
  for (const tool of tools) content.push({ type: 'tool_use', id: newToolUseId(), name: tool.name, input: tool.input });
  return {
    id: `msg_01${randomUUID().replace(/-/g, '').slice(0, 22)}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: tools.length > 0 ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: turn.usage ? { ...turn.usage } : { input_tokens: 12, output_tokens: 8, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
};

/**
 * The message as the real API streams it (docs/ARCHITECTURE.md §7): `message_start`, per block `content_block_start` (a tool_use
 * block with empty input) / `content_block_delta` (`text_delta` or `input_json_delta` with `partial_json`) /
 * `content_block_stop`, then `message_delta` (stop_reason) and `message_stop`. Tool inputs arrive in two chunks.
 */
export const sseEvents = (message: AssistantMessage): Array<{ event: string; data: unknown }> => {
  const events: Array<{ event: string; data: unknown }> = [
    { event: 'message_start', data: { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } } } },
    { event: 'ping', data: { type: 'ping' } },
  ];
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } });
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } } });
    } else {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } } });
      const json = JSON.stringify(block.input);
      const cut = Math.floor(json.length / 2);
      for (const part of [json.slice(0, cut), json.slice(cut)]) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } } });
      }
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push({ event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: message.usage.output_tokens } } });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return events;
};

/**
 * Starts a scripted stand-in for the Anthropic Messages API (`POST /v1/messages`, streamed or not;
 * `POST /v1/messages/count_tokens`). A request that offers tools takes the next scripted turn (or `choose`'s answer);
 * a side request without tools gets a short text. Anything else is a 404 with the Messages API error shape.
 */
export const startFakeAnthropicApi = async (options: FakeAnthropicApiOptions = {}): Promise<FakeAnthropicApi> => {
  const queue = [...(options.script ?? [])];
  const requests: RecordedRequest[] = [];
  const toolUseIds: string[] = [];
  const exhausted = options.whenExhausted ?? { text: 'Done.' };

  const answer = (path: string, body: MessagesRequest): AssistantMessage | ScriptedError => {
    const main = Array.isArray(body.tools) && body.tools.length > 0;
    const next = main ? (options.choose?.(body) ?? queue.shift() ?? exhausted) : { text: options.sideText ?? 'Scripted session' };
    const turn = typeof next === 'function' ? next(body) : next;
    if ('error' in turn) {
      requests.push({ path, body, kind: main ? 'main' : 'side', answer: turn });
      return turn;
    }
    const message = messageFor(turn, body.model ?? DEFAULT_MODEL);
    for (const block of message.content) if (block.type === 'tool_use') toolUseIds.push(block.id);
    requests.push({ path, body, kind: main ? 'main' : 'side', answer: message });
    return message;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    const raw = request.method === 'POST' ? await readBody(request) : '';
    if (request.method === 'POST' && path === '/v1/messages/count_tokens') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ input_tokens: Math.ceil(raw.length / 4) }));
      return;
    }
    if (request.method !== 'POST' || path !== '/v1/messages') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `${request.method} ${path}` } }));
      return;
    }
    let body: MessagesRequest;
    try {
      body = JSON.parse(raw) as MessagesRequest;
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'body is not JSON' } }));
      return;
    }
    const message = answer(path, body);
    if ('error' in message) {
      const { status, type, message: text } = message.error;
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type, message: text } }));
      return;
    }
    if (!body.stream) {
      response.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${randomUUID()}` }).end(JSON.stringify(message));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'request-id': `req_${randomUUID()}` });
    for (const { event, data } of sseEvents(message)) response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    response.end();
  };

  const { port, close } = await serveStandIn(handle, (message) => ({ type: 'error', error: { type: 'api_error', message } }));
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    toolUseIds,
    push: (...turns) => queue.push(...turns),
    remaining: () => queue.length,
    clear: () => queue.splice(0).length,
    close,
  };
};
