/**
 * A fuzzer of runledger's HTTP API generated from the OpenAPI document the server serves: every operation, with path,
 * query, header and body values drawn from the document's schemas and then broken (malformed types, missing and
 * unknown fields, null, NUL and control characters, huge numbers and strings, deep nesting, wrong content types,
 * malformed JSON, path tricks; inside nested objects and arrays too: a nested field dropped, a nested object or array
 * item null, an array item of the wrong type, a huge array). Seeded, so a failure is reproducible from its seed and index.
 */

import { CORRELATION_ID_PATTERN } from '@runledger/infra/logging';

type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  additionalProperties?: boolean | Schema;
  nullable?: boolean;
  allOf?: Schema[];
  format?: string;
};
type Operation = {
  parameters?: { name: string; in: 'path' | 'query' | 'header'; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
};
/** The parts of an OpenAPI 3 document the fuzzer reads. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

/** One generated request: what to send, and a label saying which mutation made it. */
export interface FuzzRequest {
  method: string;
  route: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  mutation: string;
}

/** Ids of live things the fuzzer aims at half the time (the rest are hostile or unknown ids). */
export interface FuzzTargets {
  projectId: string;
  sessionId: string;
  callId: string;
  repoPath: string;
}

/** Deterministic PRNG (mulberry32): the same seed gives the same requests. */
export const prng = (seed: number) => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] };
};
/** The PRNG a generator draws from. */
export type Random = ReturnType<typeof prng>;

const HOSTILE_STRINGS = [
  '', ' ', 'a\u0000b', '\u0000', 'x\u0001y', 'tab\there', 'line\nbreak', '\u007f', '\ud800', '\u202e', '😀', '%00', '%2e%2e%2f',
  '../../etc/passwd', '/etc/passwd', '-h', '--help', 'HEAD@{999}', '$(id)', '`id`', '; rm -rf /', "' OR 1=1 --", '<script>', '{{7*7}}',
  'ghp_' + 'a'.repeat(36) + '_x', 'null', 'undefined', 'NaN', '-1', '1e309', '9999999999999999999999', '0x10', 'true',
];
const HOSTILE_NUMBERS = [-1, 0, 1, 1.5, -0.5, 2 ** 31, 2 ** 53, 2 ** 63, 1e308, Number.MAX_SAFE_INTEGER + 2];
const HOSTILE_PATH_SEGMENTS = ['a%00b', '%00', '..', '%2e%2e', 'a%2Fb', '%ff', '%', 'x'.repeat(5000), '%0a', '%7f', '😀', 'p-999999999999999999999'];

