import { randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, serveStandIn } from '../stand-in-server';

/*
 * A scripted stand-in for the OpenAI chat-completions API as the real OpenCode CLI (opencode-ai 1.18.33, provider
 * `@ai-sdk/openai-compatible`) uses it: `POST /v1/chat/completions` with `stream: true`, answered with SSE `data:`
 * chunks (`chat.completion.chunk`): a tool call as a delta with `tool_calls[{index, id, type: "function", function:
 * {name, arguments: ""}}]`, then its arguments as a second delta, `finish_reason: "tool_calls"`; a text as a `content`
 * delta with `finish_reason: "stop"`; a usage chunk (`choices: []`); `data: [DONE]`. A request without tools (OpenCode's
 * title request) gets a short text. Facts: test/support/opencode/README.md.
 */

/** One tool call of a turn: OpenCode's tool name (`bash`, `write`, `edit`, `read`, …) and its arguments. */
export interface ScriptedToolCall {
  name: string;
  args: Record<string, unknown>;
}

/** One model turn: tool calls (each with a fresh unique `call_…` id), or a final text (the run ends). */
export type ScriptedTurn = { calls: ScriptedToolCall[] } | { text: string };

/** A request the stand-in received, with the step it was at and what it answered. */
export interface RecordedRequest {
  kind: 'main' | 'replay' | 'side';
  /** The step key: the request's user messages and tool results counted (a retry of a step gets the same answer). */
  step: string;
  answer: { callIds: string[]; text?: string };
  body: Record<string, unknown>;
}

/** A running stand-in on 127.0.0.1 (ephemeral port). */
export interface FakeChatCompletions {
  /** Base URL for the provider's `baseURL` (ends with `/v1`): OpenCode POSTs `${url}/chat/completions`. */
  url: string;
  requests: RecordedRequest[];
  /** Every call id handed out, in order. */
  callIds: string[];
  /** Appends turns to the shared queue. */
  push(...turns: ScriptedTurn[]): void;
  /** Appends turns to the queue of the conversations whose first prompt contains `marker` (runs that go on at the same time). */
  pushFor(marker: string, ...turns: ScriptedTurn[]): void;
  remaining(): number;
  close(): Promise<void>;
}

/** Usage every answer reports (tokens): OpenCode records it in its step-finish parts. */
export const STANDIN_USAGE = { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } as const;

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** The step of a request: its first user message's text (the conversation), how many user messages and tool results it holds. */
export const stepOf = (body: Record<string, unknown>): string => {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<Record<string, unknown>>) : [];
  const users = messages.filter((m) => m.role === 'user');
  const first = JSON.stringify(users[0]?.content ?? '').slice(0, 200);
  return `${first}:${users.length}:${messages.filter((m) => m.role === 'tool').length}`;
};

/** The SSE `data:` payloads of one answer (tool calls or a text), a usage chunk last. */
export const sseChunks = (answer: { calls?: Array<ScriptedToolCall & { id: string }>; text?: string }): Array<Record<string, unknown>> => {
  const id = `chatcmpl-${hex(12)}`;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({ id, object: 'chat.completion.chunk', created: 1, model: 'm1', choices: [{ index: 0, delta, finish_reason: finish }] });
  const chunks: Array<Record<string, unknown>> = [];
  if (answer.calls?.length) {
    answer.calls.forEach((call, index) => {
      chunks.push(chunk({ role: 'assistant', tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
      chunks.push(chunk({ tool_calls: [{ index, function: { arguments: JSON.stringify(call.args) } }] }));
    });
    chunks.push(chunk({}, 'tool_calls'));
  } else {
    chunks.push(chunk({ role: 'assistant', content: answer.text ?? 'Done.' }));
    chunks.push(chunk({}, 'stop'));
  }
  chunks.push({ id, object: 'chat.completion.chunk', created: 1, model: 'm1', choices: [], usage: STANDIN_USAGE });
  return chunks;
};

/**
 * Starts the stand-in: a request offering tools takes the next scripted turn (once the queue is empty: `choose(body)`
 * when given, answered afresh each time with new call ids, else the text "Done."), unless it repeats an earlier scripted
 * request's step (then the same answer); a request without tools gets `sideText`.
 */
export const startFakeChatCompletions = async (
  options: { script?: ScriptedTurn[]; sideText?: string; choose?: (body: Record<string, unknown>) => ScriptedTurn } = {},
): Promise<FakeChatCompletions> => {
  /** Turns by conversation marker; the shared queue under ''. */
  const queues = new Map<string, ScriptedTurn[]>([['', [...(options.script ?? [])]]]);
  const enqueue = (marker: string, turns: ScriptedTurn[]): void => void queues.set(marker, [...(queues.get(marker) ?? []), ...turns]);
  /** The queue of a request: the one whose marker its first user message holds, else the shared one. */
  const queueOf = (body: Record<string, unknown>): ScriptedTurn[] => {
    const messages = Array.isArray(body.messages) ? (body.messages as Array<Record<string, unknown>>) : [];
    const first = JSON.stringify(messages.find((m) => m.role === 'user')?.content ?? '');
    return [...queues.entries()].find(([marker]) => marker !== '' && first.includes(marker))?.[1] ?? queues.get('')!;
  };
  const requests: RecordedRequest[] = [];
  const callIds: string[] = [];
  const byStep = new Map<string, { calls?: Array<ScriptedToolCall & { id: string }>; text?: string }>();

  const answer = (body: Record<string, unknown>) => {
    const step = stepOf(body);
    if (!Array.isArray(body.tools) || body.tools.length === 0) {
      const side = { text: options.sideText ?? 'A title' };
      requests.push({ kind: 'side', step, answer: { callIds: [], text: side.text }, body });
      return side;
    }
    const earlier = byStep.get(step);
    if (earlier) {
      requests.push({ kind: 'replay', step, answer: { callIds: (earlier.calls ?? []).map((c) => c.id), text: earlier.text }, body });
      return earlier;
    }
    const queued = queueOf(body).shift();
    const turn = queued ?? options.choose?.(body) ?? { text: 'Done.' };
    const made = 'calls' in turn ? { calls: turn.calls.map((c) => ({ ...c, id: `call_${hex(12)}` })) } : { text: turn.text };
    for (const call of made.calls ?? []) callIds.push(call.id);
    // A chosen turn is a function of the request alone: not kept, so conversations at the same step never share call ids.
    if (queued || !options.choose) byStep.set(step, made);
    requests.push({ kind: 'main', step, answer: { callIds: (made.calls ?? []).map((c) => c.id), text: made.text }, body });
    return made;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    const fail = (status: number, text: string): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: text, type: 'invalid_request_error' } }));
    };
    if (request.method !== 'POST' || path !== '/v1/chat/completions') return fail(404, `${request.method} ${path}`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(request)) as Record<string, unknown>;
    } catch {
      return fail(400, 'body is not JSON');
    }
    const made = answer(body);
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    for (const chunk of sseChunks(made)) response.write(`data: ${JSON.stringify(chunk)}\n\n`);
    response.end('data: [DONE]\n\n');
  };

  const { port, close } = await serveStandIn(handle, (message) => ({ error: { message, type: 'server_error' } }));
  const pending = (): number => [...queues.values()].reduce((n, q) => n + q.length, 0);
  return { url: `http://127.0.0.1:${port}/v1`, requests, callIds, push: (...turns) => enqueue('', turns), pushFor: (marker, ...turns) => enqueue(marker, turns), remaining: pending, close };
};
