/** Prefix of every API route. */
export const API = '/api/v1';

/** A non-2xx answer of the API: status, the error body's `code` and message. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly code?: string) {
    super(message);
  }
}

const listeners = new Set<() => void>();

/** Calls `listener` whenever a request is answered 401 (the login cookie is missing, expired or refused). */
export const onUnauthorized = (listener: () => void): (() => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

/** Tells the onUnauthorized listeners that the server answered 401. */
export const notifyUnauthorized = (): void => {
  for (const listener of listeners) listener();
};

/** Turns a failed response into an HttpError (the API's `{statusCode, message, code}` body when it is JSON). */
export const errorOf = async (response: Response): Promise<HttpError> => {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { message?: string; code?: string };
    return new HttpError(response.status, body.message ?? response.statusText, body.code);
  } catch {
    return new HttpError(response.status, text.trim().slice(0, 300) || response.statusText);
  }
};

/**
 * One JSON request to the API, authenticated by the HttpOnly login cookie (same origin); writes carry
 * `X-Runledger-UI: 1`, which the server demands of cookie-authenticated writes. Throws HttpError on a non-2xx answer,
 * and tells the onUnauthorized listeners about a 401.
 */
export const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const response = await fetch(`${API}${path}`, {
    method,
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      ...(method === 'GET' ? {} : { 'x-runledger-ui': '1' }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const error = await errorOf(response);
    if (error.status === 401) notifyUnauthorized();
    throw error;
  }
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
};

/** GET a JSON path. */
export const get = <T>(path: string): Promise<T> => request<T>('GET', path);