/** encodeURIComponent, except that a lone surrogate becomes the invalid UTF-8 it would be on the wire (%ED%A0%80). */
const encode = (value: string): string => {
  try {
    return encodeURIComponent(value);
  } catch {
    return value.split('').map((c) => (/[\ud800-\udfff]/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join('');
  }
};

/** `schema` with its `$ref` followed and a single-`allOf` wrapper (how Nest's swagger writes a nested DTO field) unwrapped. */
const resolve = (doc: OpenApiDocument, schema: Schema | undefined): Schema | undefined => {
  let current = schema;
  for (let i = 0; i < 10 && current; i++) {
    if (current.$ref) current = doc.components?.schemas?.[current.$ref.replace('#/components/schemas/', '')];
    else if (current.allOf?.length === 1 && !current.properties) {
      const { allOf, ...rest } = current;
      const inner = resolve(doc, allOf[0]);
      current = inner ? { ...inner, ...(rest.nullable ? { nullable: true } : {}) } : undefined;
    } else break;
  }
  return current;
};

const hostileValue = (r: Random): unknown => {
  switch (r.int(9)) {
    case 0: return r.pick(HOSTILE_STRINGS);
    case 1: return r.pick(HOSTILE_NUMBERS);
    case 2: return null;
    case 3: return r.pick([true, false]);
    case 4: return [r.pick(HOSTILE_STRINGS), r.pick(HOSTILE_NUMBERS)];
    case 5: return { [r.pick(HOSTILE_STRINGS)]: r.pick(HOSTILE_STRINGS) };
    case 6: return 'x'.repeat(r.pick([1000, 70_000, 300_000]));
    case 7: return r.pick(['a\u0000', 'Ba\u0000sh', '\u0000'.repeat(10)]);
    default: return {};
  }
};

/** A plausible value of `schema` (ids pointed at the live targets when the field's name says which). */
export const plausible = (doc: OpenApiDocument, schema: Schema | undefined, r: Random, targets: FuzzTargets, name = '', depth = 0): unknown => {
  const s = resolve(doc, schema);
  if (!s || depth > 8) return 'x';
  if (s.enum) return r.pick(s.enum);
  if (name === 'projectId') return targets.projectId;
  if (name === 'sessionId') return targets.sessionId;
  if (name === 'callId') return `fz-${r.int(1e9)}`;
  if (name === 'repoPath' || name === 'path' || name === 'transcriptPath') return targets.repoPath;
  if (name === 'command') return ['true'];
  if (s.format === 'date-time') return new Date(Date.UTC(2026, 0, 1, 0, 0, r.int(3600))).toISOString();
  switch (s.type) {
    case 'integer': return r.int(100);
    case 'number': return r.next() * 100;
    case 'boolean': return r.next() < 0.5;
    case 'array': return [plausible(doc, s.items, r, targets, name, depth + 1)];
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(s.properties ?? {})) {
        if ((s.required ?? []).includes(key) || r.next() < 0.5) out[key] = plausible(doc, child, r, targets, key, depth + 1);
      }
      return out;
    }
    default: return `fz-${r.int(1e6)}`;
  }
};

const deepJson = (levels: number, r: Random): string => {
  const open = r.next() < 0.5 ? '[' : '{"a":';
  const close = open === '[' ? ']' : '}';
  return `{"tool":"Bash","mode":"observed","input":${open.repeat(levels)}1${close.repeat(levels)}}`;
};

/** A place inside a body: the container holding a value, its key there, and the path a 400 would name (`transcript.toolCalls[0]`). */
interface Slot {
  parent: Record<string, unknown> | unknown[];
  key: string | number;
  path: string;
}

/** Every slot below the top level of `body` (the top-level fields have mutations of their own), outermost first. */
export const nestedSlots = (body: unknown): Slot[] => {
  const slots: Slot[] = [];
  const walk = (value: unknown, path: string, depth: number) => {
    if (value === null || typeof value !== 'object') return;
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    for (const [key, child] of entries) {
      const childPath = typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (depth > 0) slots.push({ parent: value as Slot['parent'], key, path: childPath });
      walk(child, childPath, depth + 1);
    }
  };
  walk(body, '', 0);
  return slots;
};

/** Largest body the huge-array mutation writes (characters): just past the server's 5 MB limit, so both the array limits and the body limit are reached. */
const HUGE_ARRAY_BODY = 6_000_000;

/**
 * Breaks a nested part of `body` (a deep copy) in one of the ways a nested shape can be wrong; null when `body` has no
 * part the mutation applies to. The name carries the path broken (`nested null transcript.toolCalls[0]`).
 */
