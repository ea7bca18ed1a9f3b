import { Command } from 'commander';
import { ApiClient } from '../client/api-client';
import { resolveClientConfig } from '../client/client-config';
import { describeError, EXIT } from '../client/client-errors';
import { printError } from '../client/output';

/** Reads all of stdin as UTF-8 text. */
const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
};

/** `hook_event_name` of a hook input; `undefined` when the text is not a JSON object naming one. */
export const hookEventName = (text: string): string | undefined => {
  try {
    const value = JSON.parse(text) as { hook_event_name?: unknown };
    return typeof value?.hook_event_name === 'string' ? value.hook_event_name : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Exit code when the hook could not be recorded: 2 for PreToolUse (and for input we cannot read, since it may be one),
 * which makes Claude Code block the tool, so no tool runs before its checkpoint (DESIGN invariant 4); 1 (a non-blocking
 * error) for every other hook event.
 */
export const hookFailureExit = (event: string | undefined): number => (event === undefined || event === 'PreToolUse' ? EXIT.usage : EXIT.failure);

/**
 * Runs `runledger hook claude-code`: POSTs the stdin hook input as is to `/hooks/claude-code` (with
 * `X-Runledger-Session: $RUNLEDGER_SESSION_ID` when set), prints the server's JSON answer on stdout and returns 0;
 * on an unreachable server or an error answer prints the reason on stderr and returns `hookFailureExit`.
 */
export const runClaudeCodeHook = async (env: NodeJS.ProcessEnv = process.env): Promise<number> => {
  const input = await readStdin();
  const event = hookEventName(input);
  try {
    if (event === undefined) throw new Error('the hook input on stdin is not a JSON object with hook_event_name');
    const client = new ApiClient(resolveClientConfig(env));
    const headers: Record<string, string> = env.RUNLEDGER_SESSION_ID ? { 'x-runledger-session': env.RUNLEDGER_SESSION_ID } : {};
    const response = await client.request('POST', '/hooks/claude-code', { rawBody: input, headers });
    const answer = await response.text();
    if (answer) process.stdout.write(answer.endsWith('\n') ? answer : `${answer}\n`);
    return EXIT.ok;
  } catch (error) {
    const exit = hookFailureExit(event);
    if (exit === EXIT.usage) printError('runledger: tool call blocked: it could not be recorded before it runs (no tool runs before its checkpoint)');
    for (const line of describeError(error)) printError(line);
    return exit;
  }
};

/** `runledger hook claude-code`: the command a Claude Code hook runs (see `runClaudeCodeHook`). */
export const registerHookCommand = (program: Command): void => {
  const hook = program.command('hook').description('agent hook targets (read the hook input on stdin)');
  hook
    .command('claude-code')
    .description('forward one Claude Code hook input (stdin) to the server; a PreToolUse that cannot be recorded is blocked (exit 2)')
    .allowExcessArguments(false)
    .action(async () => {
      process.exitCode = await runClaudeCodeHook();
    });
};
