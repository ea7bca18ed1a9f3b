/**
 * When a snapshot of a session's working files was taken (docs/ARCHITECTURE.md §4e): at a run's start and end, before a
 * call is allowed, after its result is known, and after a rewind. Changes a `before`, `run_start` or `run_end` snapshot
 * records were made outside any call (a person, a background process).
 */
export type SnapshotPhase = 'run_start' | 'before' | 'after' | 'run_end' | 'rewind';

/** How a path differs between two snapshots (git's A, M, D, T). */
export type FileChangeStatus = 'added' | 'modified' | 'deleted' | 'type_changed';

/** One changed path: its status and line counts (`null` for a binary file, as git's numstat reports `-`). */
export interface ChangedFile {
  path: string;
  status: FileChangeStatus;
  additions: number | null;
  deletions: number | null;
}

/** Why a path is not in a snapshot: over RUNLEDGER_SNAPSHOT_MAX_FILE_BYTES, ignored by the repository's ignore rules, or a nested repository. */
export type SkipReason = 'too_large' | 'ignored' | 'nested_repository';

/** A path a snapshot left out, never silently (`bytes` for a file too large). */
export interface SkippedFile {
  path: string;
  reason: SkipReason;
  bytes?: number;
}

/**
 * The session's working files under `root` became git tree `tree` (in runledger's snapshot repository) → the session's
 * file state there. `changed` is against `previousTree` (the last snapshot of `root`, or the worktree's HEAD tree for the
 * first one), at most FILE_CHANGES_LISTED entries (`changedCount` gives them all). Appended only when the tree changed.
 * Changes of a snapshot that is not a call's `after` belong to no call unless `callsInFlight` names calls running then.
 */
export interface FilesSnapshotted {
  type: 'FilesSnapshotted';
  data: {
    root: string;
    tree: string;
    previousTree: string;
    phase: SnapshotPhase;
    callId?: string;
    runId?: string;
    changed: ChangedFile[];
    changedCount: number;
    skipped?: SkippedFile[];
    /** Calls that were running when it was taken (other than `callId`): its changes may be theirs, so they are not "outside any call". */
    callsInFlight?: string[];
    at: string;
  };
}

/**
 * The files under `root` were put back to `tree`, the state before or after call `callId`; the state they had is kept in
 * `preservedTree`, reachable from `preservedRef` of the snapshot repository.
 */
export interface FilesRewound {
  type: 'FilesRewound';
  data: { root: string; callId: string; phase: 'before' | 'after'; tree: string; preservedRef: string; preservedTree: string; at: string };
}

/** The session's snapshots were pruned on request: its diffs and file reads then answer that they were pruned. */
export interface FileSnapshotsPruned {
  type: 'FileSnapshotsPruned';
  data: { reason: string; at: string };
}

/** Every file-effect event of a session stream. */
export type FileEffectEvent = FilesSnapshotted | FilesRewound | FileSnapshotsPruned;

/** Most changed paths one FilesSnapshotted lists (`changedCount` counts them all). */
export const FILE_CHANGES_LISTED = 1000;

/** The file state a session's fold keeps: the last tree of each snapshotted root, and whether the snapshots were pruned. */
export interface SessionFiles {
  trees: Record<string, string>;
  pruned?: { at: string };
}