export const mutateNested = (body: unknown, r: Random): { value: unknown; mutation: string } | null => {
  const copy = structuredClone(body);
  const get = (slot: Slot) => (slot.parent as Record<string | number, unknown>)[slot.key];
  const set = (slot: Slot, value: unknown) => ((slot.parent as Record<string | number, unknown>)[slot.key] = value);
  const slots = nestedSlots(copy);
  const topLevel: Slot[] = copy !== null && typeof copy === 'object' && !Array.isArray(copy) ? Object.keys(copy).map((key) => ({ parent: copy as Record<string, unknown>, key, path: key })) : [];
  const inObjects = slots.filter((slot) => !Array.isArray(slot.parent));
  const containers = slots.filter((slot) => get(slot) !== null && typeof get(slot) === 'object');
  const items = slots.filter((slot) => Array.isArray(slot.parent));
  const arrays = [...topLevel, ...slots].filter((slot) => Array.isArray(get(slot)));
  const kinds = [
    inObjects.length > 0 && 'nested missing field',
    containers.length > 0 && 'nested null',
    items.length > 0 && 'wrong item type',
    slots.length > 0 && 'nested hostile value',
    arrays.length > 0 && 'huge array',
  ].filter((k): k is string => Boolean(k));
  if (kinds.length === 0) return null;
  const kind = r.pick(kinds);
  switch (kind) {
    case 'nested missing field': {
      const slot = r.pick(inObjects);
      delete (slot.parent as Record<string, unknown>)[slot.key as string];
      return { value: copy, mutation: `${kind} ${slot.path}` };
    }
    case 'nested null': {
      const slot = r.pick(containers);
      set(slot, null);
      return { value: copy, mutation: `${kind} ${slot.path}` };
    }
    case 'wrong item type': {
      const slot = r.pick(items);
      const item = get(slot);
      set(slot, r.pick<unknown>([[item], r.pick(HOSTILE_STRINGS), r.pick(HOSTILE_NUMBERS), true, null, []]));
      return { value: copy, mutation: `${kind} ${slot.path}` };
    }
    case 'nested hostile value': {
      const slot = r.pick(slots);
      // A hostile value equal to the slot's own (`{}` for an empty input) would change nothing: draw again.
      const current = JSON.stringify(get(slot));
      let value = hostileValue(r);
      while (JSON.stringify(value) === current) value = hostileValue(r);
      set(slot, value);
      return { value: copy, mutation: `${kind} ${slot.path}` };
    }
    default: {
      const slot = r.pick(arrays);
      const array = get(slot) as unknown[];
      const item = array.length > 0 ? array[0] : r.pick(HOSTILE_STRINGS);
      const size = JSON.stringify(item).length + 1;
      const count = Math.min(r.pick([1_001, 20_001, 200_001]), Math.ceil(HUGE_ARRAY_BODY / size));
      set(slot, Array.from({ length: count }, () => item));
      return { value: copy, mutation: `${kind} ${slot.path} (${count} items)` };
    }
  }
};

/** Breaks a plausible body in one of the ways the fuzzer knows, returning the body text and the mutation's name. */
const mutateBody = (body: unknown, r: Random): { text: string; contentType: string; mutation: string } => {
  const json = (value: unknown, mutation: string) => ({ text: JSON.stringify(value), contentType: 'application/json', mutation });
  const record = body !== null && typeof body === 'object' && !Array.isArray(body) ? { ...(body as Record<string, unknown>) } : {};
  const keys = Object.keys(record);
  const roll = r.int(18);
  if (roll >= 12) {
    // Nested shapes (a third of the draws when the body has any): the top-level mutations below never reach them.
    const nested = mutateNested(body, r);
    if (nested) return json(nested.value, nested.mutation);
  }
  switch (roll % 12) {
    case 0: return json(body, 'valid');
    case 1: {
      if (keys.length > 0) delete record[r.pick(keys)];
      return json(record, 'missing field');
    }
    case 2: return json({ ...record, [r.pick(['colour', '__proto__', 'constructor', 'a\u0000'])]: 1 }, 'unknown field');
    case 3:
      if (keys.length > 0) record[r.pick(keys)] = hostileValue(r);
      return json(record, 'hostile value');
    case 4:
      if (keys.length > 0) record[r.pick(keys)] = null;
      return json(record, 'null value');
    case 5: return { text: deepJson(r.pick([200, 1500, 5000]), r), contentType: 'application/json', mutation: 'deep nesting' };
    case 6: return { text: JSON.stringify(body), contentType: r.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/xml', '']), mutation: 'wrong content type' };
    case 7: return { text: r.pick(['{', '{"a":', 'nul', '[1,]', '{"a":1}}', '\u0000', '"\\ud800"']), contentType: 'application/json', mutation: 'malformed JSON' };
    case 8: return json(r.pick([[], 'text', 42, null, true]), 'not an object');
    case 9:
      for (const key of keys) if (typeof record[key] === 'string') record[key] = `${record[key] as string}\u0000`;
      return json(record, 'NUL in every string');
    case 10:
      if (keys.length > 0) record[r.pick(keys)] = r.pick(HOSTILE_NUMBERS);
      return json(record, 'huge number');
    default:
      if (keys.length > 0) record[r.pick(keys)] = 'y'.repeat(r.pick([10_000, 200_000]));
      return json(record, 'huge string');
  }
};

/** Operations never fuzzed with a valid body: they start processes or rewrite everything (kept to refusals). */
const NO_VALID_BODY = new Set(['POST /api/v1/sessions', 'POST /api/v1/projects', 'POST /api/v1/imports/{agent}']);
/** Operations left out: a rebuild per request would dominate the run; its refusals have no input to break. */
const SKIPPED = new Set(['POST /api/v1/projections/rebuild']);

/** The operations of `doc` the fuzzer drives, as `[METHOD, route, operation]`. */
export const operationsOf = (doc: OpenApiDocument): [string, string, Operation][] =>
  Object.entries(doc.paths).flatMap(([route, ops]) =>
    Object.entries(ops)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, op]): [string, string, Operation] => [method.toUpperCase(), route, op])
      .filter(([method, route]) => !SKIPPED.has(`${method} ${route}`)),
  );

