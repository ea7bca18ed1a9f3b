import { Command } from 'commander';
import { clientAction } from '../client/client-command';
import { UsageError } from '../client/client-errors';
import { printError, printLine } from '../client/output';

/** `POST /ui/login-codes` answer. */
interface LoginCode {
  code: string;
  expiresAt: string;
}

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/**
 * The web timeline's URL carrying a one-time login code in its fragment (`…/#login=<code>`): a browser never sends
 * the fragment to a server, so the code reaches no request line or log; the page posts it to `/ui/session` and drops it.
 */
export const loginUrl = (baseUrl: string, code: string, sessionId?: string): string =>
  `${baseUrl}/${sessionId ? `sessions/${encodeURIComponent(sessionId)}` : ''}#login=${encodeURIComponent(code)}`;

/**
 * `runledger ui [session] [--no-open]`: mints a one-time login code with the bearer token (60 s, usable once), prints
 * the web timeline's URL carrying it, and opens it in the default browser (the `open` package) unless `--no-open`.
 */
export const registerUiCommand = (program: Command): void => {
  program
    .command('ui')
    .description('open the web timeline, logged in with a one-time code (60 s, once)')
    .argument('[session]', 'open this session\'s page')
    .option('--no-open', 'only print the URL')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, session: string | undefined, options: { open: boolean }) => {
        if (session !== undefined && !SESSION_ID.test(session)) throw new UsageError(`not a session id: ${JSON.stringify(session)}`);
        const minted = await client.post<LoginCode>('/ui/login-codes');
        const url = loginUrl(client.config.baseUrl, minted.code, session);
        printLine(url);
        printError(`the login code in this URL works once, until ${minted.expiresAt}`);
        if (!options.open) return;
        try {
          const { default: open } = await import('open');
          await open(url);
        } catch (error) {
          printError(`could not open a browser (${(error as Error).message}): open the URL above yourself`);
        }
      }),
    );
};
