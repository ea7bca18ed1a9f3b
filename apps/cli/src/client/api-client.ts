import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { ApiError, ApiErrorBody, CERTIFICATE_ERROR, CertificateRefusedError, ServerUnreachableError, UsageError } from './client-errors';
import { ClientConfig } from './client-config';

/** Route prefix of the HTTP API (docs/ARCHITECTURE.md §5). */
export const API_PREFIX = '/api/v1';

/** Query parameters; `undefined` values are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** Options of one request: query, JSON body (or raw text with its content type) and extra headers. */
export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Sent as is instead of `JSON.stringify(body)` (content type `application/json` unless `headers` says otherwise). */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Aborts the request (and the reading of its body). */
  signal?: AbortSignal;
}

/** Network error codes that mean "no server there" (exit 3) rather than a server failure. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);

/** The error code inside undici's `TypeError: fetch failed` (its `cause`, or the first of an AggregateError). */
const networkCode = (error: unknown): string | undefined => {
  const cause = (error as { cause?: unknown }).cause as { code?: string; errors?: { code?: string }[] } | undefined;
  return cause?.code ?? cause?.errors?.find((e) => e.code)?.code;
};

/** Reads an error response as the API's error body; a non-JSON answer (a proxy, another server) gets a stand-in body. */
const errorBodyOf = async (response: Response): Promise<ApiErrorBody> => {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as Partial<ApiErrorBody>;
    if (parsed && typeof parsed === 'object' && typeof parsed.message === 'string') {
      return { ...parsed, statusCode: parsed.statusCode ?? response.status, error: parsed.error ?? response.statusText, message: parsed.message };
    }
  } catch {
    /* not JSON */
  }
  return { statusCode: response.status, error: response.statusText, message: text.trim().slice(0, 500) || '(empty body)' };
};

/** The fetch options this client sends. */
interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/**
 * One request over node:https trusting only `ca` (a private CA), answered as a fetch Response (its body streamed): the
 * global fetch cannot be given a CA, and `NODE_EXTRA_CA_CERTS` is read only when node starts.
 */
const fetchWithCa = (url: string, init: FetchInit, ca: Buffer): Promise<Response> =>
  new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: init.method, headers: init.headers, ca, signal: init.signal }, (res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      const empty = res.statusCode === 204 || res.statusCode === 304 || init.method === 'HEAD';
      if (empty) res.resume();
      resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream), { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers }));
    });
    req.on('error', (error) => reject(Object.assign(new TypeError('fetch failed'), { cause: error })));
    req.end(init.body);
  });

/**
 * A client of the runledger HTTP API (bearer token, JSON). Throws ServerUnreachableError when nothing answers and
 * ApiError on a non-2xx status (with the server's error body).
 */
export class ApiClient {
  private ca?: Buffer;

  constructor(readonly config: ClientConfig) {}

  /** The absolute URL of an API path (`/sessions`), with the defined query parameters. */
  url(path: string, query: Query = {}): string {
    const url = new URL(`${this.config.baseUrl}${API_PREFIX}${path}`);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  /** Sends one request and returns the raw 2xx response (its body unread). */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = this.url(path, options.query);
    const hasBody = options.rawBody !== undefined || options.body !== undefined;
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(this.config.token ? { authorization: `Bearer ${this.config.token}` } : {}),
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    };
    let response: Response;
    const init: FetchInit = { method, headers, body: options.rawBody ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined), signal: options.signal };
    try {
      const ca = url.startsWith('https:') ? this.caCertificates() : undefined;
      response = await (ca ? fetchWithCa(url, init, ca) : fetch(url, init));
    } catch (error) {
      const code = networkCode(error);
      if (code !== undefined && CERTIFICATE_ERROR.test(code)) throw new CertificateRefusedError(this.config.baseUrl, code);
      if (code === undefined || UNREACHABLE_CODES.has(code)) throw new ServerUnreachableError(this.config.baseUrl, code ?? (error as Error).message);
      throw error;
    }
    if (!response.ok) throw new ApiError(method, url, await errorBodyOf(response));
    return response;
  }

  /** The private CA of `config.caFile`, read once; undefined without one. Throws UsageError when it cannot be read. */
  private caCertificates(): Buffer | undefined {
    if (!this.config.caFile) return undefined;
    try {
      return (this.ca ??= readFileSync(this.config.caFile));
    } catch (error) {
      throw new UsageError(`cannot read the CA file ${this.config.caFile}: ${(error as Error).message}`);
    }
  }

  /** GET `path` and parse the JSON answer. */
  async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.request('GET', path, { query })).json() as Promise<T>;
  }

  /** POST `body` as JSON to `path` and parse the JSON answer (`undefined` for an empty body). */
  async post<T>(path: string, body: unknown = {}, headers?: Record<string, string>): Promise<T> {
    const text = await (await this.request('POST', path, { body, headers })).text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
