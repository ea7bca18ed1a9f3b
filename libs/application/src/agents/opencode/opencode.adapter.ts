import * as path from 'node:path';
import { Injectable } from '@nestjs/common';
import { DomainError } from '@runledger/domain';
import { parseOpencodeEvents } from '@runledger/infra/agents/opencode/event-parser';
import { mapOpencodeHook, OpencodeHookError } from '@runledger/infra/agents/opencode/hook-mapping';
import { readOpencodeEvents } from '@runledger/infra/agents/opencode/opencode-db';
import { AgentAdapter, AgentLaunch, AgentTranscript, HookDialect } from '../agent-adapter';
import { agentExecutable } from '../agent-executable';
import { DEFAULT_HOOK_HOLD_SECONDS, runledgerCommand } from '../hook-runner';

/** The flags of every OpenCode run runledger launches: one-shot `run`, JSON events on stdout (the session log). */
export const OPENCODE_RUN_FLAGS = ['--format', 'json'] as const;

/** The plugin file runledger ships (bin/runledger-opencode-plugin.js beside bin/runledger.js); throws when bin/ is not found. */
export const opencodePluginFile = (): string => path.join(path.dirname(runledgerCommand()[1]), 'runledger-opencode-plugin.js');

/**
 * `OPENCODE_CONFIG_CONTENT` with runledger's plugin added to the `plugin` list of `current` (the request's own value,
 * kept); throws DomainError SESSION.INVALID naming `env.OPENCODE_CONFIG_CONTENT` when that is not a JSON object.
 */
export const withRunledgerPlugin = (current: string | undefined, plugin: string): string => {
  let config: Record<string, unknown> = {};
  if (current) {
    try {
      const parsed = JSON.parse(current) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      config = parsed as Record<string, unknown>;
    } catch (error) {
      throw new DomainError('SESSION.INVALID', 'invalid', `env.OPENCODE_CONFIG_CONTENT must be a JSON object (${(error as Error).message})`, { field: 'env.OPENCODE_CONFIG_CONTENT' });
    }
  }
  const url = `file://${plugin}`;
  const plugins = Array.isArray(config.plugin) ? (config.plugin as unknown[]).filter((p) => p !== url) : [];
  return JSON.stringify({ ...config, plugin: [...plugins, url] });
};

/** The OpenCode executable: RUNLEDGER_OPENCODE_BIN; else `opencode` on the PATH; else the one installed with runledger (node_modules/.bin/opencode); else `opencode`. */
export const opencodeExecutable = (env: NodeJS.ProcessEnv = process.env): string => agentExecutable('opencode', env.RUNLEDGER_OPENCODE_BIN, env);

/**
 * OpenCode on the agent port (docs/ARCHITECTURE.md §4d): `opencode run --format json <prompt>` in a process, natively
 * resumed with `opencode run --session <id> <prompt>`; recorded live by runledger's plugin (named in
 * OPENCODE_CONFIG_CONTENT, configured by the launch's environment: nothing is written into the worktree), whose payload
 * `hookDialect` maps; its record is the session's rows of the `event` table in `$XDG_DATA_HOME/opencode/opencode.db`,
 * read through OpenCode's own binary (`opencode db`) and never byte-archived. OpenCode has no interactive mode runledger drives.
 */
@Injectable()
export class OpencodeAdapter implements AgentAdapter {
  readonly kind = 'opencode' as const;
  readonly archivesTranscript = false as const;

  executable(): string {
    return opencodeExecutable();
  }

  prepare(launch: AgentLaunch): string[] {
    const opencode = this.executable();
    if (launch.resume) return [opencode, 'run', ...OPENCODE_RUN_FLAGS, '--session', launch.resume.agentSessionId, launch.resume.prompt];
    return [opencode, 'run', ...OPENCODE_RUN_FLAGS, ...(launch.prompt ? [launch.prompt] : [])];
  }

  /**
   * The plugin (OPENCODE_CONFIG_CONTENT) and its hold and failure mode (the URL, session and credential come from
   * runledger's own entries), and PWD: OpenCode takes its project folder from PWD before its cwd (1.18.33), and the
   * server's own PWD would send its tools there.
   */
  launchEnv(launch: AgentLaunch): Record<string, string> {
    return {
      PWD: launch.workdir,
      OPENCODE_CONFIG_CONTENT: withRunledgerPlugin(launch.env.OPENCODE_CONFIG_CONTENT ?? process.env.OPENCODE_CONFIG_CONTENT, opencodePluginFile()),
      RUNLEDGER_HOOK_HOLD_SECONDS: String(launch.hooks?.hookHoldSeconds ?? DEFAULT_HOOK_HOLD_SECONDS),
      RUNLEDGER_HOOK_FAILURE: launch.hooks?.hookFailure ?? 'closed',
    };
  }

  /** The session's rows of OpenCode's `event` table (`file` is the database), parsed; rejects when `opencode db` cannot read them. */
  async readTranscript(file: string, agentSessionId?: string): Promise<AgentTranscript> {
    if (!agentSessionId) throw new Error(`reading OpenCode's record ${file} needs the OpenCode session id`);
    return { main: parseOpencodeEvents(await readOpencodeEvents(this.executable(), file, agentSessionId), agentSessionId), subagents: [] };
  }

  /** OpenCode's own processes: the npm launcher (`node …/opencode run …`) or the native binary (`…/opencode run …`); a bash child never is. */
  isAgentProcess(command: string[]): boolean {
    return command.slice(0, 2).some((arg) => path.basename(arg) === 'opencode' || path.basename(arg) === path.basename(this.executable())) && command.includes('run');
  }

  readonly hookDialect: HookDialect = {
    payload: (body) => opencodeHook(body).input,
    result: (_input, body) => opencodeHook(body).toolResult,
  };
}

/** The plugin's payload mapped into the shared hook shape (mapOpencodeHook); throws DomainError HOOK.INVALID (400) naming the field. */
const opencodeHook = (body: unknown): ReturnType<typeof mapOpencodeHook> => {
  try {
    return mapOpencodeHook(body);
  } catch (error) {
    if (error instanceof OpencodeHookError) throw new DomainError('HOOK.INVALID', 'invalid', error.message, { field: error.field });
    throw error;
  }
};
