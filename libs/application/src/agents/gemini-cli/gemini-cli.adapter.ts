import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { parseGeminiChatFile } from '@runledger/infra/agents/gemini-cli/chat-parser';
import { RunledgerConfig } from '@runledger/infra/config';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { AgentAdapter, AgentLaunch, AgentTranscript } from '../agent-adapter';
import { CREDENTIAL_ENV, DEFAULT_HOOK_HOLD_SECONDS, HOOK_TIMEOUT_MARGIN_SECONDS, hookCommand, HookSettingsRequest } from '../hook-runner';
import { agentExecutable } from '../agent-executable';
import { GEMINI_HOOK_DIALECT, GEMINI_HOOK_EVENTS } from './hook-pairing';

/** The flags of every Gemini CLI run runledger launches: no approval prompts (nobody is there to approve), JSON events on stdout. */
export const GEMINI_FLAGS = ['--yolo', '-o', 'stream-json'] as const;

/** The hook events runledger registers with Gemini CLI (0.61.0), as Gemini names them. */
export const GEMINI_EVENTS = Object.keys(GEMINI_HOOK_EVENTS);

/**
 * runledger's entries a Gemini CLI hook needs from its environment. Gemini passes a hook a sanitized copy of its own
 * environment: with `GITHUB_SHA` set (GitHub Actions) it drops every variable but a short allow-list and those named
 * `GEMINI_CLI_*`, and with `enableEnvironmentVariableRedaction` those named like `TOKEN`, `CERT`, … (measured on
 * 0.61.0). So a launch also carries each of them as `GEMINI_CLI_<name>`, and the hook command restores it.
 */
export const GEMINI_CARRIED_ENV = [CREDENTIAL_ENV, 'RUNLEDGER_CA_FILE'] as const;

/** `GEMINI_CLI_<name>`: the name under which Gemini CLI passes a variable to its hooks whatever its sanitization. */
const carried = (name: string): string => `GEMINI_CLI_${name}`;

/**
 * A launched session's hook command, `<name>="${GEMINI_CLI_<name>-}" … <command>` for each GEMINI_CARRIED_ENV entry: the
 * hook gets runledger's entries back under their own names from the copies Gemini passes on. Written `${NAME-}` because
 * Gemini resolves `$NAME`, `${NAME}` and `${NAME:-default}` in its settings from its own environment when it loads them,
 * which would put the credential into the hook's argv; `${NAME-}` it leaves for the shell (measured on 0.61.0).
 */
export const restoringCarriedEnv = (command: string): string => `${GEMINI_CARRIED_ENV.map((name) => `${name}="\${${carried(name)}-}"`).join(' ')} ${command}`;

