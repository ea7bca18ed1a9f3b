import { describeWithAgent } from '../describe-with-agent';
import { HookGroup, hookTrustToml as trustToml } from '@runledger/application/agents/codex/hook-trust';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runToCompletion } from '../run-process';

/*
 * Driving the real Codex CLI (devDependency @openai/codex 0.171.0) offline against the Responses API stand-in
 * (fake-responses-api.ts). Facts behind these helpers: test/support/codex/README.md.
 */

/** The real Codex CLI of the devDependency `@openai/codex` (a Node launcher for the native binary). */
export const CODEX_BIN = resolve(__dirname, '../../../node_modules/.bin/codex');

/** The stdio MCP server with tools `echo` ({text} → the same text) and `fail` (the text as a tool error), for `[mcp_servers.<name>]`. */
export const ECHO_MCP_SERVER = resolve(__dirname, 'echo-mcp-server.js');

/** A command hook that appends its stdin as one JSON line to the file given as its argument (`node RECORD_HOOK <file>`). */
export const RECORD_HOOK = resolve(__dirname, 'record-hook.js');

/** A command hook that logs its stdin and answers by rules: `node DECIDE_HOOK <log file> <rules.json>` (see the script). */
export const DECIDE_HOOK = resolve(__dirname, 'decide-hook.js');

/** The env variable config.toml names as the stand-in provider's `env_key` (Codex sends its value as the bearer token). */
export const CODEX_KEY_ENV = 'STANDIN_KEY';

/** Null when the real CLI can run here, else why not (suites skip with it, except under CI=true where that fails). */
export const codexUnavailable = (): string | null =>
  existsSync(CODEX_BIN) ? null : `the Codex CLI is not installed at ${CODEX_BIN} (npm install installs @openai/codex)`;

/**
 * `describe` for suites that drive the real Codex CLI: skipped with the reason printed when the binary is missing, and a
 * failing suite instead under CI=true (CI must run them).
 */
export const describeWithCodex = (title: string, body: () => void): void => describeWithAgent('Codex', codexUnavailable(), title, body);

/** The hook event names of Codex 0.171 (seen firing here: SessionStart, UserPromptSubmit, PreToolUse, PermissionRequest, PostToolUse, Stop). */
export const CODEX_HOOK_EVENTS = [
  'SessionStart',
  'UserPromptSubmit',
  'PreToolUse',
  'PermissionRequest',
  'PostToolUse',
  'PreCompact',
  'PostCompact',
  'SubagentStart',
  'SubagentStop',
  'Stop',
] as const;

/** One of `CODEX_HOOK_EVENTS`. */
export type CodexHookEvent = (typeof CODEX_HOOK_EVENTS)[number];

/**
 * The content of a `hooks.json` (`$CODEX_HOME/hooks.json` or `<repo>/.codex/hooks.json`): one command hook per event,
 * no matcher (every tool), `commandFor(event)` as its command, `timeoutSec` its timeout (Codex's default: 600 s).
 */
export const hooksJson = (commandFor: (event: CodexHookEvent) => string, events: readonly CodexHookEvent[] = CODEX_HOOK_EVENTS, timeoutSec?: number): string => {
  const hooks = Object.fromEntries(
    events.map((event) => [event, [{ hooks: [{ type: 'command', command: commandFor(event), ...(timeoutSec ? { timeout: timeoutSec } : {}) }] }]]),
  );
  return `${JSON.stringify({ hooks }, null, 2)}\n`;
};

/** Sorts object keys recursively (serde_json's canonical form that Codex hashes). */
/**
 * config.toml lines that trust every command hook of a hooks.json, so that they run without
 * `--dangerously-bypass-hook-trust`: per handler `[hooks.state."<hooks file>:<event_snake>:<group>:<handler>"]` with
 * `trusted_hash = "sha256:<hex>"`, the sha256 of the canonical JSON of `{event_name, matcher?, hooks: [{type, command,
 * timeout (default 600), async (default false), statusMessage?}]}` (Codex 0.171's identity). `hooksFile` is the absolute
 * path Codex reads it from. Throws on a hooks.json that is not JSON.
 */
