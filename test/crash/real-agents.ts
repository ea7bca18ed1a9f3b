/**
 * The real coding agents a crash soak can run (the CLI of each against its scripted model stand-in): one kit per agent
 * kind, so that the harness drives, kills and checks Claude Code and Codex sessions through the same code, the agent a
 * parameter. Each kit says how to start its stand-in and home, and how to read the agent's own record for the checks.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readProcStat } from '@runledger/infra/runtime';
import { claudeUnavailable, prepareClaudeHome, transcriptToolUses } from '../support/claude-code/claude-env';
import { MessagesRequest, ScriptedTurn as ClaudeTurn, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';
import { codexUnavailable, prepareCodexHome, rolloutCalls, rolloutLastTurnEnded, rolloutsOf } from '../support/codex/codex-env';
import { ResponsesRequest, ScriptedTurn as CodexTurn, startFakeResponsesApi } from '../support/codex/fake-responses-api';
import type { AgentRecord, AgentOrphan } from './checks';

/** An agent kind the soak runs for real (`agent` of `POST /sessions`). */
export type RealAgent = 'claude-code' | 'codex';

/** Every agent kind the soak can run for real, in the order they are reported. */
export const REAL_AGENTS: readonly RealAgent[] = ['claude-code', 'codex'];

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
 * How long the long exec of a Codex session sleeps (s): longer than a restart and its reconcile take, so that when a
 * kill leaves it running as an orphan, the reconcile, not the clock, is what ends it; shorter than Codex's exec yield
 * (the call is asked not to yield before 30 s), so it stays one call.
 */
export const CODEX_LONG_EXEC_S = 20;

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
      return { exec: [{ cmd: `sleep ${CODEX_LONG_EXEC_S} && echo long`, yield_time_ms: 30_000 }] };
    case 2:
      return { patch: '*** Begin Patch\n*** Add File: codex-soak.txt\n+written by the crash soak\n*** End Patch\n' };
    case 3:
      return { exec: [{ cmd: 'cat codex-soak.txt' }] };
    default:
      return { text: 'Done.' };
  }
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
  /** Starts the agent's model stand-in and prepares its home under `dir` (created). */
  open(dir: string): Promise<OpenedAgent>;
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

/** `fn(path)`, or null when the file cannot be read (not on disk). */
const orNull = <T>(fn: (path: string) => T) => (path: string): T | null => {
  try {
    return fn(path);
  } catch {
    return null;
  }
};

/** The kit of each agent kind. */
export const REAL_AGENT_KITS: Record<RealAgent, RealAgentKit> = {
  'claude-code': {
    kind: 'claude-code',
    label: 'Claude Code',
    unavailable: claudeUnavailable,
    open: async (dir) => {
      const api = await startFakeAnthropicApi({ choose: claudeTurn });
      return { env: prepareClaudeHome(join(dir, 'claude-home'), { apiUrl: api.url }).env, record: { callIds: claudeTranscriptIds }, close: () => api.close() };
    },
  },
  codex: {
    kind: 'codex',
    label: 'Codex',
    unavailable: codexUnavailable,
    open: async (dir) => {
      const api = await startFakeResponsesApi({ whenExhausted: codexTurn });
      const home = prepareCodexHome(join(dir, 'codex-home'), { apiUrl: api.url });
      const record: AgentRecord = {
        callIds: orNull((path) => rolloutCalls(path).map((c) => c.callId)),
        lastTurnEnded: orNull(rolloutLastTurnEnded),
        files: (threadId) => rolloutsOf(home).filter((f) => f.endsWith(`-${threadId}.jsonl`)).length,
      };
      return { env: home.env, record, close: () => api.close() };
    },
  },
};

let clockTicks: number | undefined;
/** Clock ticks per second (`getconf CLK_TCK`, the unit of a /proc start time). */
const ticksPerSecond = (): number => (clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100);

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

/** True when `argv` is Codex itself: its npm launcher (`node …/codex exec …`) or its native binary (`…/codex exec …`). */
const isCodex = (argv: string[]): boolean => argv.slice(0, 2).some((arg) => basename(arg) === 'codex');

/**
 * True when a live Codex process is among `pid`'s ancestors of the same runledger session (Codex → `bash -c <cmd>` →
 * `sleep`): a dead Codex's exec child has none (its `bash`, if still alive, was re-parented out of the session).
 */
const underLiveCodex = (pid: number, session: string): boolean => {
  for (let parent = readProcStat(pid)?.ppid ?? 1, hops = 0; parent > 1 && hops < 16; parent = readProcStat(parent)?.ppid ?? 1, hops++) {
    if (sessionOf(parent) !== session) return false;
    try {
      if (isCodex(readFileSync(`/proc/${parent}/cmdline`, 'latin1').split('\0').filter(Boolean))) return true;
    } catch {
      return false; // gone meanwhile
    }
  }
  return false;
};

/**
 * The exec children a dead Codex left running, now: live `sleep N` processes of this run (`marker` in their environment)
 * started by Codex (`CODEX_THREAD_ID`) for a runledger session whose recorded runtime `isDead`, with no live Codex of the
 * session above them (a live Codex that runledger has not recorded yet keeps its exec children); each with when its
 * sleep would end on its own (seconds since boot), so that a check can tell a process stopped by someone from one that
 * ran out.
 */
export const codexOrphans = (marker: string, isDead: (sessionId: string) => boolean): AgentOrphan[] => {
  const found: AgentOrphan[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      if (!environ.includes(marker)) continue;
      const thread = environ.find((e) => e.startsWith('CODEX_THREAD_ID='));
      const session = environ.find((e) => e.startsWith('RUNLEDGER_SESSION_ID='))?.slice('RUNLEDGER_SESSION_ID='.length);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean);
      if (!thread || !session || argv[0] !== 'sleep' || !isDead(session)) continue;
      const stat = readProcStat(pid);
      if (!stat || ['Z', 'X', 'x'].includes(stat.state) || underLiveCodex(pid, session)) continue;
      found.push({ sessionId: session, pid, startTime: stat.startTime, command: argv.join(' '), endsAt: Number(stat.startTime) / ticksPerSecond() + Number(argv[1]) });
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return found;
};
