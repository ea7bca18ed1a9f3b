import { EXIT } from './client/client-errors';

/**
 * A reader that stops early (`runledger history <id> | head -1`) closes the pipe; runledger then ends quietly, like
 * other Unix tools, on every path (commander's help and errors, tables, JSON, exports, `tail`'s live feed): EPIPE on
 * stdout exits at once with the status decided so far (0 when none: output cut short is no failure), since nothing
 * more can be shown; EPIPE on stderr drops the message and the command ends with its own status (2 for a usage error,
 * 3 for an unreachable server). Any other error of either stream is thrown as before. Installed once, by the entry.
 */
export const endQuietlyOnClosedPipes = (): void => {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
    throw error;
  });
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
};