export const hookTrustToml = (hooksFile: string, hooksJsonText: string): string => {
  const parsed = JSON.parse(hooksJsonText) as { hooks: Record<string, HookGroup[]> };
  return trustToml(hooksFile, parsed.hooks, () => true);
};

/** An MCP server over stdio to register in config.toml as `[mcp_servers.<name>]`. */
export interface CodexMcpServer {
  command: string;
  args?: string[];
  /** Env of the server process (Codex does not pass its own environment through to MCP servers). */
  env?: Record<string, string>;
}

/** Options of prepareCodexHome. */
export interface CodexHomeOptions {
  /** Base URL of the Responses API stand-in (startFakeResponsesApi().url, ends with /v1). */
  apiUrl: string;
  /** Model name; default `gpt-5.5` (a name Codex knows: unknown names get no apply_patch tool). */
  model?: string;
  /** MCP servers by name, e.g. `{ echo: { command: 'node', args: [ECHO_MCP_SERVER] } }`. */
  mcpServers?: Record<string, CodexMcpServer>;
  /** Written as `$CODEX_HOME/hooks.json` (see hooksJson); hooks run only with `--dangerously-bypass-hook-trust` or a trust entry. */
  hooksJson?: string;
  /** Also trust that hooks.json in config.toml (hookTrustToml), so its hooks run without the bypass flag. */
  trustHooks?: boolean;
}

/** A CODEX_HOME of the test's own and the env that points the CLI at the stand-in. */
export interface CodexHome {
  /** `$CODEX_HOME` (config.toml, hooks.json, sessions/YYYY/MM/DD/rollout-*.jsonl, SQLite state). */
  home: string;
  /** Env for the CLI, or for a runledger server that launches it: CODEX_HOME, HOME (a folder of its own), the key env, RUNLEDGER_CODEX_BIN. */
  env: Record<string, string>;
}

const tomlString = (s: string): string => JSON.stringify(s);

/**
 * Creates `<dir>` as CODEX_HOME with a config.toml that selects the stand-in provider (wire_api responses, no retries),
 * the MCP servers and hooks.json asked for; returns its env. Overwrites config.toml and hooks.json.
 */
export const prepareCodexHome = (dir: string, options: CodexHomeOptions): CodexHome => {
  mkdirSync(dir, { recursive: true });
  const lines = [
    `model = ${tomlString(options.model ?? 'gpt-5.5')}`,
    'model_provider = "standin"',
    'check_for_update_on_startup = false',
    '',
    '[model_providers.standin]',
    'name = "standin"',
    `base_url = ${tomlString(options.apiUrl)}`,
    `env_key = ${tomlString(CODEX_KEY_ENV)}`,
    'wire_api = "responses"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
    '[analytics]',
    'enabled = false',
  ];
  for (const [name, server] of Object.entries(options.mcpServers ?? {})) {
    lines.push('', `[mcp_servers.${name}]`, `command = ${tomlString(server.command)}`, `args = [${(server.args ?? []).map(tomlString).join(', ')}]`);
    if (server.env) lines.push(`env = { ${Object.entries(server.env).map(([k, v]) => `${k} = ${tomlString(v)}`).join(', ')} }`);
  }
  if (options.hooksJson !== undefined && options.trustHooks) lines.push('', hookTrustToml(join(dir, 'hooks.json'), options.hooksJson));
  writeFileSync(join(dir, 'config.toml'), `${lines.join('\n')}\n`);
  if (options.hooksJson !== undefined) writeFileSync(join(dir, 'hooks.json'), options.hooksJson);
  // Codex runs each exec as a login shell (`bash -lc`): with the machine's own HOME it sources that user's profile, whose
  // tools may block (a `pyenv rehash` waits 60 s on a lock file that a login shell SIGKILLed mid-rehash leaves behind,
  // and the crash soak kills exec children). A HOME of the test's own keeps the machine's profile out of every run.
  const userHome = join(dir, 'user-home');
  mkdirSync(userHome, { recursive: true });
  return { home: dir, env: { CODEX_HOME: dir, HOME: userHome, [CODEX_KEY_ENV]: 'sk-test-stand-in', RUNLEDGER_CODEX_BIN: CODEX_BIN } };
};

