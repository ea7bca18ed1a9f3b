import { Command, CommanderError } from 'commander';
import type { ServerRoles } from '../../../composition/start-server';
import { EXIT } from './client/client-errors';
import { registerAttachCommand } from './commands/attach.command';
import { registerClaudeCommand } from './commands/claude.command';
import { registerCodexCommand } from './commands/codex.command';
import { registerOpencodeCommand } from './commands/opencode.command';
import { registerGeminiCommand } from './commands/gemini.command';
import { registerExportCommand } from './commands/export.command';
import { registerFileEffectsCommands } from './commands/file-effects.command';
import { registerHistoryCommand } from './commands/history.command';
import { registerHookCommand } from './commands/hook.command';
import { registerImportCommand } from './commands/import.command';
import { registerKeysCommand } from './commands/keys.command';
import { registerOrchestratorCommand } from './commands/orchestrator.command';
import { registerProjectCommand } from './commands/project.command';
import { registerProjectionsCommand } from './commands/projections.command';
import { registerRecoveryCommands } from './commands/recovery.command';
import { registerReplayCommand } from './commands/replay.command';
import { registerSessionLifecycleCommands } from './commands/session-lifecycle.command';
import { registerSessionsCommand } from './commands/sessions.command';
import { registerStatusCommand } from './commands/status.command';
import { registerTailCommand } from './commands/tail.command';
import { registerToolCallsCommand } from './commands/tool-calls.command';
import { registerUiCommand } from './commands/ui.command';
import { registerUserCommand } from './commands/user.command';
import { registerVerifyCommand } from './commands/verify.command';
import { registerWorktreesCommand } from './commands/worktrees.command';
import { registerBudgetCommand, registerSearchCommand, registerUsageCommand } from './commands/usage.command';

export { EXIT };

const serve = (roles: ServerRoles) => async () => {
  try {
    // Loaded only for the server commands: the client commands (a hook runs on every tool call) start without Nest.
    const { startServer } = await import('../../../composition/start-server');
    await startServer(roles);
  } catch (error) {
    process.stderr.write(`runledger: ${(error as Error).message}\n`);
    process.exit(EXIT.failure);
  }
};

/** Builds the `runledger` command tree (docs/ARCHITECTURE.md §6); usage errors of every subcommand throw a CommanderError. */
export const buildProgram = (): Command => {
  // exitOverride before any subcommand: commander copies it into each one when it is created.
  const program = new Command('runledger').description('durable control plane and flight recorder for coding-agent sessions').exitOverride();
  // A private CA for an https server, for every client command (RUNLEDGER_CA_FILE is what the client reads).
  program.option('--ca-file <pem>', 'verify an https server with this CA (default RUNLEDGER_CA_FILE)');
  program.hook('preAction', (root) => {
    const caFile = root.opts<{ caFile?: string }>().caFile;
    if (caFile) process.env.RUNLEDGER_CA_FILE = caFile;
  });
  program.command('start').description('api + worker in one process (embedded store unless DATABASE_URL is set)').action(serve({ api: true, worker: true }));
  program.command('api').description('the HTTP API only').action(serve({ api: true, worker: false }));
  program.command('worker').description('the worker only (projections, reconcile, executor)').action(serve({ api: false, worker: true }));
  program.addHelpText(
    'after',
    '\nEvery command but start, api and worker talks to a running server: RUNLEDGER_URL (default http://127.0.0.1:8787),\n' +
      'RUNLEDGER_TOKEN (default: the token file in RUNLEDGER_DATA_DIR, ./.runledger), RUNLEDGER_CA_FILE (a private CA for https).\n' +
      'Exit codes: 0 ok, 1 failure found, 2 usage error, 3 server unreachable.',
  );
  registerStatusCommand(program);
  registerProjectCommand(program);
  registerSessionLifecycleCommands(program);
  registerSessionsCommand(program);
  registerToolCallsCommand(program);
  registerTailCommand(program);
  registerHistoryCommand(program);
  registerReplayCommand(program);
  registerFileEffectsCommands(program);
  registerExportCommand(program);
  registerVerifyCommand(program);
  registerKeysCommand(program);
  registerProjectionsCommand(program);
  registerImportCommand(program);
  registerHookCommand(program);
  registerAttachCommand(program);
  registerOrchestratorCommand(program);
  registerRecoveryCommands(program);
  registerWorktreesCommand(program);
  registerClaudeCommand(program);
  registerCodexCommand(program);
  registerOpencodeCommand(program);
  registerGeminiCommand(program);
  registerUiCommand(program);
  registerUserCommand(program);
  registerUsageCommand(program);
  registerBudgetCommand(program);
  registerSearchCommand(program);
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
