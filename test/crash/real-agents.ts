/**
 * The real coding agents a crash soak can run (the CLI of each against its scripted model stand-in): one kit per agent
 * kind, so that the harness drives, kills and checks Claude Code and Codex sessions through the same code, the agent a
 * parameter. Each kit says how to start its stand-in and home, and how to read the agent's own record for the checks.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { readProcStat } from '@runledger/infra/runtime';
import { claudeUnavailable, prepareClaudeHome, transcriptToolUses } from '../support/claude-code/claude-env';
import { MessagesRequest, ScriptedTurn as ClaudeTurn, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';
import { codexUnavailable, prepareCodexHome, rolloutCalls, rolloutLastTurnEnded, rolloutsOf } from '../support/codex/codex-env';
import { ResponsesRequest, ScriptedTurn as CodexTurn, startFakeResponsesApi } from '../support/codex/fake-responses-api';
import { GeminiTurn, startFakeGeminiApi } from '../support/gemini-cli/fake-gemini-api';
import { chatCalls, geminiUnavailable, prepareGeminiHome } from '../support/gemini-cli/gemini-env';
import { ScriptedTurn as OpencodeTurn, startFakeChatCompletions } from '../support/opencode/fake-chat-completions';
import { eventTableCallsNow, installPluginRuntime, opencodeUnavailable, prepareOpencodeHome } from '../support/opencode/opencode-env';
import type { AgentRecord, AgentOrphan } from './checks';

/** An agent kind the soak runs for real (`agent` of `POST /sessions`). */
export type RealAgent = 'claude-code' | 'codex' | 'opencode' | 'gemini-cli';

/** Every agent kind the soak can run for real, in the order they are reported. */
export const REAL_AGENTS: readonly RealAgent[] = ['claude-code', 'codex', 'opencode', 'gemini-cli'];

/** Tool calls each real Claude Code session makes before its final answer. */
const CLAUDE_STEPS = 4;

/**
 * The scripted model of the soak's real Claude Code sessions, stateless so that a resumed conversation simply goes on:
 * a Bash call (`sleep 1`, so that kills land mid-call) until the conversation holds CLAUDE_STEPS tool results, then the
 * final answer.
 */
const claudeTurn = (request: MessagesRequest): ClaudeTurn => {
  const results = (request.messages ?? []).flatMap((m) => (Array.isArray(m.content) ? (m.content as Array<{ type?: string }>) : [])).filter((b) => b.type === 'tool_result').length;
  return results < CLAUDE_STEPS ? { tools: [{ name: 'Bash', input: { command: `sleep 1 && echo step-${results + 1}`, description: 'soak step' } }] } : { text: 'Done.' };
};

/**
 * How long the long call of a Codex, OpenCode or Gemini CLI session sleeps (s): longer than a restart and its reconcile
 * take, so that when a kill leaves it running as an orphan (each of these agents runs its shell calls in a session of
 * their own, which outlives the agent), the reconcile, not the clock, is what ends it; shorter than Codex's exec yield
 * (the call is asked not to yield before 30 s), so it stays one call.
 */
export const LONG_CALL_S = 20;

/**
 * The shell commands of an OpenCode or Gemini CLI session, one call each, in order: a short one (kills land mid-call),
 * the long one (a kill while runledger is down orphans it), a short one; then the final answer.
 */
const SHELL_SCRIPT: readonly string[] = ['sleep 1 && echo step-1', `sleep ${LONG_CALL_S} && echo long`, 'sleep 1 && echo step-3'];

/**
 * The scripted model of the soak's real Codex sessions, stateless (its step is the number of tool outputs the request
 * holds, the "aborted" one Codex sends for a killed call included, so a resumed thread goes on and never repeats a step):
 * a short exec, the long exec kills land in, an apply_patch, an exec reading the patched file, the final answer.
 */
