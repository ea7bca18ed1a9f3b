import { Injectable } from '@nestjs/common';
import { Session, sessionHealth, SessionView, toSessionView } from '@runledger/domain';
import { AgentLauncher } from './runtime/agent-launcher';

/** Session snapshots as the API returns them: the pure view plus `runtime.alive`, read live from the OS. */
@Injectable()
export class SessionViews {
  constructor(private readonly launcher: AgentLauncher) {}

  /** The view of a folded state at `revision`. */
  fromState(state: Session, revision: number): SessionView {
    return this.withLiveness(toSessionView(state, revision));
  }

  /**
   * Fills `runtime.alive` of a stored or computed view (pid and start time must both match: a reused pid is not alive)
   * and its hook-channel `health` flags (now, from the clock).
   */
  withLiveness(view: SessionView): SessionView {
    const alive = view.runtime ? this.launcher.isAlive(view.runtime as never) : null;
    const health = sessionHealth(view, { now: Date.now(), runtimeAlive: alive });
    return { ...view, ...(view.runtime ? { runtime: { ...view.runtime, alive } } : {}), health };
  }
}