/** Generates request number `index` of a run: an operation of `doc`, its parameters and body, one or more of them broken. */
export const generateRequest = (doc: OpenApiDocument, targets: FuzzTargets, r: Random): FuzzRequest => {
  const operations = operationsOf(doc);
  const [method, route, op] = r.pick(operations);
  const mutations: string[] = [];
  let path = route;
  for (const param of op.parameters ?? []) {
    if (param.in !== 'path') continue;
    const live = param.name === 'agent' ? r.pick(['claude-code', 'codex'])
      : param.name === 'callId' ? targets.callId : param.name === 'id' && route.startsWith('/api/v1/projects') ? targets.projectId : targets.sessionId;
    const roll = r.next();
    const value = roll < 0.5 ? encode(live) : roll < 0.8 ? r.pick(HOSTILE_PATH_SEGMENTS) : encode(String(r.pick(HOSTILE_STRINGS)) || 'x');
    if (roll >= 0.5) mutations.push(`path ${param.name}`);
    path = path.replace(`{${param.name}}`, value);
  }
  const query: string[] = [];
  for (const param of op.parameters ?? []) {
    if (param.in !== 'query' || r.next() < 0.4) continue;
    const roll = r.next();
    const value = roll < 0.4 ? plausible(doc, param.schema, r, targets, param.name) : roll < 0.7 ? r.pick(HOSTILE_STRINGS) : r.pick(HOSTILE_NUMBERS);
    if (roll >= 0.4) mutations.push(`query ${param.name}`);
    query.push(`${encode(param.name)}=${encode(String(value))}`);
  }
  if (r.next() < 0.1) {
    query.push(`${r.pick(['unknown', 'from', 'wait', 'at'])}=${encode(String(r.pick(HOSTILE_STRINGS)))}`);
    mutations.push('extra query');
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const param of op.parameters ?? []) {
    if (param.in !== 'header' || r.next() < 0.6) continue;
    const value = r.pick([`k-${r.int(1e6)}`, 'k'.repeat(r.pick([201, 8000])), 'a b', '😀', '-1', '9'.repeat(30), '12', 'ghp_' + 'b'.repeat(36)]);
    // Header values must be ByteStrings without CR/LF/NUL to leave the client at all; the server sees the rest.
    if (/^[\x20-\x7e]*$/.test(value)) {
      headers[param.name.toLowerCase()] = value;
      mutations.push(`header ${param.name}`);
    }
  }
  let body: string | undefined;
  const json = op.requestBody?.content?.['application/json'];
  if (json || (method === 'POST' && r.next() < 0.3)) {
    const plausibleBody = plausible(doc, json?.schema, r, targets);
    let mutated = mutateBody(plausibleBody, r);
    if (mutated.mutation === 'valid' && NO_VALID_BODY.has(`${method} ${route}`)) {
      mutated = { ...mutated, text: JSON.stringify({ ...(plausibleBody as Record<string, unknown>), colour: 'red' }), mutation: 'unknown field' };
    }
    body = mutated.text;
    if (mutated.contentType) headers['content-type'] = mutated.contentType;
    mutations.push(`body ${mutated.mutation}`);
  }
  return { method, route, path: query.length > 0 ? `${path}?${query.join('&')}` : path, headers, body, mutation: mutations.join(', ') || 'valid' };
};

