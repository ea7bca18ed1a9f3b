import type { LaunchableAgent } from '@runledger/domain';
import { CommandContext } from '../../event-sourcing/command-context';

/** Body of `POST /sessions` (docs/ARCHITECTURE.md §5). */
export interface SpawnSessionInput {
  projectId: string;
  kind?: 'worker' | 'orchestrator';
  agent: LaunchableAgent;
  command?: string[];
  prompt?: string;
  baseRef?: string;
  /** Where the agent runs (default: tmux for orchestrators and promptless claude-code, else process). */
  runtime?: 'process' | 'tmux';
  /** The session whose agent spawned this one. */
  parentSessionId?: string;
  /** The session's own spending limit in USD (docs/ARCHITECTURE.md §4g). */
  budgetUsd?: number;
}

/** Spawn a session: allocate its id, create its worktree(s), launch its agent runtime. */
export class SpawnSessionCommand {
  constructor(readonly input: SpawnSessionInput, readonly context: CommandContext) {}
}
