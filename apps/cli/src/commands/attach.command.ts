import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { SessionView } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { EXIT } from '../client/client-errors';
import { printError } from '../client/output';

/** argv that attaches a terminal to a tmux runtime of a session snapshot; null (with the reason) when it has none. */
export const attachArgv = (session: SessionView, tmux = process.env.RUNLEDGER_TMUX_BIN || 'tmux'): string[] | string => {
  const runtime = session.runtime;
  if (!runtime || runtime.type !== 'tmux' || !runtime.sessionName || !runtime.socket) {
    return `session ${session.id} runs in a ${runtime?.type ?? 'no'} runtime: only a tmux runtime can be attached to`;
  }
  if (runtime.alive === false) return `the tmux session of ${session.id} is gone (status ${session.status}); restore it first`;
  return [tmux, '-S', runtime.socket, 'attach-session', '-t', `=${runtime.sessionName}`];
};

/** `runledger attach <id>`: attaches this terminal to the session's tmux session (detach with the tmux prefix, then d). */
export const registerAttachCommand = (program: Command): void => {
  program
    .command('attach <id>')
    .description("attach this terminal to a session's tmux runtime (detach: C-b d)")
    .action(
      clientAction(async (client, id: string) => {
        const session = await client.get<SessionView>(`/sessions/${encodeURIComponent(id)}`);
        const argv = attachArgv(session);
        if (typeof argv === 'string') {
          printError(argv);
          return EXIT.failure;
        }
        const env = { ...process.env };
        delete env.TMUX; // attaching from inside another tmux is what the person asked for
        const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env });
        return new Promise<number>((resolve) => {
          child.once('error', (error) => {
            printError(`cannot run ${argv[0]}: ${error.message}`);
            resolve(EXIT.failure);
          });
          child.once('exit', (code) => resolve(code === 0 ? EXIT.ok : EXIT.failure));
        });
      }),
    );
};
