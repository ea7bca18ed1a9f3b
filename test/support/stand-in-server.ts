import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/** A request's body as text (UTF-8); rejects on a stream error. */
export const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });

/** A model API stand-in listening on 127.0.0.1: its port, and close (which cuts open connections). */
export interface StandInServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `handle` on 127.0.0.1 at an ephemeral port for a scripted model API stand-in; a handler that throws is
 * answered 500 with `errorBody(message)` (each API's own error shape).
 */
export const serveStandIn = async (
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  errorBody: (message: string) => unknown,
): Promise<StandInServer> => {
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify(errorBody(error.message)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
