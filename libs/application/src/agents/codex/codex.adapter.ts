import * as path from 'node:path';
import { Injectable } from '@nestjs/common';
import { parseRolloutFile } from '@runledger/infra/agents/codex/rollout-parser';
import { rolloutToolResult } from '@runledger/infra/agents/codex/rollout-results';
import { AgentAdapter, AgentLaunch, AgentTranscript, RecordedToolResult } from '../agent-adapter';
import { HOOK_TIMEOUT_MARGIN_SECONDS, hookCommand, DEFAULT_HOOK_HOLD_SECONDS } from '../hook-runner';

/** The hook events runledger registers with Codex (0.171: every event it runs command hooks for). */
export const CODEX_HOOK_EVENTS = [
  'SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PermissionRequest', 'PostToolUse', 'PreCompact', 'PostCompact', 'SubagentStart', 'SubagentStop', 'Stop',
] as const;

/**
 * The flags of every Codex run runledger launches: JSON events on stdout (the session log), no git check (the worktree
 * is runledger's), no approval prompts and no sandbox of Codex's own (nobody is there to approve; the worktree is the
 * boundary, as for Claude Code), and hooks run without Codex's trust review (they are runledger's own, given on the
 * command line, never read from the worktree).
 */
export const CODEX_EXEC_FLAGS = ['--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', '--dangerously-bypass-hook-trust'] as const;

/** A TOML basic string (JSON's escapes are TOML's for what a hook command holds). */
const tomlString = (value: string): string => JSON.stringify(value);

/**
 * The `-c hooks.<Event>=[…]` overrides that register runledger's command hook for every event of one launch: Codex
 * applies them for this run only, so nothing is written into the worktree or the user's `$CODEX_HOME`. Each hook
 * runs `<runner> codex --event <E> …` (the shim holds Codex while runledger is away); its timeout is the hold plus 30 s.
 */
export const codexHookOverrides = (launch: Pick<AgentLaunch, 'url' | 'sessionId' | 'hooks' | 'runner'>): string[] => {
  const request = { ...launch.hooks, url: launch.url, sessionId: launch.sessionId, runner: launch.runner };
  const timeout = (launch.hooks?.hookHoldSeconds ?? DEFAULT_HOOK_HOLD_SECONDS) + HOOK_TIMEOUT_MARGIN_SECONDS;
  return CODEX_HOOK_EVENTS.flatMap((event) => [
    '-c', `hooks.${event}=[{hooks=[{type="command",command=${tomlString(hookCommand('codex', event, request))},timeout=${timeout}}]}]`,
  ]);
};

/**
 * Codex CLI on the agent port (docs/ARCHITECTURE.md §4d): `codex exec --json … <prompt>` in a process (stdin /dev/null),
 * natively resumed with `codex exec resume … <thread id> <prompt>` (same thread, same rollout); runledger's hooks given
 * per run on the command line; the rollout (`$CODEX_HOME/sessions/…/rollout-*.jsonl`, the hooks' `transcript_path`)
 * is the transcript. Codex has no interactive mode runledger drives.
 */
@Injectable()
export class CodexAdapter implements AgentAdapter {
  readonly kind = 'codex' as const;

  /** RUNLEDGER_CODEX_BIN, else `codex` on the PATH. */
  executable(): string {
    return process.env.RUNLEDGER_CODEX_BIN || 'codex';
  }

  prepare(launch: AgentLaunch): string[] {
    const codex = this.executable();
    const flags = [...CODEX_EXEC_FLAGS, ...codexHookOverrides(launch)];
    if (launch.resume) return [codex, 'exec', 'resume', ...flags, launch.resume.agentSessionId, launch.resume.prompt];
    return [codex, 'exec', ...flags, ...(launch.prompt ? [launch.prompt] : [])];
  }

  async readTranscript(file: string): Promise<AgentTranscript> {
    return { main: await parseRolloutFile(file), subagents: [] };
  }

  /** Codex's own processes: the npm wrapper (`node …/codex exec …`) or the native binary (`…/bin/codex exec …`); an exec child never is. */
  isAgentProcess(command: string[]): boolean {
    return command.slice(0, 2).some((arg) => path.basename(arg) === path.basename(this.executable()) || path.basename(arg) === 'codex') && command.includes('exec');
  }

  /** Codex's PostToolUse has no exit code: the call's `item_completed` line, written just before the hook, says how it ended. */
  hookToolResult(transcriptPath: string, callId: string): Promise<RecordedToolResult | undefined> {
    return rolloutToolResult(transcriptPath, callId);
  }
}
