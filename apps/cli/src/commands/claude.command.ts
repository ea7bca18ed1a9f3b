import { Command } from 'commander';
import { HOOK_SCOPES, HookScope, installedHooks, installedTelemetry, installHooks, settingsFileOf, uninstallHooks } from '../claude/install-hooks';
import { AgentHooksFiles, registerAgentHooksCommand } from './agent-hooks.command';

/** Claude Code's settings files for flight-recorder mode (`runledger claude …`). */
export const CLAUDE_HOOKS_FILES: AgentHooksFiles = {
  command: 'claude',
  label: 'Claude Code',
  executable: 'claude',
  scopes: HOOK_SCOPES,
  defaultScope: 'local',
  scopeHelp: 'which Claude Code settings file: user (~/.claude/settings.json), project (.claude/settings.json), local (.claude/settings.local.json)',
  fileOf: (scope, repo) => settingsFileOf(scope as HookScope, repo),
  hooksFor: installedHooks,
  install: (file, ours, scope, repo, telemetry) => installHooks(file, ours, new Date(), telemetry && installedTelemetry(telemetry, scope === 'user' ? undefined : repo)),
  telemetry: true,
  uninstall: uninstallHooks,
  ownsSession: (s) => s.agent === 'claude-code' || (s.agent === 'external' && (s.observedAgent ?? 'claude-code') === 'claude-code'),
  remote: true,
};

/** `runledger claude install-hooks|uninstall-hooks|status`: flight-recorder mode for Claude Code sessions started by hand. */
export const registerClaudeCommand = (program: Command): void => registerAgentHooksCommand(program, CLAUDE_HOOKS_FILES);
