import { agentCapabilities } from '../agent/agent-kinds';
import type { SessionView } from './session.view';

/** Every hook-channel health flag of a session snapshot (docs/ARCHITECTURE.md §2, §4a). */
export const HEALTH_FLAGS = ['no_signal', 'unfinished_call', 'no_session_end'] as const;

/** A hook-channel health flag of a session snapshot (docs/ARCHITECTURE.md §2, §4a). */
export type HealthFlag = (typeof HEALTH_FLAGS)[number];

/** When a flag is raised (ms): hooks silent while the agent works, a call dispatched without its result. */
export interface HealthThresholds {
  silentMs: number;
  unfinishedMs: number;
}

/** Default thresholds: 10 minutes of silence while working, a call open for 10 minutes. */
export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = { silentMs: 600_000, unfinishedMs: 600_000 };

/**
 * The hook-channel health of a Claude Code session, pure (the clock and the runtime's liveness come in): `no_signal`
 * when its runtime lives and it is working (or never said) but no hook arrived for `silentMs`; for a remote session
 * (docs/ARCHITECTURE.md §4f: no runtime this machine can see) when its agent has not ended and no signal (a hook, or
 * transcript bytes shipped: `lastShippedAt`, ms) arrived for `silentMs`, never `no_session_end`; `unfinished_call` when
 * the oldest observed call still without a result (`openCallSince`, ISO-8601) was dispatched more than `unfinishedMs` ago; `no_session_end` when its runtime is gone, the agent's session
 * was linked, and no SessionEnd arrived. Claude Code sessions runledger launched and Claude sessions recorded through
 * installed hooks (`external` with a linked agent session) have a hook channel; other agents have none: `[]`.
 */
export const sessionHealth = (
  view: SessionView,
  facts: { now: number; runtimeAlive: boolean | null; openCallSince?: string; lastShippedAt?: number },
  thresholds = DEFAULT_HEALTH_THRESHOLDS,
): HealthFlag[] => {
  const hookChannel = agentCapabilities(view.agent).hooks || (view.agent === 'external' && view.agentSessionId !== undefined);
  if (!hookChannel || view.status === 'terminated') return [];
  const flags: HealthFlag[] = [];
  const lastSignal = Math.max(Date.parse(view.lastHookAt ?? view.createdAt), facts.lastShippedAt ?? 0);
  const working = view.activity === undefined || view.activity === 'working';
  // A remote agent's liveness is its signals alone: silent and not ended is `no_signal`, never dead.
  const mayBeWorking = view.remote ? view.agentEnded === undefined : facts.runtimeAlive === true;
  if (mayBeWorking && working && facts.now - lastSignal > thresholds.silentMs) flags.push('no_signal');
  if (facts.openCallSince !== undefined && facts.now - Date.parse(facts.openCallSince) > thresholds.unfinishedMs) flags.push('unfinished_call');
  if (facts.runtimeAlive === false && view.agentSessionId !== undefined && view.agentEnded === undefined) flags.push('no_session_end');
  return flags;
};
