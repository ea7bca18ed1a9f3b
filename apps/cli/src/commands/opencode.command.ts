import { Command } from 'commander';
import {
  inspectOpencodePlugin, installedPluginSource, installOpencodePlugin, OPENCODE_HOOK_SCOPES, OpencodeHookScope, opencodePluginFileOf, uninstallOpencodePlugin,
} from '../opencode/opencode-plugin-file';
import { AgentHooksFiles, registerAgentHooksCommand } from './agent-hooks.command';

/** OpenCode's plugin folders for flight-recorder mode (`runledger opencode …`): runledger's plugin, its settings baked in. */
export const OPENCODE_HOOKS_FILES: AgentHooksFiles<string> = {
  command: 'opencode',
  label: 'OpenCode',
  executable: 'opencode',
  scopes: OPENCODE_HOOK_SCOPES,
  defaultScope: 'user',
  scopeHelp: 'which OpenCode plugin folder: user ($XDG_CONFIG_HOME/opencode/plugins, default ~/.config/opencode/plugins), project (<repo>/.opencode/plugins)',
  fileOf: (scope, repo) => opencodePluginFileOf(scope as OpencodeHookScope, repo),
  hooksFor: (target) => installedPluginSource(target),
  install: (file, source) => installOpencodePlugin(file, source),
  uninstall: (file) => uninstallOpencodePlugin(file),
  inspect: inspectOpencodePlugin,
  ownsSession: (s) => s.agent === 'opencode' || (s.agent === 'external' && s.observedAgent === 'opencode'),
};

/** `runledger opencode install-hooks|uninstall-hooks|status`: flight-recorder mode for OpenCode runs started by hand. */
export const registerOpencodeCommand = (program: Command): void => registerAgentHooksCommand(program, OPENCODE_HOOKS_FILES);
