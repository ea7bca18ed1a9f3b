import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeWithAgent } from '../describe-with-agent';
import { runToCompletion } from '../run-process';

/*
 * Driving the real OpenCode CLI (devDependency opencode-ai 1.18.33) offline against the chat-completions stand-in
 * (fake-chat-completions.ts), each suite with XDG folders of its own. Facts: test/support/opencode/README.md.
 */

/** The real OpenCode CLI of the devDependency `opencode-ai` (a launcher for the native binary). */
export const OPENCODE_BIN = resolve(__dirname, '../../../node_modules/.bin/opencode');

/** Null when the real CLI can run here, else why not (suites skip with it, except under CI=true where that fails). */
export const opencodeUnavailable = (): string | null =>
  existsSync(OPENCODE_BIN) ? null : `the OpenCode CLI is not installed at ${OPENCODE_BIN} (npm install installs opencode-ai)`;

/** `describe` for suites that drive the real OpenCode CLI (skipped with the reason when it is missing; failing under CI=true). */
export const describeWithOpencode = (title: string, body: () => void): void => describeWithAgent('OpenCode', opencodeUnavailable(), title, body);

/** XDG folders of the test's own and the env that points OpenCode at the stand-in. */
export interface OpencodeHome {
  root: string;
  /** `$XDG_CONFIG_HOME/opencode`: opencode.json (the stand-in provider), plugins/. */
  configDir: string;
  /** `$XDG_DATA_HOME/opencode/opencode.db`: OpenCode's database (its `event` table is the record). */
  database: string;
  /** Env for the CLI or for a runledger server that launches it. */
  env: Record<string, string>;
}

/**
 * Creates `<dir>` with XDG_CONFIG_HOME/DATA/CACHE/STATE and HOME folders and a global `opencode.json` selecting the
 * stand-in (provider `standin` through `@ai-sdk/openai-compatible`, model `standin/m1` for main and small model, no
 * sharing, no autoupdate, bash and edit allowed), so nothing is written into the worktree.
 */
export const prepareOpencodeHome = (dir: string, options: { apiUrl: string }): OpencodeHome => {
  const folders = { XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data'), XDG_CACHE_HOME: join(dir, 'cache'), XDG_STATE_HOME: join(dir, 'state'), HOME: join(dir, 'home') };
  for (const folder of Object.values(folders)) mkdirSync(folder, { recursive: true });
  const configDir = join(folders.XDG_CONFIG_HOME, 'opencode');
  mkdirSync(configDir, { recursive: true });
  const config = {
    $schema: 'https://opencode.ai/config.json',
    provider: { standin: { npm: '@ai-sdk/openai-compatible', options: { baseURL: options.apiUrl, apiKey: 'sk-test-stand-in' }, models: { m1: { tool_call: true } } } },
    model: 'standin/m1',
    small_model: 'standin/m1',
    share: 'disabled',
    autoupdate: false,
    permission: { bash: 'allow', edit: 'allow' },
  };
  writeFileSync(join(configDir, 'opencode.json'), `${JSON.stringify(config, null, 2)}\n`);
  return {
    root: dir,
    configDir,
    database: join(folders.XDG_DATA_HOME, 'opencode', 'opencode.db'),
    env: { ...folders, OPENCODE_DISABLE_MODELS_FETCH: '1', OPENCODE_DISABLE_AUTOUPDATE: '1', OPENCODE_DISABLE_SHARE: '1', RUNLEDGER_OPENCODE_BIN: OPENCODE_BIN },
  };
};

/**
 * Runs OpenCode once in `home` (a prompt answered by `home`'s stand-in) with a local plugin, so that it installs
 * `@opencode-ai/plugin` into the config folder: OpenCode's slowest start (23 s more here under load), which every later
 * start there skips; two OpenCode processes starting at once in a fresh config folder both install it (one may exit
 * 1). Rejects when the run fails.
 */
export const installPluginRuntime = async (home: OpencodeHome): Promise<void> => {
  const plugin = join(home.root, 'warm-up-plugin.js');
  writeFileSync(plugin, 'export const WarmUp = async () => ({});\n');
  const run = await runOpencode(['run', '--format', 'json', 'warm up'], { cwd: home.root, home, env: { OPENCODE_CONFIG_CONTENT: JSON.stringify({ plugin: [`file://${plugin}`] }) }, timeoutMs: 240_000 });
  if (run.code !== 0) throw new Error(`OpenCode's warm-up run exited ${run.code}: ${run.stderr.slice(-2000)}`);
};

/** One line of `opencode run --format json` (step_start, tool_use, step_finish, text, error). */
export type OpencodeJsonEvent = Record<string, any> & { type: string; sessionID?: string };

/** Outcome of one CLI run. */
export interface OpencodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  events: OpencodeJsonEvent[];
  /** The OpenCode session id of the run (its events' `sessionID`), if any line named one. */
  sessionId?: string;
}