/** One handler group of a Gemini CLI settings.json `hooks` entry (the shape Claude Code's settings share). */
export interface GeminiHookGroup {
  matcher?: string;
  hooks: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

/**
 * `hooks` of a Gemini CLI settings.json: one command hook per event (no matcher: every tool), each running
 * `<runner> gemini-cli --event <Gemini event> …` (passed through `wrap`: install-hooks confines it to the recorded
 * repositories), its timeout (ms) the hold plus the margin.
 */
export const geminiHooks = (request: HookSettingsRequest, wrap: (command: string) => string = (command) => command): Record<string, GeminiHookGroup[]> => {
  const timeout = ((request.hookHoldSeconds ?? DEFAULT_HOOK_HOLD_SECONDS) + HOOK_TIMEOUT_MARGIN_SECONDS) * 1000;
  return Object.fromEntries(
    GEMINI_EVENTS.map((event) => [event, [{ hooks: [{ type: 'command', name: `runledger-${event}`, command: wrap(hookCommand('gemini-cli', event, request)), timeout }] }]]),
  );
};

/** Reads a JSON settings file into an object; `{}` when absent; throws an Error naming the file when it is not a JSON object. */
export const readSettings = (file: string): Record<string, unknown> => {
  if (!fs.existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file} does not hold a JSON object`);
  return parsed as Record<string, unknown>;
};

/**
 * Gemini CLI on the agent port (docs/ARCHITECTURE.md §4d): `gemini -p <prompt> --yolo -o stream-json` in a process,
 * natively resumed with `gemini --resume <session id> -p <prompt>`; a private Gemini home per session
 * (`GEMINI_CLI_HOME=<dataDir>/agents/gemini-cli/<session>`: the user's `~/.gemini/settings.json` with runledger's hooks
 * over its `hooks`, nothing written into the worktree), the workspace trusted for the run (`GEMINI_CLI_TRUST_WORKSPACE`);
 * the chat file (`<home>/.gemini/tmp/<slug>/chats/session-*.jsonl`, the hooks' `transcript_path`) is the transcript.
 */
@Injectable()
export class GeminiCliAdapter implements AgentAdapter {
  readonly kind = 'gemini-cli' as const;
  readonly hookDialect = GEMINI_HOOK_DIALECT;

  constructor(@Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig) {}

  /** RUNLEDGER_GEMINI_BIN, else `gemini` on the PATH, else the one installed with runledger (agentExecutable). */
  executable(): string {
    return agentExecutable('gemini', process.env.RUNLEDGER_GEMINI_BIN);
  }

  /** The private Gemini home (`GEMINI_CLI_HOME`) of a session: `<dataDir>/agents/gemini-cli/<session id>`. */
  home(sessionId: string): string {
    return path.join(this.config.dataDir, 'agents', 'gemini-cli', sessionId);
  }

  prepare(launch: AgentLaunch): string[] {
    const gemini = this.executable();
    const dir = path.join(this.home(launch.sessionId), '.gemini');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const userHome = launch.env.HOME ?? process.env.HOME;
    const base = userHome ? readSettings(path.join(userHome, '.gemini', 'settings.json')) : {};
    const hooks = geminiHooks({ ...launch.hooks, url: launch.url, sessionId: launch.sessionId, runner: launch.runner }, restoringCarriedEnv);
    fs.writeFileSync(path.join(dir, 'settings.json'), `${JSON.stringify({ ...base, hooks }, null, 2)}\n`, { mode: 0o600 });
    // The user's sign-in (OAuth) is theirs to keep: linked, never copied.
    for (const file of ['oauth_creds.json', 'google_accounts.json']) {
      const source = userHome ? path.join(userHome, '.gemini', file) : undefined;
      const target = path.join(dir, file);
      if (source && fs.existsSync(source) && !fs.existsSync(target)) fs.symlinkSync(source, target);
    }
    if (launch.resume) return [gemini, '--resume', launch.resume.agentSessionId, '-p', launch.resume.prompt, ...GEMINI_FLAGS];
    return [gemini, ...(launch.prompt ? ['-p', launch.prompt] : []), ...GEMINI_FLAGS];
  }

  /** The private home, the workspace trusted, and runledger's GEMINI_CARRIED_ENV entries again as `GEMINI_CLI_<name>`. */
  launchEnv(launch: AgentLaunch, runledger: Readonly<Record<string, string>>): Record<string, string> {
    const carriedEnv = GEMINI_CARRIED_ENV.flatMap((name) => (runledger[name] === undefined ? [] : [[carried(name), runledger[name]!] as const]));
    return { GEMINI_CLI_HOME: this.home(launch.sessionId), GEMINI_CLI_TRUST_WORKSPACE: 'true', ...Object.fromEntries(carriedEnv) };
  }

  /**
   * Gemini CLI's own processes: `node …/gemini …` and the child it relaunches itself as (`node --max-old-space-size=N
   * …/gemini …`, measured on 0.61.0); a shell call (a process group of its own) never is.
   */
  isAgentProcess(command: string[]): boolean {
    const names = new Set(['gemini', 'gemini.js', path.basename(this.executable())]);
    return command.slice(0, 3).some((arg) => names.has(path.basename(arg)) || arg.includes('@google/gemini-cli/'));
  }

  async readTranscript(file: string): Promise<AgentTranscript> {
    return { main: await parseGeminiChatFile(file), subagents: [] };
  }
}