/** Counts of a fuzz run, printed in the closing note. */
export interface FuzzReport {
  seed: number;
  requests: number;
  byStatus: Record<string, number>;
  refused: number;
  accepted: number;
  serverErrors: { index: number; request: FuzzRequest; status: number; body: string }[];
  badErrorShape: { index: number; request: FuzzRequest; status: number; body: string }[];
  refusedButAppended: { index: number; request: FuzzRequest; before: number; after: number; status: number; code?: string }[];
  routes: number;
  /** Requests whose body was broken inside a nested object or array (mutateNested). */
  nested: number;
}

/** Names of the mutations mutateNested makes (the start of a request's `body …` label). */
const NESTED_MUTATION = /\bbody (nested missing field|nested null|wrong item type|nested hostile value|huge array) /;

/**
 * Error codes of commands accepted and then failed, whose failure is appended to the log before the answer: a launch
 * that failed, and a replacement of an orchestrator stopped half-way (the old one stays retiring with its reason, for a
 * retry to complete; docs/ARCHITECTURE.md §4b).
 */
const RECORDED_FAILURES: readonly string[] = ['ORCHESTRATOR.LAUNCH_FAILED', 'ORCHESTRATOR.REPLACE_INCOMPLETE'];

/** Whether an answer's error `code` is an outcome kept for the audit trail (RECORDED_FAILURES), not a refusal of the input. */
export const isRecordedFailure = (code: unknown): boolean => typeof code === 'string' && RECORDED_FAILURES.includes(code);

/** Metadata of a logged event, as GET /events answers it. */
interface LoggedEvent {
  metadata?: { correlationId?: string; actor?: string };
}

/**
 * The request's headers with an X-Correlation-Id only it carries in this run, so that its events can be told from
 * those of background work: `fz-<seed>-<index>` when it sent none, its own value suffixed `.<index>` when that value is
 * well-formed and an earlier request already used it (the hostile values repeat); a malformed one is left as it is
 * (the server then makes up a uuid). Records the id it sends in `used`.
 */
export const withOwnCorrelationId = (headers: Record<string, string>, seed: number, index: number, used: Set<string>): Record<string, string> => {
  const given = headers['x-correlation-id'];
  let id = given;
  if (given === undefined) id = `fz-${seed}-${index}`;
  else if (CORRELATION_ID_PATTERN.test(given) && used.has(given)) id = CORRELATION_ID_PATTERN.test(`${given}.${index}`) ? `${given}.${index}` : `fz-${seed}-${index}`;
  used.add(id!);
  return id === given ? headers : { ...headers, 'x-correlation-id': id! };
};

/**
 * The correlation id the events of a request carry: the one the server echoed, else (an answer given before the
 * request-context middleware ran, such as body-parser's 400 for malformed JSON or 413) the one it sent when
 * well-formed, else null (unknown).
 */
export const requestCorrelationId = (sent: string | undefined, echoed: string | null): string | null =>
  echoed ?? (sent !== undefined && CORRELATION_ID_PATTERN.test(sent) ? sent : null);

/**
 * How many of `events` (appended while a request was answered) are the request's own: those carrying its correlation
 * id; when that id is unknown, every event appended on behalf of an API request (actor `user:…` or `session:…`),
 * leaving out what background work (runtime watcher, reconciler, executor: actor `runledger`) appended meanwhile.
 */
