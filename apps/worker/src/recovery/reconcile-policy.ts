import { Session } from '@runledger/domain';

/** What boot reconcile does with a session whose runtime is gone (DESIGN §4, seed 001). */
export type RestoreDecision = { relaunch: true; why: string } | { relaunch: false; why: string };

/**
 * The restore policy: an orchestrator is relaunched fresh under the same id; a worker with a prompt, or a Claude Code
 * session with an agent session id (resumable), is relaunched under the same id; a promptless worker stays interrupted
 * and is reported not resumable; an external session (runledger never ran it) and a retiring orchestrator are never relaunched.
 */
export const restoreDecision = (session: Session): RestoreDecision => {
  if (session.agent === 'external') return { relaunch: false, why: 'external session: runledger does not run its agent' };
  if (session.status === 'retiring') return { relaunch: false, why: 'retiring orchestrator: its replacement completes it, it never comes back' };
  if (session.kind === 'orchestrator') return { relaunch: true, why: 'orchestrator: relaunched fresh under the same id' };
  if (session.prompt) return { relaunch: true, why: 'worker with a prompt: relaunched under the same id' };
  if (session.agent === 'claude-code' && session.agentSessionId) return { relaunch: true, why: 'resumable agent session: relaunched under the same id' };
  return { relaunch: false, why: 'promptless worker: not resumable, stays interrupted' };
};
