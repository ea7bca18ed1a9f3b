import type { SessionStatus } from '../session/session.decider';

/**
 * Health of a project's active orchestrator (docs/ARCHITECTURE.md §4b): `live` (running, runtime alive, the configured agent),
 * `restart_needed` (live but running another agent than the project's `orchestratorAgent`), `interrupted` (its runtime
 * is gone or not launched yet: ensure restores it under its id), `retiring` (a replacement is under way or stopped
 * half-way: a retry completes it), `terminated` (ended outside a replacement, e.g. killed: ensure starts a new one).
 */
export type OrchestratorHealth = 'live' | 'restart_needed' | 'interrupted' | 'retiring' | 'terminated';

/** The facts health is decided from: the session's status and agent, whether its runtime is alive, the configured agent. */
export interface OrchestratorFacts {
  status: SessionStatus;
  agent: string;
  alive: boolean;
  configuredAgent?: string;
}

/** Decides an orchestrator's health from its facts; pure. */
export const orchestratorHealth = ({ status, agent, alive, configuredAgent }: OrchestratorFacts): OrchestratorHealth => {
  switch (status) {
    case 'retiring':
      return 'retiring';
    case 'terminated':
      return 'terminated';
    case 'running':
      if (!alive) return 'interrupted';
      return configuredAgent !== undefined && configuredAgent !== agent ? 'restart_needed' : 'live';
    default:
      return 'interrupted'; // none, starting, interrupted: no live runtime to talk to
  }
};
