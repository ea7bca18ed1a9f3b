import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ProjectHookSettings } from '@runledger/domain';
import { KNOWN_HOOK_EVENTS, KnownHookEvent } from '@runledger/infra/claude-code/hook-protocol';

/** Default hook hold (seconds): how long a hook waits for runledger before it gives up (docs/ARCHITECTURE.md §4a). */
export const DEFAULT_HOOK_HOLD_SECONDS = 30;

/** Env entry holding the agent's session credential (never the admin token: invariant 16). */
export const CREDENTIAL_ENV = 'RUNLEDGER_TOKEN';

/**
 * The events runledger registers: every event Claude Code 2.1.328 sends, except MessageDisplay (one call per flushed
 * line of assistant text while it streams; the transcript holds that text, and a command hook per line would slow
 * the agent for nothing).
 */
export const REGISTERED_HOOK_EVENTS: readonly KnownHookEvent[] = KNOWN_HOOK_EVENTS.filter((event) => event !== 'MessageDisplay');

/** Everything the settings of one session's hooks depend on. */
export interface HookSettingsRequest extends ProjectHookSettings {
  /** runledger's origin, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** The runledger session; absent for hooks installed for sessions people start by hand (the server finds those by cwd). */
  sessionId?: string;
  /** argv that runs `runledger` (node and bin/runledger.js), for command hooks. */
  runledgerCommand: string[];
}

/** Claude Code settings JSON (only the `hooks` key is written). */
export interface ClaudeSettings {
  hooks: Record<string, { matcher: string; hooks: Record<string, unknown>[] }[]>;
}

/** Quotes one argument for the POSIX shell Claude Code runs a command hook with. */
export const shellQuote = (arg: string): string => (/^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/**
 * The hooks of one session (docs/ARCHITECTURE.md §4a): every registered event posts to runledger. Command transport (default): each
 * hook runs `runledger hook claude-code --url <url> [--session <id>] --hold <s> --failure <closed|open>`, which holds the
 * agent while runledger is away; Claude's timeout for it is the hold plus 30 s. HTTP transport: Claude posts itself
 * (it cannot hold: a failed HTTP hook is non-blocking). Either way the credential comes from the agent's environment
 * (`$RUNLEDGER_TOKEN`), so no token is written into the worktree.
 */
export const claudeHookSettings = (request: HookSettingsRequest): ClaudeSettings => {
  const hold = request.hookHoldSeconds ?? DEFAULT_HOOK_HOLD_SECONDS;
  const hook =
    (request.hookTransport ?? 'command') === 'command'
      ? {
          type: 'command',
          command: [
            ...request.runledgerCommand, 'hook', 'claude-code', '--url', request.url,
            ...(request.sessionId ? ['--session', request.sessionId] : []), '--hold', String(hold), '--failure', request.hookFailure ?? 'closed',
          ].map(shellQuote).join(' '),
          timeout: hold + 30,
        }
      : {
          type: 'http',
          url: `${request.url}/api/v1/hooks/claude-code`,
          headers: { Authorization: `Bearer $${CREDENTIAL_ENV}`, ...(request.sessionId ? { 'X-Runledger-Session': request.sessionId } : {}) },
          allowedEnvVars: [CREDENTIAL_ENV],
          timeout: 30,
        };
  return { hooks: Object.fromEntries(REGISTERED_HOOK_EVENTS.map((event) => [event, [{ matcher: '*', hooks: [hook] }]])) };
};

/** argv running this installation's `runledger` (this node binary, the package's bin/runledger.js); throws if not found. */
export const runledgerCommand = (): string[] => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const bin = path.join(dir, 'bin', 'runledger.js');
    if (existsSync(bin) && existsSync(path.join(dir, 'package.json'))) return [process.execPath, bin];
    if (path.dirname(dir) === dir) throw new Error(`bin/runledger.js not found above ${__dirname}`);
  }
};
