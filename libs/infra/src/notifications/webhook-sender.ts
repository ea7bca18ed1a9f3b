import { createHmac } from 'node:crypto';

/** The header carrying a notification's signature: `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. */
export const SIGNATURE_HEADER = 'x-runledger-signature';
/** The header carrying the signed timestamp (Unix seconds), so a receiver can refuse an old replay. */
export const TIMESTAMP_HEADER = 'x-runledger-timestamp';

/** The signature header's value for `body` sent at `timestamp` (Unix seconds) under the project's signing secret. */
export const webhookSignature = (secret: string, timestamp: number, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;

/** One POST's outcome: the status code (null when no answer came) or the error, and how long it took (ms). */
export interface WebhookResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * POSTs `body` (JSON) to `url` with the signature, timestamp and delivery headers; never throws: a refused connection,
 * a timeout (`timeoutMs`) or a non-2xx answer is a result with its error. Only 2xx counts as delivered.
 */
export const postWebhook = async (
  url: string, body: string, headers: Record<string, string>, secret: string, timeoutMs: number,
): Promise<WebhookResult> => {
  const started = performance.now();
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    const response = await fetch(url, {
      method: 'POST', body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs),
      headers: { 'content-type': 'application/json', ...headers, [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: webhookSignature(secret, timestamp, body) },
    });
    await response.arrayBuffer().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return { statusCode: response.status, error: ok ? null : `HTTP ${response.status}`, durationMs: performance.now() - started };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { statusCode: null, error: reason, durationMs: performance.now() - started };
  }
};
