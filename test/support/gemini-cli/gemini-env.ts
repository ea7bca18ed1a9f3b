import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeWithAgent } from '../describe-with-agent';

/*
 * Driving the real Gemini CLI (devDependency @google/gemini-cli 0.61.0) offline against the Gemini API stand-in
 * (fake-gemini-api.ts). Facts behind these helpers: test/support/gemini-cli/README.md.
 */

/** The real Gemini CLI of the devDependency `@google/gemini-cli`. */
export const GEMINI_BIN = resolve(__dirname, '../../../node_modules/.bin/gemini');

/** Null when the real CLI can run here, else why not. */
export const geminiUnavailable = (): string | null =>
  existsSync(GEMINI_BIN) ? null : `the Gemini CLI is not installed at ${GEMINI_BIN} (npm install installs @google/gemini-cli)`;

/** `describe` for suites that drive the real Gemini CLI (skipped with the reason when missing; failing under CI=true). */
export const describeWithGemini = (title: string, body: () => void): void => describeWithAgent('Gemini CLI', geminiUnavailable(), title, body);

/** A HOME of the test's own whose `.gemini/settings.json` selects the API key (offline), and the env pointing the CLI at the stand-in. */
export interface GeminiHome {
  home: string;
  /** HOME, GOOGLE_GEMINI_BASE_URL, GEMINI_API_KEY, RUNLEDGER_GEMINI_BIN: for the CLI, or a runledger server that launches it. */
  env: Record<string, string>;
}

/**
 * Creates `<dir>/.gemini/settings.json`: API-key auth (without it the base URL alone selects a gateway auth headless mode
 * refuses), no usage statistics (else it looks up a telemetry host), telemetry and auto-update off.
 */
export const prepareGeminiHome = (dir: string, apiUrl: string): GeminiHome => {
  mkdirSync(join(dir, '.gemini'), { recursive: true });
  const settings = {
    security: { auth: { selectedType: 'gemini-api-key' } },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    general: { enableAutoUpdate: false },
  };
  writeFileSync(join(dir, '.gemini', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  return { home: dir, env: { HOME: dir, GOOGLE_GEMINI_BASE_URL: apiUrl, GEMINI_API_KEY: 'standin-key', RUNLEDGER_GEMINI_BIN: GEMINI_BIN } };
};

/** One tool call as the chat file holds it, read independently of runledger's parser: id, tool, input, status, exit code. */
export interface ChatCall {
  id: string;
  tool: string;
  input: unknown;
  status: 'completed' | 'failed';
  exitCode?: number;
}

/** The tool calls of a chat file in order (the last record of each message id counts; `Exit Code: N ≠ 0` or status error is failed). */
export const chatCalls = (file: string): ChatCall[] => {
  const messages = new Map<string, Record<string, any>>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as Record<string, any>;
    if (typeof record.id === 'string' && record.type) messages.set(record.id, record);
  }
  return [...messages.values()].flatMap((m) =>
    (m.toolCalls ?? []).map((call: Record<string, any>) => {
      const text = JSON.stringify(call.result ?? '');
      const code = /Exit Code: (-?\d+)/.exec(text);
      const exitCode = code ? Number(code[1]) : undefined;
      const failed = call.status !== 'success' || (exitCode !== undefined && exitCode !== 0);
      return { id: call.id, tool: call.name, input: call.args, status: failed ? 'failed' : 'completed', ...(exitCode !== undefined && exitCode !== 0 ? { exitCode } : {}) } as ChatCall;
    }),
  );
};

/** Runs the real Gemini CLI by hand (`gemini -p <prompt> --yolo -o stream-json`) in `cwd` with the home's env (workspace trusted) and `env` over it; its exit code, stream-json events and stderr. */
export const runGemini = (prompt: string, options: { cwd: string; home: GeminiHome; env?: Record<string, string> }): Promise<{ code: number | null; events: Array<Record<string, any>>; stderr: string }> =>
  new Promise((resolvePromise) => {
    const child = spawn(GEMINI_BIN, ['-p', prompt, '--yolo', '-o', 'stream-json'], {
      cwd: options.cwd,
      // PWD as a person's shell sets it: Gemini hands its hooks its own environment, and their shell keeps an inherited
      // PWD (measured: the test runner's folder), which the installed hooks' repository check reads.
      env: { ...process.env, ...options.home.env, GEMINI_CLI_TRUST_WORKSPACE: 'true', PWD: options.cwd, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('exit', (code) => {
      const events = stdout.split('\n').flatMap((line) => {
        try {
          return line.trim() ? [JSON.parse(line) as Record<string, any>] : [];
        } catch {
          return [];
        }
      });
      resolvePromise({ code, events, stderr });
    });
  });
