import { ApiClient } from './api-client';
import { resolveClientConfig } from './client-config';
import { describeError, EXIT, exitCodeFor } from './client-errors';
import { printError } from './output';

/**
 * Wraps a client command's action: builds the ApiClient from the environment, runs `body`, and maps what it throws to
 * a message on stderr and an exit code (2 usage, 3 unreachable, 1 HTTP error or failure; see `exitCodeFor`).
 * `body` may return an exit code (default 0). Sets `process.exitCode` rather than exiting, so stdout is flushed; a
 * reader that closes early is the entry's concern (closed-pipe.ts).
 */
export const clientAction =
  <A extends unknown[]>(body: (client: ApiClient, ...args: A) => Promise<number | void>) =>
  async (...args: A): Promise<void> => {
    try {
      const client = new ApiClient(resolveClientConfig());
      process.exitCode = (await body(client, ...args)) ?? EXIT.ok;
    } catch (error) {
      for (const line of describeError(error)) printError(line);
      process.exitCode = exitCodeFor(error);
    }
  };
