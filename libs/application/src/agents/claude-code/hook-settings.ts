import { KNOWN_HOOK_EVENTS, KnownHookEvent } from '@runledger/infra/agents/claude-code/hook-protocol';
import { CREDENTIAL_ENV, DEFAULT_HOOK_HOLD_SECONDS, HOOK_TIMEOUT_MARGIN_SECONDS, hookCommand, HookSettingsRequest } from '../hook-runner';

/**
 * The events runledger registers: every event Claude Code 2.1.328 sends, except MessageDisplay (one call per flushed
 * line of assistant text while it streams; the transcript holds that text, and a command hook per line would slow
 * the agent for nothing).
 */
export const REGISTERED_HOOK_EVENTS: readonly KnownHookEvent[] = KNOWN_HOOK_EVENTS.filter((event) => event !== 'MessageDisplay');

/** Claude Code settings JSON (only the `hooks` key is written). */
export interface ClaudeSettings {
  hooks: Record<string, { matcher: string; hooks: Record<string, unknown>[] }[]>;
}

/**
 * The hooks of one session (docs/ARCHITECTURE.md §4a): every registered event posts to runledger. Command transport (default): each
 * hook runs `<runner> claude-code --event <event> --url <url> [--session <id>] --hold <s> --failure <closed|open>` (the
 * shim bin/runledger-hook, or `runledger hook` where curl is missing: hookRunner), which holds the agent while
 * runledger is away; Claude's timeout for it is the hold plus 30 s. HTTP transport: Claude posts itself (it cannot
 * hold: a failed HTTP hook is non-blocking). Either way the credential comes from the agent's environment
 * (`$RUNLEDGER_TOKEN`), so no token is written into the worktree.
 */
export const claudeHookSettings = (request: HookSettingsRequest): ClaudeSettings => {
  const hold = request.hookHoldSeconds ?? DEFAULT_HOOK_HOLD_SECONDS;
  const hookOf = (event: KnownHookEvent): Record<string, unknown> =>
    (request.hookTransport ?? 'command') === 'command'
      ? { type: 'command', command: hookCommand('claude-code', event, request), timeout: hold + HOOK_TIMEOUT_MARGIN_SECONDS }
      : {
          type: 'http',
          url: `${request.url}/api/v1/hooks/claude-code`,
          headers: { Authorization: `Bearer $${CREDENTIAL_ENV}`, ...(request.sessionId ? { 'X-Runledger-Session': request.sessionId } : {}) },
          allowedEnvVars: [CREDENTIAL_ENV],
          timeout: 30,
        };
  return { hooks: Object.fromEntries(REGISTERED_HOOK_EVENTS.map((event) => [event, [{ matcher: '*', hooks: [hookOf(event)] }]])) };
};

