import { Inject, Injectable } from '@nestjs/common';
import { Session, sessionHealth, SessionView, toSessionView } from '@runledger/domain';
import { RunledgerConfig } from '@runledger/infra/config';
import { RUNLEDGER_CONFIG } from '@runledger/infra/tokens';
import { SessionTranscripts } from '../agents/session-transcripts';
import { AgentLauncher } from './runtime/agent-launcher';

/** When the oldest observed call of `state` still without a result was dispatched (ISO-8601), or undefined. */
export const openCallSince = (state: Session): string | undefined =>
  state.toolCalls.values()
    .filter((call) => call.status === 'dispatched' && call.mode === 'observed')
    .map((call) => call.dispatchedAt)
    .reduce<string | undefined>((oldest, at) => (oldest === undefined || at < oldest ? at : oldest), undefined);

/** Session snapshots as the API returns them: the pure view plus `runtime.alive`, read live from the OS. */
@Injectable()
export class SessionViews {
  constructor(
    private readonly launcher: AgentLauncher,
    @Inject(RUNLEDGER_CONFIG) private readonly config: RunledgerConfig,
    private readonly transcripts: SessionTranscripts,
  ) {}

  /** The view of a folded state at `revision`. */
  fromState(state: Session, revision: number): SessionView {
    return this.withLiveness(toSessionView(state, revision), openCallSince(state));
  }

  /**
   * Fills `runtime.alive` of a stored or computed view (pid and start time must both match: a reused pid is not alive)
   * and its hook-channel `health` flags (now, from the clock; `openCall` is when its oldest observed call without a
   * result was dispatched, ReadModels.openCallsSince, for `unfinished_call`). A remote session's signals are its hooks
   * and the transcript bytes it shipped (SessionTranscripts.lastShippedAt).
   */
  withLiveness(view: SessionView, openCall?: string): SessionView {
    const alive = view.runtime ? this.launcher.isAlive(view.runtime as never) : null;
    const { silentMs, unfinishedMs } = this.config.health;
    const shipped = this.transcripts.lastShippedAt({ sessionId: view.id, transcriptPath: view.transcriptPath, remote: view.remote });
    const facts = { now: Date.now(), runtimeAlive: alive, ...(openCall !== undefined ? { openCallSince: openCall } : {}), ...(shipped !== undefined ? { lastShippedAt: shipped } : {}) };
    const health = sessionHealth(view, facts, { silentMs, unfinishedMs });
    return { ...view, ...(view.runtime ? { runtime: { ...view.runtime, alive } } : {}), health };
  }
}
