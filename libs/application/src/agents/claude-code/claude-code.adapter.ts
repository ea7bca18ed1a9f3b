import * as fs from 'node:fs';
import * as path from 'node:path';
import { Injectable } from '@nestjs/common';
import { findSubagentTranscripts } from '@runledger/infra/agents/claude-code/subagent-transcripts';
import { parseTranscriptFile } from '@runledger/infra/agents/claude-code/transcript-parser';
import { RuntimeLaunchError, TmuxIdentity, TmuxRuntime } from '@runledger/infra/runtime';
import { AgentAdapter, AgentLaunch, AgentTelemetryTarget, AgentTranscript } from '../agent-adapter';
import { excludeFromGit } from '../worktree-files';
import { claudeHookSettings } from './hook-settings';
import { claudeTelemetryEnv } from './telemetry-env';

/** How long an interactive Claude Code may take to show its input prompt before the typed prompt is given up (ms). */
export const CLAUDE_READY_TIMEOUT_MS = 30_000;

/** The input prompt of interactive Claude Code (2.1.x): a line starting with `❯`. */
const CLAUDE_INPUT_READY = /^❯/m;

/**
 * Claude Code on the agent port (docs/ARCHITECTURE.md §4a, §4d): `claude -p <prompt>` in a process, interactive `claude`
 * in tmux (workspace trust accepted, the prompt typed into the pane), `claude --resume <id> -p <prompt>` natively;
 * hooks in `<workdir>/.claude/settings.local.json` (excluded from git, no token in it); transcripts with sub-agents.
 */
@Injectable()
export class ClaudeCodeAdapter implements AgentAdapter {
  readonly kind = 'claude-code' as const;

  /** RUNLEDGER_CLAUDE_BIN, else `claude` on the PATH. */
  executable(): string {
    return process.env.RUNLEDGER_CLAUDE_BIN || 'claude';
  }

  prepare(launch: AgentLaunch): string[] {
    writeClaudeSettings(launch);
    const claude = this.executable();
    if (launch.resume) return [claude, '--resume', launch.resume.agentSessionId, '-p', launch.resume.prompt];
    if (launch.runtime === 'tmux') {
      acceptWorkspaceTrust({ ...process.env, ...launch.env }, launch.workdir);
      return [claude]; // interactive: the prompt is typed into the pane once Claude Code is ready
    }
    return [claude, ...(launch.prompt ? ['-p', launch.prompt] : [])];
  }

  /** Claude Code's OTel logs to runledger (docs/ARCHITECTURE.md §4g): claudeTelemetryEnv. */
  telemetryEnv(target: AgentTelemetryTarget): Record<string, string> {
    return claudeTelemetryEnv(target);
  }

  /** Waits for interactive Claude Code's input prompt, then types the prompt and Enter; throws RuntimeLaunchError if it never shows. */
  async afterTmuxLaunch(identity: TmuxIdentity, launch: AgentLaunch, tmux: TmuxRuntime): Promise<void> {
    if (!launch.prompt || launch.resume) return;
    const deadline = Date.now() + CLAUDE_READY_TIMEOUT_MS;
    for (;;) {
      const screen = await tmux.capture(identity.sessionName).catch(() => '');
      if (CLAUDE_INPUT_READY.test(screen)) break;
      if (!tmux.isAlive(identity) || Date.now() > deadline) {
        throw new RuntimeLaunchError(identity.command, identity.cwd, `Claude Code did not show its input prompt within ${CLAUDE_READY_TIMEOUT_MS} ms; screen:\n${screen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await tmux.type(identity, launch.prompt);
  }

  async readTranscript(file: string): Promise<AgentTranscript> {
    const main = await parseTranscriptFile(file);
    const subagents: AgentTranscript['subagents'] = [];
    for (const sub of await findSubagentTranscripts(file)) subagents.push({ name: path.basename(sub), parsed: await parseTranscriptFile(sub) });
    return { main, subagents };
  }
}

/**
 * Writes `<workdir>/.claude/settings.local.json` with the session's hooks (`claudeHookSettings`: no token in it), and
 * excludes that file from git so it never makes the worktree look dirty.
 */
const writeClaudeSettings = (launch: AgentLaunch): void => {
  const settings = claudeHookSettings({ ...launch.hooks, url: launch.url, sessionId: launch.sessionId, runner: launch.runner });
  const dir = path.join(launch.workdir, '.claude');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'settings.local.json'), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  excludeFromGit(launch.workdir, '.claude/settings.local.json');
};

/**
 * Marks `workdir` (one of runledger's own worktrees) as trusted in Claude Code's user config (`$CLAUDE_CONFIG_DIR/.claude.json`
 * or `$HOME/.claude.json`: `projects[<workdir>].hasTrustDialogAccepted`), so interactive Claude Code does not stop at its
 * workspace trust dialog; every other key of the file is kept. Written atomically (temporary file, then rename).
 * Throws an Error naming the file when it is not valid JSON.
 */
export const acceptWorkspaceTrust = (env: NodeJS.ProcessEnv, workdir: string): void => {
  const dir = env.CLAUDE_CONFIG_DIR || env.HOME;
  if (!dir) return;
  const file = path.join(dir, '.claude.json');
  let config: { projects?: Record<string, Record<string, unknown>> } & Record<string, unknown> = {};
  if (fs.existsSync(file)) {
    try {
      config = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`cannot accept Claude Code's workspace trust: ${file} is not valid JSON (${(error as Error).message})`);
    }
  }
  const projects = config.projects ?? {};
  if (projects[workdir]?.hasTrustDialogAccepted === true) return;
  config.projects = { ...projects, [workdir]: { ...(projects[workdir] ?? {}), hasTrustDialogAccepted: true } };
  const temporary = `${file}.runledger-${process.pid}`;
  fs.writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, file);
};
