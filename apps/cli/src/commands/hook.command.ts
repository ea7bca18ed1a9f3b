import { Command } from 'commander';
import { claudeCodeHookMain } from '../hook/claude-code-hook';

/**
 * `runledger hook claude-code`: the command a Claude Code hook runs (see `runClaudeCodeHook`). bin/runledger.js runs it
 * without loading this command tree; the registration here gives it `--help`.
 */
export const registerHookCommand = (program: Command): void => {
  const hook = program.command('hook').description('agent hook targets (read the hook input on stdin)');
  hook
    .command('claude-code')
    .description(
      'forward one Claude Code hook input (stdin) to the server; while it does not answer, hold up to --hold seconds, then ' +
        'block a PreToolUse (exit 2, --failure closed) or let it proceed (--failure open)',
    )
    .option('--url <url>', 'runledger server (default RUNLEDGER_URL)')
    .option('--session <id>', 'runledger session id (default RUNLEDGER_SESSION_ID)')
    .option('--hold <seconds>', 'how long to wait for the server', '30')
    .option('--failure <mode>', 'closed or open', 'closed')
    .allowExcessArguments(false)
    .action(async (options: { url?: string; session?: string; hold: string; failure: string }) => {
      const args = [
        ...(options.url ? ['--url', options.url] : []),
        ...(options.session ? ['--session', options.session] : []),
        '--hold', options.hold, '--failure', options.failure,
      ];
      process.exitCode = await claudeCodeHookMain(args);
    });
};
