import type { AgentKind } from '../session/session.events';

/** An agent kind runledger can launch in a worktree (every kind but `external`). */
export type LaunchableAgent = Exclude<AgentKind, 'external'>;

/** The coding agents runledger runs and records through their hooks and transcripts (docs/ARCHITECTURE.md §4d). */
export const CODING_AGENTS = ['claude-code', 'codex', 'opencode', 'gemini-cli'] as const;

/** A coding agent kind (one agent adapter each). */
export type CodingAgent = (typeof CODING_AGENTS)[number];

/** Every launchable agent kind: a plain command or a coding agent. */
export const LAUNCHABLE_AGENTS: readonly LaunchableAgent[] = ['command', ...CODING_AGENTS];

/** What the pure policies need to know about an agent kind (docs/ARCHITECTURE.md §4d); the adapters hold the rest. */
export interface AgentCapabilities {
  /** Posts hooks to runledger while it runs (a hook channel whose silence means something). */
  hooks: boolean;
  /** Can continue its own conversation by its agent session id (`claude --resume`, `codex exec resume`, `opencode run --session`). */
  nativeResume: boolean;
  /** Runs without a prompt in a tmux pane, the prompt typed in once it is ready. */
  interactive: boolean;
  /** The agent's name for people: `Claude Code`, `Codex`. */
  label: string;
}

const CAPABILITIES: Readonly<Record<AgentKind, AgentCapabilities>> = {
  command: { hooks: false, nativeResume: false, interactive: false, label: 'command' },
  'claude-code': { hooks: true, nativeResume: true, interactive: true, label: 'Claude Code' },
  codex: { hooks: true, nativeResume: true, interactive: false, label: 'Codex' },
  opencode: { hooks: true, nativeResume: true, interactive: false, label: 'OpenCode' },
  'gemini-cli': { hooks: true, nativeResume: true, interactive: false, label: 'Gemini CLI' },
  external: { hooks: false, nativeResume: false, interactive: false, label: 'external agent' },
};

/** The capabilities of `agent` (a kind recorded in a stream; an unknown kind from a newer writer has none). */
export const agentCapabilities = (agent: AgentKind): AgentCapabilities => CAPABILITIES[agent] ?? CAPABILITIES.external;

/** True for a coding agent kind (`claude-code`, `codex`, `opencode`). */
export const isCodingAgent = (agent: string): agent is CodingAgent => (CODING_AGENTS as readonly string[]).includes(agent);

/**
 * The coding agent whose transcript and hooks record `session`: its own kind; for an external session, or a command
 * that runs an agent of its own (its hooks linked a transcript), the observed agent, Claude Code when unnamed.
 */
export const recordingAgent = (session: { agent: AgentKind; observedAgent?: CodingAgent }): CodingAgent =>
  isCodingAgent(session.agent) ? session.agent : (session.observedAgent ?? 'claude-code');
