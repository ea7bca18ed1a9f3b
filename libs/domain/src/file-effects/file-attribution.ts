import type { SessionEvent } from '../session/session.events';

/** One event of a session stream at its revision (0-based), as the attribution reads them. */
export interface RevisionedEvent {
  revision: number;
  event: SessionEvent;
}

/** A file state: the git tree of the working files under `root`. */
export interface FileState {
  root: string;
  tree: string;
}

/**
 * What a tool call did to the files (docs/ARCHITECTURE.md §4e): the state before it was allowed and after its result,
 * each absent when no snapshot was taken there (a call seen only in the transcript or an import, a call interrupted, or
 * a session without snapshots); `runId` is the run the call belongs to (a sub-agent's run for its calls).
 */
export interface CallFileEffect {
  callId: string;
  tool: string;
  runId?: string;
  before?: FileState;
  after?: FileState;
  /** Changed paths and line counts the `after` snapshot listed (the call's own when no other snapshot came between). */
  additions: number;
  deletions: number;
  files: number;
}

/** The file effects of a session, folded from its events: per call, the states at every revision, and the pruning. */
export interface FileTimeline {
  calls: Map<string, CallFileEffect>;
  /** Every snapshot and rewind, in log order, with the state it left. */
  states: { revision: number; state: FileState }[];
  prunedAt?: string;
}

const RESULT_WITH_SNAPSHOT = new Set(['hook', 'executor', 'agent']);

/**
 * Folds a session's events into its file timeline (pure). A call's `before` is the state current when its live dispatch
 * was appended (a snapshot is taken before every PreToolUse answer; an unchanged one appends nothing, so the current
 * state stands); its `after` is the state current when its live result was appended (hook, executor or agent: the
 * snapshot is taken before the result is recorded). Dispatches and results from the transcript or an import have none.
 */
export const fileTimeline = (events: readonly RevisionedEvent[]): FileTimeline => {
  const calls = new Map<string, CallFileEffect>();
  const states: FileTimeline['states'] = [];
  let current: FileState | undefined;
  let prunedAt: string | undefined;
  let lastChange: { files: number; additions: number; deletions: number } | undefined;
  for (const { revision, event } of events) {
    switch (event.type) {
      case 'FilesSnapshotted': {
        current = { root: event.data.root, tree: event.data.tree };
        states.push({ revision, state: current });
        lastChange =
          event.data.phase === 'after'
            ? {
                files: event.data.changedCount,
                additions: event.data.changed.reduce((sum, change) => sum + (change.additions ?? 0), 0),
                deletions: event.data.changed.reduce((sum, change) => sum + (change.deletions ?? 0), 0),
              }
            : undefined;
        break;
      }
      case 'FilesRewound':
        current = { root: event.data.root, tree: event.data.tree };
        states.push({ revision, state: current });
        lastChange = undefined;
        break;
      case 'FileSnapshotsPruned':
        prunedAt = event.data.at;
        break;
      case 'ToolCallDispatched': {
        const live = event.data.source === undefined;
        calls.set(event.data.callId, {
          callId: event.data.callId,
          tool: event.data.tool,
          ...(event.data.runId ? { runId: event.data.runId } : {}),
          ...(live && current ? { before: current } : {}),
          additions: 0,
          deletions: 0,
          files: 0,
        });
        lastChange = undefined;
        break;
      }
      case 'ToolCallCompleted':
      case 'ToolCallFailed': {
        const call = calls.get(event.data.callId);
        if (call?.before && current && RESULT_WITH_SNAPSHOT.has(event.data.source)) {
          call.after = current;
          if (current.tree !== call.before.tree && lastChange) Object.assign(call, lastChange);
        }
        lastChange = undefined;
        break;
      }
      default:
        break;
    }
  }
  return { calls, states, ...(prunedAt ? { prunedAt } : {}) };
};

/** The file state at `revision` (the last snapshot or rewind at or before it), or undefined before the first one. */
export const fileStateAt = (timeline: FileTimeline, revision: number): FileState | undefined => {
  let found: FileState | undefined;
  for (const entry of timeline.states) {
    if (entry.revision > revision) break;
    found = entry.state;
  }
  return found;
};

/** `+3 −1 in 2 files` for a call that changed files, undefined for one that did not (or whose effect is unknown). */
export const describeFileEffect = (call: Pick<CallFileEffect, 'before' | 'after' | 'additions' | 'deletions' | 'files'>): string | undefined => {
  if (!call.before || !call.after || call.before.tree === call.after.tree) return undefined;
  return `+${call.additions} −${call.deletions} in ${call.files} file${call.files === 1 ? '' : 's'}`;
};
