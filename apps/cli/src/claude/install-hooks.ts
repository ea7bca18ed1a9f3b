import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import type { ProjectHookSettings } from '@runledger/domain';
import { claudeHookSettings } from '@runledger/application/agents/claude-code/hook-settings';
import { HookRunner, RemoteRecording, shellQuote } from '@runledger/application/agents/hook-runner';
import { CLAUDE_TELEMETRY_ENV_KEYS, claudeTelemetryEnv } from '@runledger/application/agents/claude-code/telemetry-env';
import { UsageError } from '../client/client-errors';
import {
  ClaudeSettingsFile, hasInstalledHooks, INSTALLED_HOOK_MARKER, MatcherGroup, sameSettings, SettingsTelemetry, withInstalledHooks, withInstalledTelemetry,
  withoutInstalledHooks, withoutInstalledTelemetry,
} from './claude-settings';

/** Where a Claude Code settings file lives: the user's, a repository's shared one, or a repository's personal one. */
export type HookScope = 'user' | 'project' | 'local';

/** Every scope `--scope` accepts. */
export const HOOK_SCOPES: readonly HookScope[] = ['user', 'project', 'local'];

/** Suffix of the copy of a settings file taken before install-hooks first changed it, followed by a UTC time stamp. */
export const BACKUP_SUFFIX = '.runledger-backup-';

/** Claude Code's configuration folder: CLAUDE_CONFIG_DIR, else `~/.claude`. */
export const claudeConfigDir = (env: NodeJS.ProcessEnv = process.env): string => env.CLAUDE_CONFIG_DIR || path.join(env.HOME || homedir(), '.claude');

/** The settings file of `scope`: `<config dir>/settings.json`, `<repo>/.claude/settings.json` or `<repo>/.claude/settings.local.json`. */
export const settingsFileOf = (scope: HookScope, repo: string | undefined, env: NodeJS.ProcessEnv = process.env): string => {
  if (scope === 'user') return path.join(claudeConfigDir(env), 'settings.json');
  if (!repo) throw new UsageError(`--scope ${scope} needs a repository`);
  return path.join(repo, '.claude', scope === 'project' ? 'settings.json' : 'settings.local.json');
};

/** What the installed hook command needs: where runledger is, where its token file is, which folders it records. */
export interface InstalledHookTarget extends ProjectHookSettings {
  /** What runs each hook (hookRunner: the curl shim, or `runledger hook` where curl is missing). */
  runner: HookRunner;
  /** The server's origin, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** Folder of the server's token file, or undefined when the hook reads RUNLEDGER_TOKEN from Claude Code's environment. */
  dataDir?: string;
  /** Repository folders whose sessions are recorded; a Claude session started anywhere else is left alone. */
  roots: string[];
  /** A remote flight recorder (install-hooks --server, docs/ARCHITECTURE.md §4f): the project and token file the hooks name. */
  remote?: RemoteRecording;
}

/**
 * Wraps the hook command of a session-less hook (claudeHookSettings without a session) for installation: when Claude
 * Code runs it in one of `roots` (or below), and not inside a session runledger launched (which has hooks of its own),
 * it runs, with RUNLEDGER_DATA_DIR pointing at the server's token file (a remote recorder's hook names its token file
 * itself); anywhere else it exits 0 at once, so Claude
 * Code outside registered projects is unaffected. Ends with INSTALLED_HOOK_MARKER.
 */
export const installedHookCommand = (command: string, target: Pick<InstalledHookTarget, 'dataDir' | 'roots' | 'remote'>): string => {
  if (target.roots.length === 0) throw new UsageError('no repository to record: register a project first (runledger project add)');
  const run = `${target.dataDir ? `RUNLEDGER_DATA_DIR=${shellQuote(target.dataDir)} ` : ''}exec ${command}`;
  const patterns = target.roots.map((root) => `${shellQuote(`${root.replace(/\/+$/, '')}/`)}*`).join('|');
  return `case "$PWD/" in ${patterns}) [ -n "$RUNLEDGER_SESSION_ID" ] || ${run};; esac ${INSTALLED_HOOK_MARKER}`;
};

/** Events a remote flight recorder does not hook (docs/ARCHITECTURE.md §4f): worktree custody works on the server's disk only. */
export const REMOTE_UNHOOKED_EVENTS: readonly string[] = ['WorktreeCreate', 'WorktreeRemove'];

/**
 * The `hooks` of an installation: the settings runledger generates for every session (claudeHookSettings, command
 * transport, no session id), each command wrapped by installedHookCommand; a remote recorder's without
 * REMOTE_UNHOOKED_EVENTS.
 */
export const installedHooks = (target: InstalledHookTarget): Record<string, MatcherGroup[]> => {
  const { hooks } = claudeHookSettings({
    url: target.url, runner: target.runner, hookTransport: 'command',
    hookFailure: target.hookFailure, hookHoldSeconds: target.hookHoldSeconds, ...(target.remote ? { remote: target.remote } : {}),
  });
  return Object.fromEntries(
    Object.entries(hooks)
      // Worktree custody creates worktrees on the server's disk: a remote recorder's agent keeps creating its own.
      .filter(([event]) => !(target.remote && REMOTE_UNHOOKED_EVENTS.includes(event)))
      .map(([event, groups]) => [
        event,
        groups.map((group) => ({ ...group, hooks: group.hooks.map((hook) => ({ ...hook, command: installedHookCommand(String(hook.command), target) })) })),
      ]),
  );
};

/**
 * The telemetry `install-hooks --telemetry` writes (docs/ARCHITECTURE.md §4g): Claude Code's OTLP logs to runledger's
 * `/api/v1/otlp/v1/logs`, the header from a helper that reads the token file (or RUNLEDGER_TOKEN) when Claude Code
 * starts, and for a repository's settings its folder as the resource attribute `runledger.cwd`, so a session whose hooks
 * never fired is still found by its project.
 */
