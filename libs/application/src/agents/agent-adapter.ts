import type { CodingAgent, ProjectHookSettings, RuntimeType, Session, TranscriptCallFact } from '@runledger/domain';
import type { ParsedTranscript } from '@runledger/infra/agents/claude-code/transcript-parser';
import type { TmuxIdentity, TmuxRuntime } from '@runledger/infra/runtime';
import type { HookRunner } from './hook-runner';

/** What an adapter is told about one launch of its agent in a worktree runledger made. */
export interface AgentLaunch {
  sessionId: string;
  /** The worktree (or session directory) the agent runs in. */
  workdir: string;
  prompt?: string;
  /** Continue the agent's own conversation (`agentSessionId`) with `prompt` instead of starting one. */
  resume?: { agentSessionId: string; prompt: string };
  runtime: RuntimeType;
  /** The environment the agent gets (the request's, before runledger's own entries). */
  env: Record<string, string>;
  /** The project's hook settings (hold, failure mode, transport); defaults when absent. */
  hooks?: ProjectHookSettings;
  /** runledger's origin the hooks post to, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** What runs the agent's command hooks (the shim, or `runledger hook`). */
  runner: HookRunner;
}

/**
 * The hooks of an agent whose payload is not Claude Code's shape (OpenCode's plugin, Gemini CLI's command hooks,
 * docs/ARCHITECTURE.md §4d): mapped into Claude Code's shape before AgentHooks records them; an agent whose tool hooks
 * carry no call id (Gemini CLI) also gives each tool hook the id of the call it is about by pairing with the session's
 * fold, and pairs the transcript's calls with the log's at every reconcile. `payload` throws HOOK.INVALID (400) naming
 * the field on a body it cannot map; the rest are pure and never throw.
 */
export interface HookDialect {
  /** The agent's hook input in Claude Code's shape (event names and fields); `tool_use_id` is left to `callId`. */
  payload(body: unknown): unknown;
  /** The id of the call a PreToolUse/PostToolUse (mapped) is about, from `session`'s fold: pairing by order per tool. Absent: the payload's `tool_use_id`. */
  callId?(input: { hook_event_name: string; session_id: string; tool_name: string; tool_input?: unknown }, session: Session, redact: <T>(value: T) => T): string;
  /**
   * How a call ended, from a PostToolUse (`input` mapped, `body` as the agent sent it) the agent reports as success
   * whatever happened (a shell exit code); undefined: the transcript's record of the call, as for Claude Code.
   */
  result(input: { tool_name: string; tool_response?: unknown }, body: unknown): RecordedToolResult | undefined;
  /** The hook's answer in the agent's own words (Claude Code's PreToolUse allow/deny into the agent's). Absent: Claude Code's as it is. */
  answer?(output: Record<string, unknown>): Record<string, unknown>;
  /** The transcript's calls with the ids the log gave them (a call a hook recorded is paired by order per tool and input). */
  pairTranscriptCalls?(calls: TranscriptCallFact[], session: Session, redact: <T>(value: T) => T): TranscriptCallFact[];
}

/**
 * Where an agent sends its own telemetry (docs/ARCHITECTURE.md §4g): runledger's OTLP logs URL, the session credential
 * (absent for a hand-run agent, whose settings give the header through a helper instead), the CA to trust.
 */
export interface AgentTelemetryTarget {
  logsUrl: string;
  credential?: string;
  caFile?: string;
}

/** A tool call's result as the agent's own record holds it: status, output, exit code (exec), error text. */
export interface RecordedToolResult {
  status: 'completed' | 'failed';
  output?: unknown;
  exitCode?: number;
  error?: string;
}

/** An agent's transcript read into the one summary shape: the main conversation and its sub-agents' (file name → parsed). */
export interface AgentTranscript {
  main: ParsedTranscript;
  subagents: Array<{ name: string; parsed: ParsedTranscript }>;
}

/**
 * The agent port (docs/ARCHITECTURE.md §4d): everything runledger needs to know about one coding agent kind, so that a
 * new agent is a folder under `agents/` and one entry in `AgentAdapters`, not edits across the code. The pure policies
 * read the agent's capabilities from `agentCapabilities` (domain); the adapter holds the parts that touch files and argv.
 */
export interface AgentAdapter {
  readonly kind: CodingAgent;
  /** The executable a launch runs: its `RUNLEDGER_*_BIN` variable, else the plain name (looked up on PATH). */
  executable(): string;
  /**
   * Prepares the workdir (hook settings runledger generates, trust the agent would ask for) and returns the argv of
   * the launch: a fresh run with the prompt, a native resume, or an interactive start (tmux) when the agent has one.
   * Throws an Error naming the file when a file it must edit cannot be read.
   */
  prepare(launch: AgentLaunch): string[];
  /** Hooks that are not Claude-shaped (OpenCode's plugin; Gemini CLI's, which carry no call id); undefined for Claude-shaped hooks. */
  readonly hookDialect?: HookDialect;
  /** The environment that makes the agent send its own OTLP logs to runledger (absent for an agent without telemetry runledger reads). */
  telemetryEnv?(target: AgentTelemetryTarget): Record<string, string>;
  /** Called once a tmux launch started (interactive agents: types the prompt once the agent is ready); throws RuntimeLaunchError when it never gets ready. */
  afterTmuxLaunch?(identity: TmuxIdentity, launch: AgentLaunch, tmux: TmuxRuntime): Promise<void>;
  /**
   * Reads the agent's transcript (and its sub-agents') into the summary shape; `agentSessionId` names the conversation
   * when the record holds several (OpenCode's database). Never throws on a bad line, rejects on an I/O error.
   */
  readTranscript(file: string, agentSessionId?: string): Promise<AgentTranscript>;
  /**
   * False when the agent's record is not an append-only file runledger can copy byte for byte (OpenCode's SQLite
   * database): it is then never archived (docs/ARCHITECTURE.md §4a), only read. Undefined: archived.
   */
  readonly archivesTranscript?: false;
  /**
   * Environment entries a launch adds for the agent (after the request's, before runledger's own RUNLEDGER_* entries):
   * OpenCode's plugin is named and configured this way, so nothing is written into the worktree; Gemini CLI's private
   * home and workspace trust too. `runledger` holds runledger's own entries of this launch (RUNLEDGER_URL,
   * RUNLEDGER_SESSION_ID, RUNLEDGER_TOKEN, …), for an agent that must carry them under other names. None when undefined.
   */
  launchEnv?(launch: AgentLaunch, runledger: Readonly<Record<string, string>>): Record<string, string>;
  /**
   * Tells the agent's own process from the processes of its tools, which inherit its environment (argv as /proc reads
   * it). When defined, only such a process is adopted as the agent; once the agent is dead, the session's other
   * processes are orphans its tools left running, and reconcile stops them. Undefined: every process of the session
   * may be adopted as the agent (no orphan is looked for).
   */
  isAgentProcess?(command: string[]): boolean;
  /**
   * At a PostToolUse hook whose payload cannot say how the call ended (Codex sends no exit code): the result of
   * `callId` as the agent's transcript holds it by then; undefined when it does not (the hook's payload is taken).
   * Never throws (an unreadable transcript is undefined).
   */
  hookToolResult?(transcriptPath: string, callId: string): Promise<RecordedToolResult | undefined>;
}
