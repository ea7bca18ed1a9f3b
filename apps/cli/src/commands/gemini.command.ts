import { Command } from 'commander';
import { GEMINI_HOOK_SCOPES, GeminiHookScope, geminiInstalledHooks, geminiSettingsFileOf } from '../gemini/gemini-hooks-file';
import { AgentHooksFiles, registerAgentHooksCommand, SETTINGS_JSON_HOOKS } from './agent-hooks.command';

/** Gemini CLI's settings files for flight-recorder mode (`runledger gemini …`): its `hooks`, merged like Claude Code's settings. */
export const GEMINI_HOOKS_FILES: AgentHooksFiles = {
  command: 'gemini',
  label: 'Gemini CLI',
  executable: 'gemini',
  scopes: GEMINI_HOOK_SCOPES,
  defaultScope: 'user',
  scopeHelp: 'which Gemini CLI settings file: user ($GEMINI_CLI_HOME/.gemini/settings.json, default ~/.gemini/settings.json), project (<repo>/.gemini/settings.json)',
  fileOf: (scope, repo) => geminiSettingsFileOf(scope as GeminiHookScope, repo),
  hooksFor: geminiInstalledHooks,
  ...SETTINGS_JSON_HOOKS,
  ownsSession: (s) => s.agent === 'gemini-cli' || (s.agent === 'external' && s.observedAgent === 'gemini-cli'),
};

/** `runledger gemini install-hooks|uninstall-hooks|status`: flight-recorder mode for Gemini CLI runs started by hand. */
export const registerGeminiCommand = (program: Command): void => registerAgentHooksCommand(program, GEMINI_HOOKS_FILES);
