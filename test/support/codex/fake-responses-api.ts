import { randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, serveStandIn } from '../stand-in-server';

/*
 * A scripted stand-in for the OpenAI Responses API as the real Codex CLI (0.171.0) uses it: `POST /v1/responses`,
 * answered with SSE frames `response.created`, one `response.output_item.done` per output item, `response.completed`
 * (with usage). Facts it encodes are in test/support/codex/README.md.
 */

/** One `exec_command` call (Codex's shell tool): `cmd` plus any other argument the tool offers (`workdir`, `yield_time_ms`, ...). */
export interface ScriptedExec {
  cmd: string;
  [argument: string]: unknown;
}

/** One MCP tool call: the server's name as registered in config.toml (`[mcp_servers.<server>]`), the tool and its arguments. */
export interface ScriptedMcpCall {
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
}

/** Any other function tool Codex offers (`write_stdin`, `view_image`, `update_goal`, ...) with its arguments. */
export interface ScriptedFunctionCall {
  name: string;
  arguments: Record<string, unknown>;
}

/**
 * One model turn of the script, answered to the next request that offers tools. Calls come out in the order exec,
 * functions, patch, mcp, each with a fresh unique `call_…` id; `text` alone is a final answer (the run ends).
 * An `mcp` turn takes two requests when the MCP tool has not been loaded yet: Codex 0.171 offers MCP tools only through
 * `tool_search`, so the stand-in first answers a `tool_search_call` and then, once the `tool_search_output` is back,
 * the `function_call` with `namespace: "mcp__<server>"`.
 */
export type ScriptedTurn =
  | { exec?: ScriptedExec[]; functions?: ScriptedFunctionCall[]; patch?: string | string[]; mcp?: ScriptedMcpCall | ScriptedMcpCall[]; text?: string }
  | ScriptedError;

/** An API error answered instead of a response (with request_max_retries = 0 the CLI gives up on it). */
export interface ScriptedError {
  error: { status: number; type: string; message: string };
}

/** A turn, or a function that builds it when its request arrives. */
export type QueuedTurn = ScriptedTurn | ((request: ResponsesRequest) => ScriptedTurn);

/** The subset of a Responses API request body the stand-in reads. */
export interface ResponsesRequest {
  model?: string;
  stream?: boolean;
  input?: Array<Record<string, unknown>>;
  tools?: Array<Record<string, unknown>>;
  [field: string]: unknown;
}

/** One output item as the stand-in sends it (`function_call`, `custom_tool_call`, `tool_search_call`, `message`). */
export type OutputItem = Record<string, unknown> & { type: string };

/** A request the stand-in received, with what it answered. */
export interface RecordedRequest {
  path: string;
  body: ResponsesRequest;
  /**
   * `main`: offered tools and took a scripted turn (or the second half of an `mcp` turn); `search`: answered the
   * `tool_search_call` of an `mcp` turn; `replay`: same step as an earlier request (a retry), answered the same;
   * `side`: no tools offered, answered with a text.
   */
  kind: 'main' | 'search' | 'replay' | 'side';
  /** The step key: `<thread>:<user messages>:<tool outputs>` (thread = the body's `prompt_cache_key`, which Codex sets to the thread id). */
  step: string;
  answer: { id: string; output: OutputItem[] } | ScriptedError;
}

/** Options of the stand-in. */
export interface FakeResponsesApiOptions {
  /** Turns answered in order; when exhausted, `whenExhausted` (default: the text "Done."). */
  script?: QueuedTurn[];
  /** The turn of every request once the script is exhausted: a turn, or a function of the request (a stateless model). */
  whenExhausted?: QueuedTurn;
  /** Text answered to requests that offer no tools. Default "Scripted answer". */
  sideText?: string;
}

