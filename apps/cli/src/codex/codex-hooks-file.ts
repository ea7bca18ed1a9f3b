import { existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { CODEX_HOOK_EVENTS } from '@runledger/application/agents/codex/codex.adapter';
import { HookGroup, hookTrustToml } from '@runledger/application/agents/codex/hook-trust';
import { DEFAULT_HOOK_HOLD_SECONDS, HOOK_TIMEOUT_MARGIN_SECONDS, hookCommand } from '@runledger/application/agents/hook-runner';
import { UsageError } from '../client/client-errors';
import { isInstalledHook } from '../claude/claude-settings';
import { installedHookCommand, InstalledHookTarget, installHooks, SettingsChange, uninstallHooks } from '../claude/install-hooks';

/** Where a Codex hooks file lives: the user's (`$CODEX_HOME/hooks.json`) or a repository's (`<repo>/.codex/hooks.json`). */
export type CodexHookScope = 'user' | 'project';

/** Every scope `runledger codex … --scope` accepts. */
export const CODEX_HOOK_SCOPES: readonly CodexHookScope[] = ['user', 'project'];

/** Codex's home: CODEX_HOME, else `~/.codex`. */
export const codexHomeDir = (env: NodeJS.ProcessEnv = process.env): string => env.CODEX_HOME || path.join(env.HOME || homedir(), '.codex');

/** The hooks file of `scope`; throws UsageError for `project` without a repository. */
export const codexHooksFileOf = (scope: CodexHookScope, repo: string | undefined, env: NodeJS.ProcessEnv = process.env): string => {
  if (scope === 'user') return path.join(codexHomeDir(env), 'hooks.json');
  if (!repo) throw new UsageError('--scope project needs a repository');
  return path.join(repo, '.codex', 'hooks.json');
};

/**
 * The hooks of a flight-recorder installation for Codex: one group per event Codex runs (no matcher: every tool), its
 * command `<runner> codex --event <E> …` wrapped by installedHookCommand (records only in the project's repositories,
 * never inside a session runledger launched), its timeout the hold plus 30 s.
 */
export const codexInstalledHooks = (target: InstalledHookTarget): Record<string, HookGroup[]> => {
  const timeout = (target.hookHoldSeconds ?? DEFAULT_HOOK_HOLD_SECONDS) + HOOK_TIMEOUT_MARGIN_SECONDS;
  const request = { url: target.url, runner: target.runner, hookFailure: target.hookFailure, hookHoldSeconds: target.hookHoldSeconds, ...(target.remote ? { remote: target.remote } : {}) };
  return Object.fromEntries(
    CODEX_HOOK_EVENTS.map((event) => [event, [{ hooks: [{ type: 'command', command: installedHookCommand(hookCommand('codex', event, request), target), timeout }] }]]),
  );
};

const BEGIN = '# >>> runledger install-hooks: trust of runledger\'s Codex hooks (runledger codex uninstall-hooks removes it) >>>';
const BEGIN_AFTER_NEWLINE = `${BEGIN} (a newline was added before it)`;
const END = '# <<< runledger install-hooks <<<';

/** `text` (a config.toml) without the trust block install-hooks appended, byte for byte as it was before (the newline it added too). */
export const withoutTrustBlock = (text: string): string => {
  const start = text.indexOf(`${BEGIN}`);
  if (start < 0) return text;
  const end = text.indexOf(`${END}\n`, start);
  if (end < 0) throw new UsageError(`config.toml holds the start of runledger's trust block but not its end (${END}): fix it by hand, nothing was changed`);
  const addedNewline = text.startsWith(BEGIN_AFTER_NEWLINE, start);
  const before = text.slice(0, start);
  return (addedNewline ? before.slice(0, -1) : before) + text.slice(end + END.length + 1);
};

/** `text` with `tables` (TOML) as runledger's trust block at its end, replacing an earlier one; `text` itself when there is nothing to trust. */
export const withTrustBlock = (text: string, tables: string): string => {
  const base = withoutTrustBlock(text);
  if (!tables) return base;
  const needsNewline = base !== '' && !base.endsWith('\n');
  return `${base}${needsNewline ? '\n' : ''}${needsNewline ? BEGIN_AFTER_NEWLINE : BEGIN}\n${tables}${END}\n`;
};

/** Replaces `file` with `text` atomically, keeping its mode (0600 for a new file). */
const writeConfig = (file: string, text: string): void => {
  const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o600;
  const tmp = `${file}.runledger-tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
};

/** Codex's config.toml beside `$CODEX_HOME`. */
const configFile = (env: NodeJS.ProcessEnv): string => path.join(codexHomeDir(env), 'config.toml');

/**
 * Installs runledger's hooks into the Codex hooks file `file` (merged, the user's hooks kept, the old file backed up:
 * installHooks) and trusts exactly those handlers in `$CODEX_HOME/config.toml` (a marked block at its end), so Codex
 * runs them without a prompt. Throws UsageError when a file is not what it should be (nothing changed then).
 */
export const installCodexHooks = (file: string, ours: Record<string, HookGroup[]>, env: NodeJS.ProcessEnv = process.env): SettingsChange => {
  const config = configFile(env);
  const before = existsSync(config) ? readFileSync(config, 'utf8') : '';
  withoutTrustBlock(before); // refuse a broken block before touching anything
  const change = installHooks(file, ours);
  const written = JSON.parse(readFileSync(file, 'utf8')) as { hooks: Record<string, HookGroup[]> };
  const tables = hookTrustToml(path.resolve(file), written.hooks, isInstalledHook);
  const after = withTrustBlock(before, tables);
  if (after !== before) writeConfig(config, after);
  return change;
};

/**
 * Removes what installCodexHooks added: runledger's hooks from `file` (restored byte for byte when nothing else changed:
 * uninstallHooks) and the trust block from config.toml (the file deleted when install-hooks created it and nothing else
 * is in it). Throws UsageError when a file is not what it should be.
 */
export const uninstallCodexHooks = (file: string, env: NodeJS.ProcessEnv = process.env): SettingsChange => {
  const config = configFile(env);
  const change = uninstallHooks(file);
  if (existsSync(config)) {
    const text = readFileSync(config, 'utf8');
    const rest = withoutTrustBlock(text);
    if (rest !== text) rest === '' ? unlinkSync(config) : writeConfig(config, rest);
  }
  return change;
};
