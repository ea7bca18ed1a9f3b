import { describeControlCharacter } from '@runledger/domain';
import { ErrorBody } from './error.filter';

/** Deepest JSON body accepted (nested objects/arrays); deeper is 400 REQUEST.TOO_DEEP, before any recursive code runs on it. */
export const MAX_JSON_DEPTH = 100;
/** Largest transcript chunk one `PUT /hooks/:agent/transcript` takes (bytes, docs/ARCHITECTURE.md §4f); a larger body is 413 REQUEST.TOO_LARGE. */
export const MAX_SHIPPED_CHUNK = 16 * 1024 * 1024;

/** Longest Idempotency-Key, X-Runledger-Session or Last-Event-ID header accepted (characters). */
export const MAX_HEADER_ID = 200;

/** The parts of an Express request and response these handlers use. */
interface Request {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}
interface Response {
  status(code: number): { json(body: unknown): void };
}
type NextFunction = () => void;

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

const send = (response: Response, body: ErrorBody): void => {
  response.status(body.statusCode).json(body);
};
const badRequest = (field: string, message: string, code = 'REQUEST.INVALID'): ErrorBody => ({
  statusCode: 400, error: 'Bad Request', message, code, details: { field },
});

/** Depth of a parsed JSON value, walked iteratively (a recursive walk would overflow on the input it guards against); stops past `limit`. */
export const jsonDepth = (value: unknown, limit = MAX_JSON_DEPTH): number => {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(node) ? node : Object.values(node)) if (child !== null && typeof child === 'object') stack.push([child, here]);
  }
  return deepest;
};

/** The refusal for a header, or null when it is well-formed (absent headers are fine). */
export const checkHeaders = (headers: Request['headers']): ErrorBody | null => {
  const key = headers['idempotency-key'];
  if (key !== undefined) {
    if (typeof key !== 'string' || key.length > MAX_HEADER_ID || !VISIBLE_ASCII.test(key)) {
      return badRequest('Idempotency-Key', `Idempotency-Key must be 1 to ${MAX_HEADER_ID} visible ASCII characters (no spaces or control characters)`);
    }
  }
  const session = headers['x-runledger-session'];
  if (session !== undefined && (typeof session !== 'string' || session.length > MAX_HEADER_ID || describeControlCharacter(session) !== null)) {
    return badRequest('X-Runledger-Session', `X-Runledger-Session must be a session id of at most ${MAX_HEADER_ID} characters without control characters`);
  }
  const lastEventId = headers['last-event-id'];
  if (lastEventId !== undefined && (typeof lastEventId !== 'string' || !/^\d{1,16}$/.test(lastEventId) || !Number.isSafeInteger(Number(lastEventId)))) {
    return badRequest('Last-Event-ID', `Last-Event-ID must be a global position (an integer from 0 to ${Number.MAX_SAFE_INTEGER})`);
  }
  return null;
};

/**
 * Express middleware, after the JSON body parser and before routing: refuses malformed id headers and JSON nested
 * deeper than MAX_JSON_DEPTH with 400 in the API's error shape, so neither reaches a validator, a store or a recursion.
 */
export const requestLimits = (request: Request, response: Response, next: NextFunction): void => {
  const refused = checkHeaders(request.headers);
  if (refused) return send(response, refused);
  if (request.body !== undefined && jsonDepth(request.body) > MAX_JSON_DEPTH) {
    return send(response, badRequest('body', `the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`, 'REQUEST.TOO_DEEP'));
  }
  next();
};

/** The last handler: any route no controller serves is a JSON 404 in the API's error shape (not Express's HTML page). */
export const jsonNotFound = (request: Request, response: Response): void => {
  send(response, { statusCode: 404, error: 'Not Found', message: `Cannot ${request.method} ${request.path}`, code: 'ROUTE.NOT_FOUND' });
};
