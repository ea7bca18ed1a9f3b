import { Injectable } from '@nestjs/common';
import { Session, SessionView, toSessionView } from '@runledger/domain';
import { AgentLauncher } from './runtime/agent-launcher';

/** Session snapshots as the API returns them: the pure view plus `runtime.alive`, read live from the OS. */
@Injectable()
export class SessionViews {
  constructor(private readonly launcher: AgentLauncher) {}

  /** The view of a folded state at `revision`. */
  fromState(state: Session, revision: number): SessionView {
    return this.withLiveness(toSessionView(state, revision));
  }

  /** Fills `runtime.alive` of a stored or computed view (pid and start time must both match: a reused pid is not alive). */
  withLiveness(view: SessionView): SessionView {
    if (!view.runtime) return view;
    return { ...view, runtime: { ...view.runtime, alive: this.launcher.isAlive(view.runtime as never) } };
  }
}
