import { Command, CommanderError } from 'commander';
import { startServer, ServerRoles } from './server/start-server';

/** Exit codes of the CLI (issue 6): 0 ok, 1 failure found, 2 usage error, 3 server unreachable. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unreachable: 3 } as const;

const serve = (roles: ServerRoles) => async () => {
  try {
    await startServer(roles);
  } catch (error) {
    process.stderr.write(`runledger: ${(error as Error).message}\n`);
    process.exit(EXIT.failure);
  }
};

/** Builds the `runledger` command tree (DESIGN §6). */
export const buildProgram = (): Command => {
  const program = new Command('runledger').description('durable control plane and flight recorder for coding-agent sessions');
  program.command('start').description('api + worker in one process (embedded store unless DATABASE_URL is set)').action(serve({ api: true, worker: true }));
  program.command('api').description('the HTTP API only').action(serve({ api: true, worker: false }));
  program.command('worker').description('the worker only (projections, reconcile, executor)').action(serve({ api: false, worker: true }));
  return program;
};

/** Parses argv and runs one runledger command; a usage error exits 2. */
export const runCli = async (argv: string[]): Promise<void> => {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
    throw error;
  }
};
