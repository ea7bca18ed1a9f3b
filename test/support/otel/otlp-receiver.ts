import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP/HTTP JSON receiver sees it (ids hex, times in ns as strings, attributes flattened). */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status: { code?: number; message?: string };
  attributes: Record<string, string | number | boolean>;
  resource: Record<string, string | number | boolean>;
}

/** A loopback OTLP/HTTP JSON receiver of our own: keeps every span of every accepted POST /v1/traces; can go down and come back on its port. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`, the value for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  /** Every span received, in arrival order (a span sent twice appears twice). */
  spans: ReceivedSpan[];
  /** Requests accepted. */
  requests: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

const value = (v: Record<string, unknown>): string | number | boolean => {
  if ('stringValue' in v) return v.stringValue as string;
  if ('boolValue' in v) return v.boolValue as boolean;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  return JSON.stringify(v);
};
const flatten = (attributes: Array<{ key: string; value: Record<string, unknown> }> = []) => Object.fromEntries(attributes.map((a) => [a.key, value(a.value)]));
const body = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (text += c));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });

/** Starts the receiver on an ephemeral loopback port. */
export const startOtlpReceiver = async (): Promise<OtlpReceiver> => {
  const receiver = { spans: [] as ReceivedSpan[], requests: 0 };
  let port = 0;
  let server: Server | null = null;
  const listen = async () => {
    server = createServer(async (req, res) => {
      const text = await body(req);
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const json = JSON.parse(text) as { resourceSpans: Array<{ resource?: { attributes?: any[] }; scopeSpans: Array<{ spans: any[] }> }> };
      for (const rs of json.resourceSpans ?? []) {
        const resource = flatten(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            receiver.spans.push({
              traceId: s.traceId, spanId: s.spanId, ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}), name: s.name,
              startTimeUnixNano: String(s.startTimeUnixNano), endTimeUnixNano: String(s.endTimeUnixNano), status: s.status ?? {},
              attributes: flatten(s.attributes), resource,
            });
          }
        }
      }
      receiver.requests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', () => resolve()));
    port = (server!.address() as AddressInfo).port;
  };
  const stop = async () => {
    const s = server;
    server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return Object.assign(receiver, { url: `http://127.0.0.1:${port}`, down: stop, up: listen, close: stop });
};
