import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../client/client-errors';
import {
  CODEX_HOOK_SCOPES, CodexHookScope, codexHomeDir, codexHooksFileOf, codexInstalledHooks, installCodexHooks, uninstallCodexHooks,
} from '../codex/codex-hooks-file';
import { AgentHooksFiles, registerAgentHooksCommand } from './agent-hooks.command';

/**
 * Throws UsageError unless Codex trusts the project `repo` (`[projects."<repo>"] trust_level = "trusted"` in
 * config.toml): Codex ignores a repository's `.codex/hooks.json` otherwise, and install-hooks does not change whom
 * the user trusts.
 */
const requireTrustedProject = (repo: string): void => {
  const config = path.join(codexHomeDir(), 'config.toml');
  const text = existsSync(config) ? readFileSync(config, 'utf8') : '';
  const table = text.indexOf(`[projects.${JSON.stringify(repo)}]`);
  const trusted = table >= 0 && /^\s*trust_level\s*=\s*"trusted"\s*$/m.test(text.slice(table).split(/\n\[/)[0] ?? '');
  if (!trusted) {
    throw new UsageError(`Codex does not trust ${repo}, so it would skip its .codex/hooks.json: trust it in Codex first (codex in that folder asks), or use --scope user`);
  }
};

/** Codex's hooks files for flight-recorder mode (`runledger codex …`): hooks.json, each handler trusted in config.toml. */
export const CODEX_HOOKS_FILES: AgentHooksFiles = {
  command: 'codex',
  label: 'Codex',
  executable: 'codex',
  scopes: CODEX_HOOK_SCOPES,
  defaultScope: 'user',
  scopeHelp: 'which Codex hooks file: user ($CODEX_HOME/hooks.json, default ~/.codex/hooks.json), project (<repo>/.codex/hooks.json)',
  fileOf: (scope, repo) => codexHooksFileOf(scope as CodexHookScope, repo),
  hooksFor: codexInstalledHooks,
  install: (file, ours, scope, repo) => {
    if (scope === 'project' && repo) requireTrustedProject(repo);
    return installCodexHooks(file, ours);
  },
  uninstall: (file) => uninstallCodexHooks(file),
  ownsSession: (s) => s.agent === 'codex' || (s.agent === 'external' && s.observedAgent === 'codex'),
  remote: true,
};

/** `runledger codex install-hooks|uninstall-hooks|status`: flight-recorder mode for Codex runs started by hand. */
export const registerCodexCommand = (program: Command): void => registerAgentHooksCommand(program, CODEX_HOOKS_FILES);
