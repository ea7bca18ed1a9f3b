/** Result of a read-model rebuild: events replayed and wall time in milliseconds. */
export interface RebuildOutcome {
  events: number;
  ms: number;
}

/**
 * The read-model projection's progress, as the api sees it (docs/ARCHITECTURE.md §1, invariant 8). Provided by the
 * worker role; a process without it has no provider, and callers say so (503) or answer without waiting.
 */
export interface ProjectionProgress {
  /** Resolves once the read models hold the event at `globalPosition`; rejects after `timeoutMs` milliseconds. */
  waitForPosition(globalPosition: number, timeoutMs: number): Promise<void>;
  /** Events committed to the log that the read models do not hold yet (0 when caught up). */
  lag(): Promise<number>;
  /** Drops and replays the read models; `onProgress(done, total)` after each batch; throws if a rebuild is under way. */
  rebuild(onProgress?: (done: number, total: number) => void): Promise<RebuildOutcome>;
}

/** Nest injection token for the ProjectionProgress port (inject with `@Optional()`: absent without the worker role). */
export const PROJECTION_PROGRESS = Symbol('ProjectionProgress');
