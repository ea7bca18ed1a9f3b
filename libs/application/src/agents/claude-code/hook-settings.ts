import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ProjectHookSettings } from '@runledger/domain';
import { KNOWN_HOOK_EVENTS, KnownHookEvent } from '@runledger/infra/agents/claude-code/hook-protocol';
import { executablePath } from '@runledger/infra/runtime/executable-path';
import { hookCommandKind } from '@runledger/infra/runtime/process-finder';

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
  /** The command hooks' runner (hookRunner): its argv goes before `claude-code --event …`. */
  runner: HookRunner;
}

/** Claude Code settings JSON (only the `hooks` key is written). */
export interface ClaudeSettings {
  hooks: Record<string, { matcher: string; hooks: Record<string, unknown>[] }[]>;
}

/** Quotes one argument for the POSIX shell Claude Code runs a command hook with. */
export const shellQuote = (arg: string): string => (/^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

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
      ? {
          type: 'command',
          command: [
            ...request.runner.argv, 'claude-code', '--event', event, '--url', request.url,
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
  return { hooks: Object.fromEntries(REGISTERED_HOOK_EVENTS.map((event) => [event, [{ matcher: '*', hooks: [hookOf(event)] }]])) };
};

/**
 * What runs a command hook: `shim` (bash running bin/runledger-hook: no Node start) or `node` (`runledger hook`, the
 * fallback where the shim cannot run). `argv` goes before `claude-code --event …`.
 */
export interface HookRunner {
  kind: 'shim' | 'node';
  argv: string[];
}

/** True for an http:// URL on the loopback interface (127.0.0.1, localhost, [::1]) with a port: the shim speaks to it without curl. */
export const isLoopbackHttp = (url: string): boolean => /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+(\/|$)/.test(url);

/**
 * This installation's hook runner for hooks posting to `url`, checked now in the process that writes the hook
 * settings (the server for launched sessions, the CLI for install-hooks): the shim when bash is on PATH and the shim can
 * reach `url` (loopback http through bash's /dev/tcp, anything else through curl, which must be on PATH), else
 * `node bin/runledger.js hook`. Throws when bin/ is not found above this module.
 */
export const hookRunner = (url: string, env: NodeJS.ProcessEnv = process.env): HookRunner => {
  const [node, bin] = runledgerCommand();
  const bash = executablePath('bash', env);
  return bash && (isLoopbackHttp(url) || executablePath('curl', env))
    ? { kind: 'shim', argv: [bash, path.join(path.dirname(bin), 'runledger-hook')] }
    : { kind: 'node', argv: [node, bin, 'hook'] };
};

/** Which runner a hook command (as claudeHookSettings writes it, possibly wrapped by install-hooks) uses, if either. */
export const hookRunnerOf = (command: string): HookRunner['kind'] | undefined => hookCommandKind(command);

/** argv running this installation's `runledger` (this node binary, the package's bin/runledger.js); throws if not found. */
export const runledgerCommand = (): string[] => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const bin = path.join(dir, 'bin', 'runledger.js');
    if (existsSync(bin) && existsSync(path.join(dir, 'package.json'))) return [process.execPath, bin];
    if (path.dirname(dir) === dir) throw new Error(`bin/runledger.js not found above ${__dirname}`);
  }
};