export const installedTelemetry = (target: Pick<InstalledHookTarget, 'url' | 'dataDir' | 'remote'>, repo?: string): SettingsTelemetry => {
  const tokenFile = target.remote?.tokenFile ?? (target.dataDir ? path.join(target.dataDir, 'token') : undefined);
  const token = tokenFile ? `"$(cat ${shellQuote(tokenFile)})"` : '"$RUNLEDGER_TOKEN"';
  return {
    env: { ...claudeTelemetryEnv({ logsUrl: `${target.url}/api/v1/otlp/v1/logs` }), ...(repo ? { OTEL_RESOURCE_ATTRIBUTES: `runledger.cwd=${repo}` } : {}) },
    otelHeadersHelper: `printf '{"Authorization":"Bearer %s"}' ${token} ${INSTALLED_HOOK_MARKER}`,
  };
};

/** Outcome of installing into or uninstalling from one settings file. */
export interface SettingsChange {
  file: string;
  action: 'installed' | 'updated' | 'unchanged' | 'restored' | 'removed-file' | 'removed-hooks' | 'not-installed';
  /** The copy of the file as it was before the first install (kept until an exact restore). */
  backup?: string;
}

const readSettings = (file: string): { text: string; settings: ClaudeSettingsFile } | null => {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  try {
    const settings = JSON.parse(text) as unknown;
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) throw new Error('not a JSON object');
    return { text, settings: settings as ClaudeSettingsFile };
  } catch (error) {
    throw new UsageError(`${file} is not a JSON object (${(error as Error).message}): fix it first, nothing was changed`);
  }
};

/** Writes `text` to `file` through a temporary file and a rename (never a half-written settings file), keeping `mode`. */
const writeAtomically = (file: string, text: string, mode?: number): void => {
  const tmp = `${file}.runledger-tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: mode ?? 0o644 });
  renameSync(tmp, file);
};

/** The newest backup install-hooks took of `file`, if any. */
export const latestBackup = (file: string): string | undefined => {
  const dir = path.dirname(file);
  if (!existsSync(dir)) return undefined;
  const prefix = `${path.basename(file)}${BACKUP_SUFFIX}`;
  const backups = readdirSync(dir).filter((name) => name.startsWith(prefix)).sort();
  return backups.length ? path.join(dir, backups[backups.length - 1]) : undefined;
};

const stamp = (now: Date): string => now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/**
 * Merges runledger's hooks into the settings file (created with its folder when missing). Idempotent: the same hooks
 * again change nothing; changed ones replace runledger's earlier hooks. The file as it was before runledger's first
 * install is copied to `<file>.runledger-backup-<time>` first. The user's own keys and hooks are kept. With `telemetry`
 * (install-hooks --telemetry) its env entries and headers helper go in too; without, earlier ones come out. Throws
 * UsageError when the file is not a JSON object or already sets one of the telemetry variables otherwise.
 */
export const installHooks = (file: string, ours: Record<string, MatcherGroup[]>, now: Date = new Date(), telemetry?: SettingsTelemetry): SettingsChange => {
  const current = readSettings(file);
  const hooked = withInstalledHooks(current?.settings ?? {}, ours);
  let next: ClaudeSettingsFile;
  try {
    next = telemetry ? withInstalledTelemetry(hooked, telemetry) : withoutInstalledTelemetry(hooked, CLAUDE_TELEMETRY_ENV_KEYS);
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}; nothing was changed`);
  }
  if (current && sameSettings(next, current.settings)) return { file, action: 'unchanged', backup: latestBackup(file) };
  let backup = current ? latestBackup(file) : undefined;
  const firstInstall = !current || !hasInstalledHooks(current.settings);
  if (current && firstInstall) {
    backup = `${file}${BACKUP_SUFFIX}${stamp(now)}`;
    copyFileSync(file, backup);
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeAtomically(file, `${JSON.stringify(next, null, 2)}\n`, current ? statSync(file).mode & 0o777 : undefined);
  return { file, action: firstInstall ? 'installed' : 'updated', ...(backup ? { backup } : {}) };
};

/**
 * Removes exactly what installHooks added. When the rest equals the backup taken at install (nothing else changed
 * since), the backup's bytes are put back and the backup deleted; when there was no file before, the file (and its
 * folder, if left empty) is deleted. Otherwise only runledger's hooks are taken out, the user's later changes kept, and
 * the backup left in place. Throws UsageError when the file is not a JSON object.
 */
export const uninstallHooks = (file: string): SettingsChange => {
  const current = readSettings(file);
  if (!current || !hasInstalledHooks(current.settings)) return { file, action: 'not-installed' };
  const backup = latestBackup(file);
  const saved = backup ? readSettings(backup) : null;
  const rest = withoutInstalledTelemetry(withoutInstalledHooks(current.settings, saved?.settings), CLAUDE_TELEMETRY_ENV_KEYS, saved?.settings);
  if (backup) {
    if (saved && sameSettings(saved.settings, rest)) {
      copyFileSync(backup, file);
      unlinkSync(backup);
      return { file, action: 'restored' };
    }
  } else if (sameSettings(rest, {})) {
    unlinkSync(file);
    const dir = path.dirname(file);
    if (readdirSync(dir).length === 0) rmdirSync(dir);
    return { file, action: 'removed-file' };
  }
  writeAtomically(file, `${JSON.stringify(rest, null, 2)}\n`, statSync(file).mode & 0o777);
  return { file, action: 'removed-hooks', ...(backup ? { backup } : {}) };
};
