import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { opencodePluginFile } from '@runledger/application/agents/opencode/opencode.adapter';
import { UsageError } from '../client/client-errors';
import { InstalledHookTarget, SettingsChange } from '../claude/install-hooks';

/*
 * OpenCode's flight-recorder mode (docs/ARCHITECTURE.md §4d): runledger's plugin (bin/runledger-opencode-plugin.js) copied
 * into a folder OpenCode loads plugins from, with its settings baked into its INSTALLED line. OpenCode has no hooks file
 * to merge into: the plugin is a file of runledger's own, so install writes it (refusing to replace a file that is not
 * runledger's) and uninstall deletes it, and the folders install created if they are left empty.
 */

/** The scopes: `user` (`$XDG_CONFIG_HOME/opencode/plugins/`, default ~/.config) and `project` (`<repo>/.opencode/plugins/`). */
export const OPENCODE_HOOK_SCOPES = ['user', 'project'] as const;

/** One of OPENCODE_HOOK_SCOPES. */
export type OpencodeHookScope = (typeof OPENCODE_HOOK_SCOPES)[number];

/** The first line of an installed plugin: how runledger knows the file is its own. */
export const INSTALLED_PLUGIN_MARKER = '// runledger opencode install-hooks: remove with `runledger opencode uninstall-hooks`';

/** The plugin template's settings line, replaced by the installed settings. */
const TEMPLATE_LINE = 'const INSTALLED = null;';

/** The file name of the installed plugin. */
export const INSTALLED_PLUGIN_NAME = 'runledger.js';

/** OpenCode's user config folder: `$XDG_CONFIG_HOME/opencode`, default `~/.config/opencode`. */
export const opencodeConfigDir = (env: NodeJS.ProcessEnv = process.env): string =>
  path.join(env.XDG_CONFIG_HOME || path.join(env.HOME || '', '.config'), 'opencode');

/** The plugin file of `scope` (repo: the repository, for `project`); throws UsageError when `project` has no repository. */
export const opencodePluginFileOf = (scope: OpencodeHookScope, repo: string | undefined, env: NodeJS.ProcessEnv = process.env): string => {
  if (scope === 'user') return path.join(opencodeConfigDir(env), 'plugins', INSTALLED_PLUGIN_NAME);
  if (!repo) throw new UsageError(`--scope ${scope} needs a repository`);
  return path.join(repo, '.opencode', 'plugins', INSTALLED_PLUGIN_NAME);
};

/**
 * The installed plugin's text: the marker line, then bin/runledger-opencode-plugin.js with its INSTALLED line holding
 * `{url, dataDir?, roots, hookHoldSeconds?, hookFailure?}` of `target`. Throws Error when the template lacks that line.
 */
export const installedPluginSource = (target: InstalledHookTarget, template: string = readFileSync(opencodePluginFile(), 'utf8')): string => {
  if (!template.includes(TEMPLATE_LINE)) throw new Error(`${opencodePluginFile()} has no line \`${TEMPLATE_LINE}\` to install settings into`);
  if (target.roots.length === 0) throw new UsageError('no repository to record: register a project first (runledger project add)');
  const settings = {
    url: target.url, roots: target.roots,
    ...(target.dataDir ? { dataDir: target.dataDir } : {}),
    ...(target.hookHoldSeconds !== undefined ? { hookHoldSeconds: target.hookHoldSeconds } : {}),
    ...(target.hookFailure ? { hookFailure: target.hookFailure } : {}),
  };
  return `${INSTALLED_PLUGIN_MARKER}\n${template.replace(TEMPLATE_LINE, `const INSTALLED = ${JSON.stringify(settings)};`)}`;
};

const isOurs = (file: string): boolean => readFileSync(file, 'utf8').startsWith(INSTALLED_PLUGIN_MARKER);

/**
 * Writes the plugin `source` to `file` (through a temporary file and a rename; its folders created as needed): `installed`
 * when there was none, `updated` when runledger's differed, `unchanged` when equal. Throws UsageError, changing nothing,
 * when `file` exists and is not runledger's.
 */
export const installOpencodePlugin = (file: string, source: string): SettingsChange => {
  const existed = existsSync(file);
  if (existed && !isOurs(file)) throw new UsageError(`${file} exists and is not runledger's plugin: move it away first, nothing was changed`);
  if (existed && readFileSync(file, 'utf8') === source) return { file, action: 'unchanged' };
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.runledger-tmp-${process.pid}`;
  writeFileSync(tmp, source, { mode: 0o644 });
  renameSync(tmp, file);
  return { file, action: existed ? 'updated' : 'installed' };
};

/**
 * Deletes runledger's plugin at `file`, then its `plugins/` folder and (project scope) `.opencode/` when they are left
 * empty: `removed-file`, or `not-installed` when there is none. Throws UsageError when `file` is not runledger's.
 */
export const uninstallOpencodePlugin = (file: string): SettingsChange => {
  if (!existsSync(file)) return { file, action: 'not-installed' };
  if (!isOurs(file)) throw new UsageError(`${file} is not runledger's plugin: nothing was changed`);
  unlinkSync(file);
  const plugins = path.dirname(file);
  for (const dir of [plugins, ...(path.basename(path.dirname(plugins)) === '.opencode' ? [path.dirname(plugins)] : [])]) {
    if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
  }
  return { file, action: 'removed-file' };
};

/** Whether `file` is runledger's installed plugin (`runner: plugin`). */
export const inspectOpencodePlugin = (file: string): { installed: boolean; runner?: 'plugin' } =>
  existsSync(file) && isOurs(file) ? { installed: true, runner: 'plugin' } : { installed: false };