/** A running stand-in for the Responses API on 127.0.0.1 (ephemeral port). */
export interface FakeResponsesApi {
  /** Base URL for config.toml's `base_url` (ends with `/v1`, no trailing slash): Codex POSTs `${url}/responses`. */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Every call id handed out for exec, other function, apply_patch and MCP calls, in order (unique, `call_` + 24 characters). */
  callIds: string[];
  /** Appends turns to the queue (e.g. before a resume). */
  push(...turns: QueuedTurn[]): void;
  /** Turns still queued. */
  remaining(): number;
  close(): Promise<void>;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomChars = (n: number): string => Array.from(randomBytes(n), (b) => ALPHABET[b % ALPHABET.length]).join('');
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** A call id shaped like the real API's (`call_` + 24 base62 characters), never repeated in practice. */
export const newCallId = (): string => `call_${randomChars(24)}`;

const OUTPUT_TYPES = new Set(['function_call_output', 'custom_tool_call_output', 'tool_search_output', 'mcp_tool_call_output']);

/**
 * The step a request stands at: its thread, and how many user messages and tool outputs its `input` holds. Codex sends the
 * whole history each time, so a new step adds an output (or a prompt) and a retry of the same step has the same key.
 */
export const stepOf = (body: ResponsesRequest): string => {
  const input = Array.isArray(body.input) ? body.input : [];
  const users = input.filter((i) => i.type === 'message' && i.role === 'user').length;
  const outputs = input.filter((i) => OUTPUT_TYPES.has(String(i.type))).length;
  // One stand-in serves several threads: the thread (Codex sends its id as prompt_cache_key) is part of the step.
  return `${typeof body.prompt_cache_key === 'string' ? body.prompt_cache_key : ''}:${users}:${outputs}`;
};

/** True when the request offers a function `tool` inside namespace `mcp__<server>` (loaded by an earlier tool_search). */
const mcpToolLoaded = (body: ResponsesRequest, call: ScriptedMcpCall): boolean => {
  const namespace = `mcp__${call.server}`;
  const offered = [...(body.tools ?? []), ...(body.input ?? []).filter((i) => i.type === 'tool_search_output').flatMap((i) => (i.tools as Array<Record<string, unknown>>) ?? [])];
  return offered.some((t) => t.type === 'namespace' && t.name === namespace && ((t.tools as Array<Record<string, unknown>>) ?? []).some((f) => f.name === call.tool));
};

const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

const message = (text: string): OutputItem => ({
  type: 'message',
  id: `msg_${hex(16)}`,
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text, annotations: [] }],
});

/** The output items of a (non-error) turn, with fresh call ids; MCP calls become a tool_search_call while not yet loaded. */
const itemsFor = (turn: Exclude<ScriptedTurn, ScriptedError>, body: ResponsesRequest): { items: OutputItem[]; searching: boolean } => {
  const mcp = asList(turn.mcp);
  const unloaded = mcp.filter((call) => !mcpToolLoaded(body, call));
  if (unloaded.length > 0) {
    const query = unloaded.map((c) => c.tool).join(' ');
    return { items: [{ type: 'tool_search_call', id: `tsc_${hex(16)}`, call_id: newCallId(), status: 'completed', execution: 'client', arguments: { query } }], searching: true };
  }
  const items: OutputItem[] = [];
  if (turn.text) items.push(message(turn.text));
  for (const exec of turn.exec ?? []) {
    items.push({ type: 'function_call', id: `fc_${hex(16)}`, status: 'completed', call_id: newCallId(), name: 'exec_command', arguments: JSON.stringify(exec) });
  }
  for (const fn of turn.functions ?? []) {
    items.push({ type: 'function_call', id: `fc_${hex(16)}`, status: 'completed', call_id: newCallId(), name: fn.name, arguments: JSON.stringify(fn.arguments) });
  }
  for (const patch of asList(turn.patch)) {
    items.push({ type: 'custom_tool_call', id: `ctc_${hex(16)}`, status: 'completed', call_id: newCallId(), name: 'apply_patch', input: patch });
  }
  for (const call of mcp) {
    items.push({ type: 'function_call', id: `fc_${hex(16)}`, status: 'completed', call_id: newCallId(), name: call.tool, namespace: `mcp__${call.server}`, arguments: JSON.stringify(call.arguments) });
  }
  if (items.length === 0) items.push(message('Done.'));
  return { items, searching: false };
};

