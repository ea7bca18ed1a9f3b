/** A response as the tests see it: status and parsed JSON body. */
export interface ApiResponse<T = any> {
  status: number;
  body: T;
}

/** A tiny client of the real HTTP API (bearer token, JSON); no mocks. */
export const apiClient = (baseUrl: string, token: string) => {
  const call = async <T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> => {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    get: <T = any>(path: string) => call<T>('GET', path),
    post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('POST', path, body ?? {}, headers),
    raw: call,
  };
};

/** Resolves when `check` returns a truthy value, re-checking every `everyMs` until `timeoutMs` (a condition, not a fixed sleep). */
export const eventually = async <T>(check: () => T | Promise<T>, what: string, timeoutMs = 15000, everyMs = 50): Promise<NonNullable<T>> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
};