const codexTurn = (request: ResponsesRequest): CodexTurn => {
  const outputs = (request.input ?? []).filter((i) => i.type === 'function_call_output' || i.type === 'custom_tool_call_output').length;
  switch (outputs) {
    case 0:
      return { exec: [{ cmd: 'sleep 1 && echo step-1' }] };
    case 1:
      return { exec: [{ cmd: `sleep ${LONG_CALL_S} && echo long`, yield_time_ms: 30_000 }] };
    case 2:
      return { patch: '*** Begin Patch\n*** Add File: codex-soak.txt\n+written by the crash soak\n*** End Patch\n' };
    case 3:
      return { exec: [{ cmd: 'cat codex-soak.txt' }] };
    default:
      return { text: 'Done.' };
  }
};

/**
 * The scripted model of the soak's real OpenCode sessions, stateless (its step is the number of tool results the
 * conversation holds, so a natively resumed session goes on): SHELL_SCRIPT's `bash` calls, then the final answer.
 */
const opencodeTurn = (body: Record<string, unknown>): OpencodeTurn => {
  const results = (Array.isArray(body.messages) ? (body.messages as Array<{ role?: string }>) : []).filter((m) => m.role === 'tool').length;
  const command = SHELL_SCRIPT[results];
  return command ? { calls: [{ name: 'bash', args: { command, description: 'soak step' } }] } : { text: 'Done.' };
};

/**
 * The scripted model of the soak's real Gemini CLI sessions, stateless (its step is the number of function responses
 * the history holds, so a natively resumed session goes on): SHELL_SCRIPT's `run_shell_command` calls, then the final answer.
 */
const geminiTurn = (body: Record<string, unknown>): GeminiTurn => {
  const contents = Array.isArray(body.contents) ? (body.contents as Array<{ parts?: Array<Record<string, unknown>> }>) : [];
  const results = contents.flatMap((c) => c.parts ?? []).filter((p) => p.functionResponse !== undefined).length;
  const command = SHELL_SCRIPT[results];
  return command ? { calls: [{ name: 'run_shell_command', args: { command, description: 'soak step' } }] } : { text: 'Done.' };
};

/** A kit's stand-in running for one epoch: the environment the server passes to the agents it launches, and how to stop it. */
export interface OpenedAgent {
  env: Record<string, string>;
  /** What the checks read of the agent's own record. */
  record: AgentRecord;
  close(): Promise<void>;
}

/** One agent kind the soak runs for real. */
export interface RealAgentKit {
  kind: RealAgent;
  /** As the soak's lines name it. */
  label: string;
  /** Null when the CLI can run here, else why not. */
  unavailable(): string | null;
  /**
   * Starts the agent's model stand-in and prepares its folders under `dir` (created); `home` is the HOME every agent of
   * the run shares (the server has one HOME), in which the kit writes what its CLI reads from there.
   */
  open(dir: string, home: string): Promise<OpenedAgent>;
  /**
   * True when `argv` (as /proc reads it) is the agent's own process, not one of its tools'. Defined for agents whose
   * tools run in a session of their own and so outlive a SIGKILL of the agent's process group: the soak looks for the
   * orphans they leave.
   */
  isAgentProcess?(argv: string[]): boolean;
}

/** tool_use ids of a Claude Code transcript and its sub-agents' transcripts; null when the file is not on disk. */
const claudeTranscriptIds = (path: string): string[] | null => {
  try {
    const files = [path];
    const sub = join(path.replace(/\.jsonl$/, ''), 'subagents');
    try {
      for (const f of readdirSync(sub)) if (f.endsWith('.jsonl')) files.push(join(sub, f));
    } catch {
      /* no sub-agents */
    }
    return files.flatMap((f) => transcriptToolUses(f).map((u) => u.id));
  } catch {
    return null;
  }
};

/** `fn(...args)`, or null when it throws (the record cannot be read: not on disk). */
const orNull = <A extends unknown[], T>(fn: (...args: A) => T) => (...args: A): T | null => {
  try {
    return fn(...args);
  } catch {
    return null;
  }
};

