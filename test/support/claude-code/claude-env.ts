import { describeWithAgent } from '../describe-with-agent';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The real Claude Code CLI of the devDependency `@anthropic-ai/claude-code` (a native binary). */
export const CLAUDE_BIN = resolve(__dirname, '../../../node_modules/.bin/claude');

/** Null when the real CLI can run here, else why not (suites skip with it, except under CI=true where that fails). */
export const claudeUnavailable = (): string | null =>
  existsSync(CLAUDE_BIN) ? null : `the Claude Code CLI is not installed at ${CLAUDE_BIN} (npm install installs @anthropic-ai/claude-code)`;

/**
 * `describe` for suites that drive the real Claude Code CLI: skipped with the reason printed when the binary is missing,
 * and a failing suite instead under CI=true (CI must run them).
 */
export const describeWithClaude = (title: string, body: () => void): void => describeWithAgent('Claude Code', claudeUnavailable(), title, body);

/** A HOME of the test's own for Claude Code, and the environment that points the CLI at a Messages API stand-in. */
export interface ClaudeHome {
  /** `$HOME` of the CLI (holds `.claude.json` and `.claude/projects/...` transcripts). */
  home: string;
  /** Env for the CLI, or for a runledger server that launches it (includes RUNLEDGER_CLAUDE_BIN). */
  env: Record<string, string>;
}

/** Options of prepareClaudeHome. */
export interface ClaudeHomeOptions {
  /** Base URL of the Messages API stand-in (startFakeAnthropicApi().url). */
  apiUrl: string;
  /** Folders the CLI may run in without the trust dialog (matters for interactive runs only). */
  trustedDirs?: string[];
  /** Interactive runs (tmux, no `-p`): the key goes in ANTHROPIC_AUTH_TOKEN, since ANTHROPIC_API_KEY stops at a "use this API key?" dialog. */
  interactive?: boolean;
}

/**
 * Creates `<dir>` as Claude Code's HOME: `.claude.json` with onboarding done (and `trustedDirs` trusted), and returns the
 * env that keeps the CLI off the network (docs/ARCHITECTURE.md §7: ANTHROPIC_BASE_URL, a dummy key, no telemetry, no
 * autoupdater, no nonessential traffic, a dummy key as ANTHROPIC_API_KEY, or ANTHROPIC_AUTH_TOKEN when `interactive`).
 */
export const prepareClaudeHome = (dir: string, options: ClaudeHomeOptions): ClaudeHome => {
  mkdirSync(join(dir, '.claude'), { recursive: true });
  const projects = Object.fromEntries((options.trustedDirs ?? []).map((d) => [d, { hasTrustDialogAccepted: true }]));
  writeFileSync(join(dir, '.claude.json'), `${JSON.stringify({ hasCompletedOnboarding: true, projects }, null, 2)}\n`);
  return {
    home: dir,
    env: {
      HOME: dir,
      ANTHROPIC_BASE_URL: options.apiUrl,
      [options.interactive ? 'ANTHROPIC_AUTH_TOKEN' : 'ANTHROPIC_API_KEY']: 'sk-ant-test-stand-in',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_ERROR_REPORTING: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      RUNLEDGER_CLAUDE_BIN: CLAUDE_BIN,
    },
  };
};

/** The folder of Claude Code transcripts for `cwd`: `$HOME/.claude/projects/<cwd, every non-alphanumeric → '-'>`. */
export const transcriptDir = (home: string, cwd: string): string => join(home, '.claude', 'projects', cwd.replace(/[^a-zA-Z0-9]/g, '-'));

/** Every main transcript (`<session id>.jsonl`) Claude Code wrote for `cwd`; empty when none. */
export const transcriptsOf = (home: string, cwd: string): string[] => {
  const dir = transcriptDir(home, cwd);
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => join(dir, f)) : [];
};

/** The sub-agent transcripts Claude Code wrote beside `transcript` (`<name>/subagents/*.jsonl`), sorted; empty when none. */
export const subagentFiles = (transcript: string): string[] => {
  const dir = join(transcript.replace(/\.jsonl$/, ''), 'subagents');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(dir, f)) : [];
};

/** The lines of a transcript JSONL file, parsed. */
export const readTranscript = (file: string): Array<Record<string, any>> =>
  readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, any>);

/** tool_use blocks of a transcript's assistant lines, in order: id, tool name, input. */
export const transcriptToolUses = (file: string): Array<{ id: string; name: string; input: unknown }> =>
  readTranscript(file)
    .filter((l) => l.type === 'assistant' && Array.isArray(l.message?.content))
    .flatMap((l) => (l.message.content as Array<Record<string, any>>).filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id, name: b.name, input: b.input })));

/** Outcome of one CLI run. */
export interface ClaudeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `claude` with `args` in `cwd` under `home`'s env (plus `env`) to completion; kills it after `timeoutMs`. */
export const runClaude = (args: string[], options: { cwd: string; home: ClaudeHome; env?: Record<string, string>; timeoutMs?: number }): Promise<ClaudeRun> =>
  new Promise((done) => {
    const child = spawn(CLAUDE_BIN, args, { cwd: options.cwd, env: { ...process.env, ...options.home.env, ...(options.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