export const eventsOfRequest = (events: LoggedEvent[], correlationId: string | null): number =>
  events.filter((e) => (correlationId !== null ? e.metadata?.correlationId === correlationId : /^(user|session):/.test(e.metadata?.actor ?? ''))).length;

/**
 * Sends `count` generated requests to the server at `baseUrl`, one at a time, and checks the invariants on each: no 5xx,
 * every 4xx in the error shape `{statusCode, error, message}`, and no event appended by a refused request (the head read
 * from /health before and after it; an event in between counts when it is the request's own, see eventsOfRequest).
 */
export const runFuzz = async (baseUrl: string, token: string, doc: OpenApiDocument, targets: FuzzTargets, count: number, seed: number): Promise<FuzzReport> => {
  const r = prng(seed);
  const report: FuzzReport = { seed, requests: 0, byStatus: {}, refused: 0, accepted: 0, serverErrors: [], badErrorShape: [], refusedButAppended: [], routes: operationsOf(doc).length, nested: 0 };
  const head = async (): Promise<number> => ((await (await fetch(`${baseUrl}/api/v1/health`)).json()) as { headPosition: number }).headPosition;
  // Background work (a runtime's exit, a launch an earlier request started) appends too: an event counts against a refused
  // request only if it is that request's own (eventsOfRequest). Each request carries a correlation id of its own
  // (withOwnCorrelationId), known even when the server answers before echoing it.
  const appendedBy = async (from: number, to: number, correlationId: string | null): Promise<number> => {
    const page = (await (await fetch(`${baseUrl}/api/v1/events?from=${from}&limit=${Math.min(to - from, 1000)}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      events: LoggedEvent[];
    };
    return eventsOfRequest(page.events, correlationId);
  };
  const usedCorrelationIds = new Set<string>();
  let before = await head();
  for (let index = 0; index < count; index++) {
    const generated = generateRequest(doc, targets, r);
    const request = { ...generated, headers: withOwnCorrelationId(generated.headers, seed, index, usedCorrelationIds) };
    const headers = { ...request.headers, ...(r.next() < 0.97 ? { authorization: `Bearer ${token}` } : {}) };
    let status: number;
    let text: string;
    let correlationId: string | null = null;
    try {
      const response = await fetch(`${baseUrl}${request.path}`, { method: request.method, headers, body: request.body, signal: AbortSignal.timeout(60_000) });
      status = response.status;
      correlationId = requestCorrelationId(request.headers['x-correlation-id'], response.headers.get('x-correlation-id'));
      text = await response.text();
    } catch (error) {
      status = 599;
      text = `client error: ${(error as Error).message}`;
    }
    report.requests += 1;
    if (NESTED_MUTATION.test(request.mutation)) report.nested += 1;
    report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
    if (status >= 500) report.serverErrors.push({ index, request, status, body: text.slice(0, 500) });
    if (status >= 400 && status < 500) {
      report.refused += 1;
      let body: { statusCode?: unknown; error?: unknown; message?: unknown; code?: unknown } | null = null;
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
      if (!body || body.statusCode !== status || typeof body.error !== 'string' || typeof body.message !== 'string') {
        report.badErrorShape.push({ index, request, status, body: text.slice(0, 300) });
      }
      const after = await head();
      // A launch or a replacement that failed after its command was accepted is recorded (the session, its failure) and
      // then answered 409: an outcome kept for the audit trail, not a refusal of the input.
      if (after !== before && !isRecordedFailure(body?.code) && (await appendedBy(before, after, correlationId)) > 0) {
        report.refusedButAppended.push({ index, request, before, after, status, ...(typeof body?.code === 'string' ? { code: body.code } : {}) });
      }
      before = after;
    } else {
      report.accepted += 1;
      if (request.method !== 'GET') before = await head(); // an accepted write may append; a read never does
    }
  }
  return report;
};
