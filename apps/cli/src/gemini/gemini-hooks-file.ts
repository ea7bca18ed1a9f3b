import { homedir } from 'node:os';
import * as path from 'node:path';
import { GeminiHookGroup, geminiHooks } from '@runledger/application/agents/gemini-cli/gemini-cli.adapter';
import { UsageError } from '../client/client-errors';
import { installedHookCommand, InstalledHookTarget } from '../claude/install-hooks';

/** Where a Gemini CLI settings file lives: the user's (`$GEMINI_CLI_HOME/.gemini/settings.json`) or a repository's (`<repo>/.gemini/settings.json`). */
export type GeminiHookScope = 'user' | 'project';

/** Every scope `runledger gemini … --scope` accepts. */
export const GEMINI_HOOK_SCOPES: readonly GeminiHookScope[] = ['user', 'project'];

/** Gemini CLI's home (the folder holding `.gemini`): GEMINI_CLI_HOME, else HOME. */
export const geminiHomeDir = (env: NodeJS.ProcessEnv = process.env): string => env.GEMINI_CLI_HOME || env.HOME || homedir();

/** The settings file of `scope`; throws UsageError for `project` without a repository. */
export const geminiSettingsFileOf = (scope: GeminiHookScope, repo: string | undefined, env: NodeJS.ProcessEnv = process.env): string => {
  if (scope === 'user') return path.join(geminiHomeDir(env), '.gemini', 'settings.json');
  if (!repo) throw new UsageError('--scope project needs a repository');
  return path.join(repo, '.gemini', 'settings.json');
};

/**
 * The hooks of a flight-recorder installation for Gemini CLI: the hooks a launch gets (geminiHooks), without a session,
 * each command wrapped by installedHookCommand (records only in the project's repositories, never inside a session
 * runledger launched).
 */
export const geminiInstalledHooks = (target: InstalledHookTarget): Record<string, GeminiHookGroup[]> =>
  geminiHooks(
    { url: target.url, runner: target.runner, hookFailure: target.hookFailure, hookHoldSeconds: target.hookHoldSeconds },
    (command) => installedHookCommand(command, target),
  );
