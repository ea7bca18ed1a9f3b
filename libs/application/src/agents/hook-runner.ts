import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { CodingAgent, ProjectHookSettings } from '@runledger/domain';
import { executablePath } from '@runledger/infra/runtime/executable-path';
import { hookCommandKind } from '@runledger/infra/runtime/process-finder';

/*
 * The command hooks every coding agent runs (docs/ARCHITECTURE.md §4a, §4d): which runner (the shim or `runledger hook`)
 * and the command line of one event, the same for Claude Code's settings and Codex's hooks.json.
 */

/** Default hook hold (seconds): how long a hook waits for runledger before it gives up (docs/ARCHITECTURE.md §4a). */
export const DEFAULT_HOOK_HOLD_SECONDS = 30;

/** Env entry holding the agent's session credential (never the admin token: invariant 16). */
export const CREDENTIAL_ENV = 'RUNLEDGER_TOKEN';

/** Seconds an agent gives a command hook beyond its hold before it kills it. */
export const HOOK_TIMEOUT_MARGIN_SECONDS = 30;

/** Quotes one argument for the POSIX shell an agent runs a command hook with. */
export const shellQuote = (arg: string): string => (/^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/** Everything the hooks of one session depend on. */
export interface HookSettingsRequest extends ProjectHookSettings {
  /** runledger's origin, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** The runledger session; absent for hooks installed for sessions people start by hand (the server finds those by cwd). */
  sessionId?: string;
  /** The command hooks' runner (hookRunner): its argv goes before `<agent> --event …`. */
  runner: HookRunner;
  /** A remote flight recorder's hooks (docs/ARCHITECTURE.md §4f); absent for hooks of this machine's runledger. */
  remote?: RemoteRecording;
}

/**
 * Where a remote flight recorder's hooks record (docs/ARCHITECTURE.md §4f): the project on the team server, the
 * person's token file (read by the hook at each run; the token itself is never written into a settings file), and the
 * private CA of an https server.
 */
export interface RemoteRecording {
  projectId: string;
  tokenFile?: string;
  caFile?: string;
}

/**
 * The shell command of one command hook: `<runner> <agent> --event <event> --url <url> [--session <id>] --hold <s>
 * --failure <closed|open> [--project <id> [--token-file F] [--ca-file PEM]]`, every argument quoted; the runner holds
 * the agent while runledger is away (and, remote, ships the transcript).
 */
export const hookCommand = (agent: CodingAgent, event: string, request: HookSettingsRequest): string =>
  [
    ...request.runner.argv, agent, '--event', event, '--url', request.url,
    ...(request.sessionId ? ['--session', request.sessionId] : []),
    '--hold', String(request.hookHoldSeconds ?? DEFAULT_HOOK_HOLD_SECONDS), '--failure', request.hookFailure ?? 'closed',
    ...(request.remote
      ? ['--project', request.remote.projectId, ...(request.remote.tokenFile ? ['--token-file', request.remote.tokenFile] : []), ...(request.remote.caFile ? ['--ca-file', request.remote.caFile] : [])]
      : []),
  ].map(shellQuote).join(' ');

/**
 * What runs a command hook: `shim` (bash running bin/runledger-hook: no Node start) or `node` (`runledger hook`, the
 * fallback where the shim cannot run). `argv` goes before `<agent> --event …`.
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

/** Which runner a hook command (as hookCommand writes it, possibly wrapped by install-hooks) uses, if either. */
export const hookRunnerOf = (command: string): HookRunner['kind'] | undefined => hookCommandKind(command);

/** argv running this installation's `runledger` (this node binary, the package's bin/runledger.js); throws if not found. */
export const runledgerCommand = (): string[] => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const bin = path.join(dir, 'bin', 'runledger.js');
    if (existsSync(bin) && existsSync(path.join(dir, 'package.json'))) return [process.execPath, bin];
    if (path.dirname(dir) === dir) throw new Error(`bin/runledger.js not found above ${__dirname}`);
  }
};
