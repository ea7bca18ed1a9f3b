import { Command } from 'commander';
import { agentHookMain, HOOK_AGENTS } from '../hook/agent-hook';

/**
 * `runledger hook claude-code|codex`: the command an agent's hook runs where the shim cannot (see `runAgentHook`). bin/runledger.js runs it
 * without loading this command tree; the registration here gives it `--help`.
 */
export const registerHookCommand = (program: Command): void => {
  const hook = program.command('hook').description('agent hook targets (read the hook input on stdin)');
  for (const agent of HOOK_AGENTS) {
    hook
      .command(agent)
      .description(
        `forward one ${agent} hook input (stdin) to the server; while it does not answer, hold up to --hold seconds, then ` +
          'block a PreToolUse (exit 2, --failure closed) or let it proceed (--failure open)',
      )
      .option('--event <event>', 'the hook event this command is registered for (default: the input\'s hook_event_name)')
      .option('--url <url>', 'runledger server (default RUNLEDGER_URL)')
      .option('--session <id>', 'runledger session id (default RUNLEDGER_SESSION_ID)')
      .option('--hold <seconds>', 'how long to wait for the server', '30')
      .option('--failure <mode>', 'closed or open', 'closed')
      .allowExcessArguments(false)
      .action(async (options: { event?: string; url?: string; session?: string; hold: string; failure: string }) => {
        const args = [
          ...(options.event ? ['--event', options.event] : []),
          ...(options.url ? ['--url', options.url] : []),
          ...(options.session ? ['--session', options.session] : []),
          '--hold', options.hold, '--failure', options.failure,
        ];
        process.exitCode = await agentHookMain(agent, args);
      });
  }
};