/** True when one of argv's first `n` words is a file named in `names` (a CLI's launcher or native binary). */
const runs = (argv: string[], names: readonly string[], n = 2): boolean => argv.slice(0, n).some((arg) => names.includes(basename(arg)));

let pluginRuntime: { dir: string; ready: Promise<string> } | undefined;
/**
 * A config folder in which OpenCode installed `@opencode-ai/plugin` (the runtime of the plugin runledger launches it
 * with), made once per soak: each epoch's config folder starts as a copy of it, so that its first OpenCode does not
 * install it again (23 s more per start, and two first starts at once may fail). removeSharedAgentFiles removes it.
 */
const opencodePluginRuntime = (): Promise<string> => {
  if (pluginRuntime) return pluginRuntime.ready;
  const dir = mkdtempSync(join(tmpdir(), 'rl-soak-opencode-'));
  const ready = (async () => {
    const api = await startFakeChatCompletions();
    try {
      const warm = prepareOpencodeHome(dir, { apiUrl: api.url });
      await installPluginRuntime(warm);
      return warm.configDir;
    } finally {
      await api.close();
    }
  })();
  pluginRuntime = { dir, ready };
  return ready;
};

/** Removes what the kits share across a soak's runs and epochs (OpenCode's plugin runtime); call once every run ended. */
export const removeSharedAgentFiles = (): void => {
  if (pluginRuntime) rmSync(pluginRuntime.dir, { recursive: true, force: true });
  pluginRuntime = undefined;
};

/** The kit of each agent kind. */
export const REAL_AGENT_KITS: Record<RealAgent, RealAgentKit> = {
  'claude-code': {
    kind: 'claude-code',
    label: 'Claude Code',
    unavailable: claudeUnavailable,
    open: async (_dir, home) => {
      const api = await startFakeAnthropicApi({ choose: claudeTurn });
      return { env: prepareClaudeHome(home, { apiUrl: api.url }).env, record: { callIds: claudeTranscriptIds }, close: () => api.close() };
    },
  },
  codex: {
    kind: 'codex',
    label: 'Codex',
    unavailable: codexUnavailable,
    open: async (dir, home) => {
      const api = await startFakeResponsesApi({ whenExhausted: codexTurn });
      const codexHome = prepareCodexHome(join(dir, 'codex-home'), { apiUrl: api.url });
      const record: AgentRecord = {
        callIds: orNull((path: string) => rolloutCalls(path).map((c) => c.callId)),
        lastTurnEnded: orNull(rolloutLastTurnEnded),
        resumesInPlace: true,
        files: (threadId) => rolloutsOf(codexHome).filter((f) => f.endsWith(`-${threadId}.jsonl`)).length,
      };
      return { env: { ...codexHome.env, HOME: home }, record, close: () => api.close() };
    },
    isAgentProcess: (argv) => runs(argv, ['codex']),
  },
  opencode: {
    kind: 'opencode',
    label: 'OpenCode',
    unavailable: opencodeUnavailable,
    open: async (dir, home) => {
      const template = await opencodePluginRuntime();
      const api = await startFakeChatCompletions({ choose: opencodeTurn });
      const opencodeHome = prepareOpencodeHome(join(dir, 'opencode-home'), { apiUrl: api.url });
      for (const entry of readdirSync(template)) if (entry !== 'opencode.json') cpSync(join(template, entry), join(opencodeHome.configDir, entry), { recursive: true });
      // The record: the rows of the agent session in the `event` table of the database the session names (no file of its own).
      const record: AgentRecord = {
        callIds: orNull((database: string, sessionId: string | undefined) => (sessionId ? eventTableCallsNow(database, sessionId).map((c) => c.callId) : null)),
        resumesInPlace: true,
      };
      return { env: { ...opencodeHome.env, HOME: home }, record, close: () => api.close() };
    },
    isAgentProcess: (argv) => runs(argv, ['opencode', '.opencode']),
  },
  'gemini-cli': {
    kind: 'gemini-cli',
    label: 'Gemini CLI',
    unavailable: geminiUnavailable,
    open: async (_dir, home) => {
      const api = await startFakeGeminiApi({ choose: geminiTurn });
      const record: AgentRecord = {
        callIds: orNull((path: string) => chatCalls(path).map((c) => c.id)),
        resumesInPlace: true,
        // A resumed Gemini session appends its turns to its chat file (`session-<time>-<first 8 of its id>.jsonl`); 0.61
        // also writes a new file of the same session holding only the session context, never a call: not counted.
        files: (sessionId, path) =>
          (path ? readdirSync(dirname(path)).filter((f) => f.endsWith(`-${sessionId.slice(0, 8)}.jsonl`) && chatCalls(join(dirname(path), f)).length > 0).length : 0),
      };
      return { env: prepareGeminiHome(home, api.url).env, record, close: () => api.close() };
    },
    // `node …/gemini …` and the child it relaunches itself as (`node --max-old-space-size=N …/gemini …`).
    isAgentProcess: (argv) => runs(argv, ['gemini', 'gemini.js'], 3),
  },
};