/** The SSE frames of one response: `response.created`, `response.output_item.done` per item, `response.completed` with usage. */
export const sseFrames = (id: string, model: string, output: OutputItem[]): Array<{ event: string; data: Record<string, unknown> }> => {
  const usage = { input_tokens: 100, input_tokens_details: { cached_tokens: 0 }, output_tokens: 10 * Math.max(1, output.length), output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 100 + 10 * Math.max(1, output.length) };
  return [
    { event: 'response.created', data: { type: 'response.created', response: { id, object: 'response', model, status: 'in_progress' } } },
    ...output.map((item, output_index) => ({ event: 'response.output_item.done', data: { type: 'response.output_item.done', output_index, item } })),
    { event: 'response.completed', data: { type: 'response.completed', response: { id, object: 'response', model, status: 'completed', usage } } },
  ];
};

/**
 * Starts a scripted stand-in for the Responses API (`POST /v1/responses`, SSE). A request that offers tools takes the next
 * scripted turn, unless it repeats the step of an earlier request (then it gets the same answer); a request without tools
 * gets `sideText`. Anything else is a 404 in the API's error shape.
 */
export const startFakeResponsesApi = async (options: FakeResponsesApiOptions = {}): Promise<FakeResponsesApi> => {
  const queue = [...(options.script ?? [])];
  const requests: RecordedRequest[] = [];
  const callIds: string[] = [];
  const byStep = new Map<string, { id: string; output: OutputItem[] } | ScriptedError>();
  /** The turn whose MCP calls wait for their tool_search_output (taken from the queue already). */
  let pendingSearch: ScriptedTurn | null = null;

  const answer = (path: string, body: ResponsesRequest): RecordedRequest['answer'] => {
    const step = stepOf(body);
    const record = (kind: RecordedRequest['kind'], a: RecordedRequest['answer']) => {
      requests.push({ path, body, kind, step, answer: a });
      return a;
    };
    if (!Array.isArray(body.tools) || body.tools.length === 0) return record('side', { id: `resp_${hex(24)}`, output: [message(options.sideText ?? 'Scripted answer')] });
    const earlier = byStep.get(step);
    if (earlier) return record('replay', earlier);
    let turn: ScriptedTurn;
    if (pendingSearch) {
      turn = pendingSearch;
      pendingSearch = null;
    } else {
      const next = queue.shift() ?? options.whenExhausted ?? { text: 'Done.' };
      turn = typeof next === 'function' ? next(body) : next;
    }
    if ('error' in turn) {
      byStep.set(step, turn);
      return record('main', turn);
    }
    const { items, searching } = itemsFor(turn, body);
    if (searching) pendingSearch = turn;
    else for (const item of items) if (item.type === 'function_call' || item.type === 'custom_tool_call') callIds.push(String(item.call_id));
    const response = { id: `resp_${hex(24)}`, output: items };
    byStep.set(step, response);
    return record(searching ? 'search' : 'main', response);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    const raw = request.method === 'POST' ? await readBody(request) : '';
    const fail = (status: number, type: string, text: string): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: text, type, code: null, param: null } }));
    };
    if (request.method !== 'POST' || path !== '/v1/responses') return fail(404, 'not_found', `${request.method} ${path}`);
    let body: ResponsesRequest;
    try {
      body = JSON.parse(raw) as ResponsesRequest;
    } catch {
      return fail(400, 'invalid_request_error', 'body is not JSON');
    }
    const result = answer(path, body);
    if ('error' in result) return fail(result.error.status, result.error.type, result.error.message);
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': `req_${hex(16)}` });
    for (const { event, data } of sseFrames(result.id, body.model ?? 'gpt-5.5', result.output)) response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    response.end();
  };

  const { port, close } = await serveStandIn(handle, (message) => ({ error: { message, type: 'server_error' } }));
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    callIds,
    push: (...turns) => queue.push(...turns),
    remaining: () => queue.length,
    close,
  };
};
