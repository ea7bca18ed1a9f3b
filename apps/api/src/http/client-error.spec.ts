import { createServer, Server } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import { answerClientErrorsAsJson } from './client-error';

/** Sends raw bytes to the server and resolves with everything it answers before closing. */
const rawExchange = (server: Server, request: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(request);
  });

describe('answerClientErrorsAsJson', () => {
  let server: Server;
  beforeAll(async () => {
    server = createServer((_, res) => res.end('ok'));
    answerClientErrorsAsJson(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

  it('answers headers over the parser limit with 431 in the error shape', async () => {
    const answer = await rawExchange(server, `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nX-Correlation-Id: ${'b'.repeat(20_000)}\r\n\r\n`);
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(answer).toContain('Content-Type: application/json');
    expect(bodyOf(answer)).toEqual({ statusCode: 431, error: 'Request Header Fields Too Large', message: expect.any(String), code: 'REQUEST.HEADERS_TOO_LARGE' });
  });

  it('answers a malformed request line with 400 in the error shape', async () => {
    const answer = await rawExchange(server, 'NOT HTTP AT ALL\r\n\r\n');
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(bodyOf(answer)).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'REQUEST.MALFORMED' });
  });
});