/** The flags of a headless run that never asks: JSON events, no git check, no approvals, no sandbox (plus hook trust bypass when `hooks`). */
export const execFlags = (options: { hooks?: boolean } = {}): string[] => [
  '--json',
  '--skip-git-repo-check',
  '--dangerously-bypass-approvals-and-sandbox',
  ...(options.hooks ? ['--dangerously-bypass-hook-trust'] : []),
];

/** One line of `codex exec --json` (thread.started, turn.started, item.started|item.completed, turn.completed, error, ...). */
export type CodexJsonEvent = Record<string, any> & { type: string };

/** Outcome of one CLI run. */
export interface CodexRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout's JSON lines, parsed (non-JSON lines left out). */
  events: CodexJsonEvent[];
}

/** Parses `--json` output: one event per line; lines that are not JSON objects are left out. */
export const parseJsonEvents = (stdout: string): CodexJsonEvent[] =>
  stdout.split('\n').flatMap((line) => {
    try {
      const event = JSON.parse(line) as unknown;
      return typeof event === 'object' && event !== null && typeof (event as CodexJsonEvent).type === 'string' ? [event as CodexJsonEvent] : [];
    } catch {
      return [];
    }
  });

/**
 * Runs the real `codex` with `args` in `cwd` under `home`'s env (plus `env`), stdin from /dev/null (else it waits for
 * more input), to completion; SIGKILLs it after `timeoutMs` (default 60 000 ms).
 */
export const runCodex = async (args: string[], options: { cwd: string; home: CodexHome; env?: Record<string, string>; timeoutMs?: number }): Promise<CodexRun> => {
  const run = await runToCompletion(CODEX_BIN, args, { cwd: options.cwd, env: { ...process.env, ...options.home.env, ...(options.env ?? {}) }, timeoutMs: options.timeoutMs ?? 60000 });
  return { ...run, events: parseJsonEvents(run.stdout) };
};

/** A CLI run in progress: its launcher process (leader of its own process group) and the outcome to come. */
export interface StartedCodex {
  child: ChildProcess;
  /** Settles when the launcher exits and its stdout closes; never rejects after the spawn. */
  done: Promise<CodexRun>;
}

/**
 * Starts the real `codex` like runCodex, but detached (its own process group, so `process.kill(-child.pid, 'SIGKILL')`
 * stops the launcher and the native binary it spawns) and without waiting; no timeout.
 */
export const startCodex = (args: string[], options: { cwd: string; home: CodexHome; env?: Record<string, string> }): StartedCodex => {
  const child = spawn(CODEX_BIN, args, { cwd: options.cwd, env: { ...process.env, ...options.home.env, ...(options.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const done = new Promise<CodexRun>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, events: parseJsonEvents(stdout) })));
  return { child, done };
};

/** Every rollout file under `$CODEX_HOME/sessions/YYYY/MM/DD/` (`rollout-<time>-<thread id>.jsonl`), sorted by path; empty when none. */
export const rolloutsOf = (home: string | CodexHome): string[] => {
  const root = join(typeof home === 'string' ? home : home.home, 'sessions');
  if (!existsSync(root)) return [];
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.startsWith('rollout-') && entry.name.endsWith('.jsonl')) found.push(path);
    }
  };
  walk(root);
  return found.sort();
};

/** The rollout of thread `threadId` (its file name ends with `-<thread id>.jsonl`); throws when there is none. */
export const rolloutOf = (home: string | CodexHome, threadId: string): string => {
  const file = rolloutsOf(home).find((f) => f.endsWith(`-${threadId}.jsonl`));
  if (!file) throw new Error(`no rollout for thread ${threadId} under ${typeof home === 'string' ? home : home.home}`);
  return file;
};

