import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Answers a request Node's HTTP parser refuses before any route sees it (headers over the parser's limit → 431,
 * anything else malformed → 400) in the API's error shape `{statusCode, error, message, code}` instead of Node's plain
 * text, then closes the connection. A socket that can no longer be written is destroyed.
 */
export const answerClientErrorsAsJson = (server: Server): void => {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const statusCode = tooLarge ? 431 : 400;
    const body = JSON.stringify({
      statusCode,
      error: tooLarge ? 'Request Header Fields Too Large' : 'Bad Request',
      message: tooLarge ? 'the request line and headers exceed the server\'s limit' : 'the request could not be parsed as HTTP',
      code: tooLarge ? 'REQUEST.HEADERS_TOO_LARGE' : 'REQUEST.MALFORMED',
    });
    socket.end(
      `HTTP/1.1 ${statusCode} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
};
