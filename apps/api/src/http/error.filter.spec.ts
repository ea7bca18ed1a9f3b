import { ArgumentsHost, NotFoundException } from '@nestjs/common';
import { DatabaseUnavailableError } from '@runledger/infra/database';
import { ErrorFilter, toErrorBody } from './error.filter';

/** A response recording what the filter sent. */
const recordingHost = () => {
  const sent: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
  const response = {
    headersSent: false,
    setHeader: (name: string, value: string) => (sent.headers[name.toLowerCase()] = value),
    status: (code: number) => ((sent.status = code), { json: (body: unknown) => (sent.body = body) }),
  };
  const host = { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
  return { host, sent };
};

describe('the error filter', () => {
  it('answers an unreachable database 503 with Retry-After in the error shape, never 500', () => {
    const { host, sent } = recordingHost();
    new ErrorFilter().catch(new DatabaseUnavailableError(new Error('Connection terminated unexpectedly')), host);
    expect(sent.status).toBe(503);
    expect(sent.headers['retry-after']).toMatch(/^\d+$/);
    expect(sent.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', code: 'STORE.UNAVAILABLE', message: expect.stringContaining('Connection terminated') });
  });

  it('sends no Retry-After with other errors, and keeps a 500 for what it cannot name', () => {
    const { host, sent } = recordingHost();
    new ErrorFilter().catch(new NotFoundException('no such session'), host);
    expect(sent).toMatchObject({ status: 404, headers: {} });
    expect(toErrorBody(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).statusCode).toBe(500);
  });
});
