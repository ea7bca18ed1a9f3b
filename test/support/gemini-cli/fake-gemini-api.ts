import { createHash, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/*
 * A scripted stand-in for the Gemini API as the real Gemini CLI (0.61.0) uses it offline
 * (`GOOGLE_GEMINI_BASE_URL=<url>`, `GEMINI_API_KEY=<any>`): `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`
 * (and `:generateContent`), answered with `data: <GenerateContentResponse>` SSE frames. Facts it encodes are in
 * test/support/gemini-cli/README.md.
 *
 * Scripts are found by name: a prompt holding `[script:<name>]` is answered from the script registered under that name,
 * and the step is the number of `model` entries in the request's `contents` (Gemini sends the whole history each time),
 * so one stand-in serves several sessions at once and a retried request gets the same answer.
 */

/** One function call of a model turn: a tool Gemini CLI offers (`run_shell_command`, `write_file`, `replace`, `read_file`, …) and its arguments. */
export interface ScriptedCall {
  name: string;
  args: Record<string, unknown>;
}

/** One model turn: function calls (run by the CLI, their responses sent back), or a final text answer. */
export type GeminiTurn = { calls: ScriptedCall[] } | { text: string };

/** A request the stand-in received and how it classified it. */
export interface GeminiRequest {
  path: string;
  /** `router`: the JSON-mode complexity request; `main`: a scripted step; `side`: anything else (answered with a text). */
  kind: 'router' | 'main' | 'side';
  script?: string;
  step?: number;
  body: Record<string, unknown>;
}

/** A running stand-in on 127.0.0.1 (ephemeral port). */
export interface FakeGeminiApi {
  /** For `GOOGLE_GEMINI_BASE_URL` (no trailing slash). */
  url: string;
  requests: GeminiRequest[];
  /** Registers a script under `name` (prompts holding `[script:<name>]` are answered from it); a step past its end answers "Done.". */
  script(name: string, turns: GeminiTurn[]): void;
  /** The API call id the stand-in gives call `index` of step `step` of script `name` (the CLI's own id is `<tool>__<this>`... see apiCallId's doc). */
  apiCallId(name: string, step: number, index: number): string;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

const USAGE = { promptTokenCount: 120, candidatesTokenCount: 30, totalTokenCount: 150 };

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const textsOf = (contents: unknown): string[] =>
  (Array.isArray(contents) ? contents : []).flatMap((c: Json) =>
    (Array.isArray(c?.parts) ? (c.parts as Json[]) : []).flatMap((p) => (typeof p?.text === 'string' ? [p.text] : [])),
  );

/** A GenerateContentResponse holding `turn` (its `i`-th function call gets the id `idOf(i)`). */
const modelTurn = (turn: GeminiTurn, idOf: (i: number) => string): Json => ({
  candidates: [{
    content: { role: 'model', parts: 'calls' in turn ? turn.calls.map((call, i) => ({ functionCall: { id: idOf(i), name: call.name, args: call.args } })) : [{ text: turn.text }] },
    finishReason: 'STOP', index: 0,
  }],
  usageMetadata: USAGE, modelVersion: 'gemini-standin',
});

/**
 * Starts the stand-in. A request offering tools whose prompt names no registered script is answered by `choose(body)`
 * when given (each function call a fresh id: a function of the request, so a resumed conversation goes on), else with a text.
 */
export const startFakeGeminiApi = async (options: { choose?: (body: Json) => GeminiTurn } = {}): Promise<FakeGeminiApi> => {
  const scripts = new Map<string, GeminiTurn[]>();
  const requests: GeminiRequest[] = [];
  const salt = randomBytes(6).toString('hex');
  const apiCallId = (name: string, step: number, index: number): string =>
    `call_${createHash('sha256').update(`${salt}:${name}:${step}:${index}`).digest('hex').slice(0, 20)}`;

  const answer = (path: string, body: Json): { kind: GeminiRequest['kind']; script?: string; step?: number; response: Json } => {
    const config = (body.generationConfig ?? {}) as Json;
    const schema = JSON.stringify(config.responseJsonSchema ?? config.responseSchema ?? '');
    if (schema.includes('complexity_score')) {
      const text = JSON.stringify({ complexity_reasoning: 'scripted stand-in', complexity_score: 10 });
      return { kind: 'router', response: { candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }], usageMetadata: USAGE } };
    }
    const contents = Array.isArray(body.contents) ? (body.contents as Json[]) : [];
    const marker = textsOf(contents).map((t) => /\[script:([A-Za-z0-9_-]+)\]/.exec(t)?.[1]).find(Boolean);
    const turns = marker ? scripts.get(marker) : undefined;
    const tools = Array.isArray(body.tools) && body.tools.length > 0;
    if (!turns && options.choose && tools && config.responseMimeType !== 'application/json') {
      return { kind: 'main', response: modelTurn(options.choose(body), () => `call_${randomBytes(10).toString('hex')}`) };
    }
    if (!turns || !tools || config.responseMimeType === 'application/json') {
      const text = config.responseMimeType === 'application/json' ? '{}' : 'Scripted answer.';
      return { kind: 'side', response: { candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }], usageMetadata: USAGE } };
    }
    const step = contents.filter((c) => c.role === 'model').length;
    return { kind: 'main', script: marker, step, response: modelTurn(turns[step] ?? { text: 'Done.' }, (i) => apiCallId(marker!, step, i)) };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const raw = await readBody(req);
      const path = req.url ?? '';
      let body: Json = {};
      try {
        body = JSON.parse(raw || '{}') as Json;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 400, message: 'bad JSON', status: 'INVALID_ARGUMENT' } }));
        return;
      }
      if (req.method !== 'POST' || !/:(stream)?[gG]enerateContent/.test(path)) {
        if (/:countTokens/.test(path)) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ totalTokens: 100 }));
          return;
        }
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 404, message: `stand-in: no route ${req.method} ${path}`, status: 'NOT_FOUND' } }));
        return;
      }
      const { kind, script, step, response } = answer(path, body);
      requests.push({ path, kind, body, ...(script ? { script } : {}), ...(step !== undefined ? { step } : {}) });
      if (path.includes(':streamGenerateContent')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify(response)}\r\n\r\n`);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(response));
      }
    })().catch((error: Error) => {
      if (!res.headersSent) res.writeHead(500).end(String(error.message));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (name, turns) => void scripts.set(name, turns),
    apiCallId,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