const parseLines = (stdout: string): OpencodeJsonEvent[] =>
  stdout.split('\n').flatMap((line) => {
    try {
      const event = JSON.parse(line) as OpencodeJsonEvent;
      return typeof event?.type === 'string' ? [event] : [];
    } catch {
      return [];
    }
  });

/** Runs the real `opencode` with `args` in `cwd` under `home`'s env (plus `env`) to completion; SIGKILLs it after `timeoutMs` (default 120 000). */
export const runOpencode = async (args: string[], options: { cwd: string; home: OpencodeHome; env?: Record<string, string>; timeoutMs?: number }): Promise<OpencodeRun> => {
  // PWD too: OpenCode takes its project folder from PWD before its cwd.
  const run = await runToCompletion(OPENCODE_BIN, args, { cwd: options.cwd, env: { ...process.env, ...options.home.env, PWD: options.cwd, ...(options.env ?? {}) }, timeoutMs: options.timeoutMs ?? 120_000 });
  const events = parseLines(run.stdout);
  return { code: run.code, stdout: run.stdout, stderr: run.stderr, events, sessionId: events.find((e) => typeof e.sessionID === 'string')?.sessionID };
};

/** One call of OpenCode's record as OpenCode wrote it (see eventTableCalls). */
export interface RecordedCall {
  callId: string;
  tool: string;
  /** `completed` (a bash exit code other than 0 counts as failed), `failed` (state `error`), undefined while pending/running. */
  status?: 'completed' | 'failed';
  exitCode?: number;
}

/** The `select` of OpenCode session `sessionId`'s tool part updates in its `event` table, in `seq` order. */
const toolPartsSelect = (sessionId: string): string =>
  `select seq, data from event where aggregate_id = '${sessionId.replace(/'/g, "''")}' and type = 'message.part.updated.1' order by seq`;

/** The tool calls of `event` rows (`data` as stored), without runledger's parser: per `callID` the last `tool` part state. */
const callsOfEventRows = (rows: Array<{ data: string }>): RecordedCall[] => {
  const calls = new Map<string, RecordedCall>();
  for (const row of rows) {
    const part = JSON.parse(row.data).part;
    if (part?.type !== 'tool') continue;
    const state = part.state ?? {};
    const exit = state.metadata?.exit;
    const status = state.status === 'completed' ? (typeof exit === 'number' && exit !== 0 ? 'failed' : 'completed') : state.status === 'error' ? 'failed' : undefined;
    calls.set(part.callID, { callId: part.callID, tool: part.tool, ...(status ? { status } : {}), ...(typeof exit === 'number' ? { exitCode: exit } : {}) });
  }
  return [...calls.values()];
};

/**
 * The tool calls of OpenCode session `sessionId` as its `event` table holds them, read with OpenCode's own `opencode db`
 * and without runledger's parser: per `callID` the last `tool` part state in `seq` order. Rejects when the read fails.
 */
export const eventTableCalls = (home: OpencodeHome, sessionId: string): Promise<RecordedCall[]> =>
  new Promise((done, fail) => {
    execFile(OPENCODE_BIN, ['db', '--pure', '--format', 'json', toolPartsSelect(sessionId)], { env: { ...process.env, ...home.env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error) return fail(error);
      done(callsOfEventRows(JSON.parse(String(stdout) || '[]') as Array<{ data: string }>));
    });
  });

/**
 * eventTableCalls read at once with the machine's `sqlite3` shell (`-readonly`, 0.02 s, WAL included) from the database
 * file `database`, for checks that read often; throws when the shell fails (no such file, no sqlite3 on the PATH).
 */
export const eventTableCallsNow = (database: string, sessionId: string): RecordedCall[] =>
  callsOfEventRows(JSON.parse(execFileSync('sqlite3', ['-json', '-readonly', database, toolPartsSelect(sessionId)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] }) || '[]') as Array<{ data: string }>);
