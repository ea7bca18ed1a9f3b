import { createHmac } from 'node:crypto';
import { createServer, IncomingHttpHeaders } from 'node:http';
import { AddressInfo } from 'node:net';
import { postWebhook, webhookSignature } from './webhook-sender';

describe('webhook POSTs (docs/ARCHITECTURE.md §4i)', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256, counts only 2xx as delivered, and names a refused connection', async () => {
    const seen: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    let status = 204;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c)).on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      expect(await postWebhook(url, '{"a":1}', { 'x-runledger-delivery': 'd1' }, 'secret', 5000)).toMatchObject({ statusCode: 204, error: null });
      const { headers, body } = seen[0];
      expect(headers['x-runledger-signature']).toBe(`sha256=${createHmac('sha256', 'secret').update(`${String(headers['x-runledger-timestamp'])}.${body}`).digest('hex')}`);
      expect(headers['x-runledger-signature']).toBe(webhookSignature('secret', Number(headers['x-runledger-timestamp']), '{"a":1}'));
      status = 500;
      expect(await postWebhook(url, '{}', {}, 'secret', 5000)).toMatchObject({ statusCode: 500, error: 'HTTP 500' });
    } finally {
      await new Promise((r) => server.close(r));
    }
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await postWebhook(`http://127.0.0.1:${port}/`, '{}', {}, 'secret', 5000)).toMatchObject({ statusCode: null, error: 'ECONNREFUSED' });
  });
});