let clockTicks: number | undefined;
/** Clock ticks per second (`getconf CLK_TCK`, the unit of a /proc start time). */
export const ticksPerSecond = (): number => (clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100);

/** Seconds since boot now (/proc/uptime), the clock of /proc start times. */
export const uptimeNow = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

/** The `RUNLEDGER_SESSION_ID` in process `pid`'s environment; undefined when it has none or cannot be read. */
const sessionOf = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').find((e) => e.startsWith('RUNLEDGER_SESSION_ID='))?.slice('RUNLEDGER_SESSION_ID='.length);
  } catch {
    return undefined;
  }
};

/**
 * True when a live process of the agent (`isAgent`) is among `pid`'s ancestors of the same runledger session (agent →
 * shell → `sleep`): a dead agent's tool child has none (its shell, if still alive, was re-parented out of the session).
 */
const underLiveAgent = (pid: number, session: string, isAgent: (argv: string[]) => boolean): boolean => {
  for (let parent = readProcStat(pid)?.ppid ?? 1, hops = 0; parent > 1 && hops < 16; parent = readProcStat(parent)?.ppid ?? 1, hops++) {
    if (sessionOf(parent) !== session) return false;
    try {
      if (isAgent(readFileSync(`/proc/${parent}/cmdline`, 'latin1').split('\0').filter(Boolean))) return true;
    } catch {
      return false; // gone meanwhile
    }
  }
  return false;
};

/**
 * The tool children dead agents left running, now: live `sleep N` processes of this run (`marker` in their environment)
 * of a runledger session whose recorded runtime is dead and whose agent's kit tells its own processes (`deadAgentOf`
 * gives that kit, else undefined), with no live process of that agent of the session above them (a live agent that
 * runledger has not recorded yet keeps its children); each with when its sleep would end on its own (seconds since
 * boot), so that a check can tell a process stopped by someone from one that ran out.
 */
export const agentOrphans = (marker: string, deadAgentOf: (sessionId: string) => RealAgentKit | undefined): AgentOrphan[] => {
  const found: AgentOrphan[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      if (!environ.includes(marker)) continue;
      const session = environ.find((e) => e.startsWith('RUNLEDGER_SESSION_ID='))?.slice('RUNLEDGER_SESSION_ID='.length);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean);
      const isAgent = session && argv[0] === 'sleep' ? deadAgentOf(session)?.isAgentProcess : undefined;
      if (!session || !isAgent) continue;
      const stat = readProcStat(pid);
      if (!stat || ['Z', 'X', 'x'].includes(stat.state) || underLiveAgent(pid, session, isAgent)) continue;
      found.push({ sessionId: session, pid, startTime: stat.startTime, command: argv.join(' '), endsAt: Number(stat.startTime) / ticksPerSecond() + Number(argv[1]) });
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return found;
};