/** A live process whose environment says it was started by Codex for thread `threadId` (`CODEX_THREAD_ID`). */
export interface CodexThreadProcess {
  pid: number;
  pgid: number;
  command: string;
}

/**
 * Every live process (Linux /proc) with `CODEX_THREAD_ID=<threadId>` in its environment: Codex's exec children and
 * theirs, which outlive a SIGKILLed Codex. Processes that vanish or cannot be read while scanning are left out.
 */
export const codexThreadProcesses = (threadId: string): CodexThreadProcess[] => {
  const found: CodexThreadProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (!environ.includes(`CODEX_THREAD_ID=${threadId}`)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] === 'Z') continue; // a zombie is already dead
      const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      found.push({ pid: Number(entry), pgid, command });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
};

/** The lines of a rollout, parsed; a line that is not JSON (one Codex is still writing) is left out. */
const rolloutLines = (file: string): Array<Record<string, any>> =>
  readFileSync(file, 'utf8').split('\n').flatMap((text) => {
    if (!text.trim()) return [];
    try {
      return [JSON.parse(text) as Record<string, any>];
    } catch {
      return [];
    }
  });

/** One call of a rollout as Codex wrote it (see rolloutCalls). */
export interface RolloutCall {
  callId: string;
  /** The tool as Codex's hooks name it: `Bash` (exec_command), `apply_patch`, `mcp__<server>__<tool>`. */
  tool: string;
  /** Undefined while the rollout holds neither an output nor an `item_completed` for it. */
  status?: string;
}

/**
 * The calls of a rollout as Codex wrote them, read without runledger's parser: each `function_call` /
 * `custom_tool_call` response item (its `call_id`; `tool_search` and `write_stdin` polls are not calls, they fire no
 * hook) and the status of its `item_completed` event (exit code 0 / `completed` / no error → completed), failed for an
 * output with no item_completed (never ran), undefined while it has neither. Throws when the file cannot be read.
 */
export const rolloutCalls = (file: string): RolloutCall[] => {
  const calls = new Map<string, RolloutCall>();
  for (const line of rolloutLines(file)) {
    const p = line.payload ?? {};
    if (line.type === 'response_item' && (p.type === 'function_call' || p.type === 'custom_tool_call') && p.name !== 'tool_search' && p.name !== 'write_stdin') {
      const tool = p.name === 'exec_command' ? 'Bash' : p.namespace ? `${p.namespace}__${p.name}` : p.name;
      if (!calls.has(p.call_id)) calls.set(p.call_id, { callId: p.call_id, tool });
    }
    // An output with no item_completed: the call never ran (a hook blocked it); an item_completed, written before or after it, decides.
    if (line.type === 'response_item' && (p.type === 'function_call_output' || p.type === 'custom_tool_call_output') && calls.has(p.call_id)) {
      const call = calls.get(p.call_id)!;
      if (!call.status) call.status = 'failed';
    }
    if (line.type === 'event_msg' && p.type === 'item_completed' && calls.has(p.item?.id)) {
      const item = p.item;
      const failed = item.type === 'CommandExecution' ? item.exit_code !== 0 : item.status === 'failed' || item.error != null;
      calls.get(item.id)!.status = failed ? 'failed' : 'completed';
    }
  }
  return [...calls.values()];
};

/**
 * Whether the rollout's last turn ended: its last `task_started` has a `task_complete` with the same `turn_id` after it
 * (a killed turn never gets one, also after a resume). False for a rollout with no turn. Throws when it cannot be read.
 */
export const rolloutLastTurnEnded = (file: string): boolean => {
  let last: string | undefined;
  let ended = false;
  for (const line of rolloutLines(file)) {
    if (line.type !== 'event_msg') continue;
    if (line.payload?.type === 'task_started') {
      last = line.payload.turn_id;
      ended = false;
    } else if (line.payload?.type === 'task_complete' && last !== undefined && line.payload.turn_id === last) ended = true;
  }
  return ended;
};
