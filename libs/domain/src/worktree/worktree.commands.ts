/** Record a created worktree; `[]` if it exists at the same path and branch; refused WORKTREE.ALREADY_EXISTS (409). */
export interface RecordWorktreeCreated {
  type: 'RecordWorktreeCreated';
  data: { repo: string; path: string; branch: string; baseRef: string; at: string };
}

/** Record that the worktree's uncommitted work was saved to `ref`; refused WORKTREE.NOT_FOUND (404), WORKTREE.NOT_ACTIVE (409) once its directory is gone. */
export interface RecordWorkPreserved {
  type: 'RecordWorkPreserved';
  data: { repo: string; ref: string; commit: string; at: string };
}

/** Record a removal (`preservedRef` defaults to the last preserved ref); refused WORKTREE.NOT_FOUND (404), WORKTREE.NOT_ACTIVE (409) if already removed. */
export interface RecordWorktreeRemoved {
  type: 'RecordWorktreeRemoved';
  data: { repo: string; preservedRef?: string; at: string };
}

/** Record a failed removal (→ retry_remove); refused WORKTREE.NOT_FOUND (404), WORKTREE.NOT_ACTIVE (409). */
export interface RecordWorktreeRemovalFailed {
  type: 'RecordWorktreeRemovalFailed';
  data: { repo: string; error: string; at: string };
}

/** Record a restore; from an active worktree only when `dirMissing`; refused WORKTREE.NOT_FOUND (404), WORKTREE.NOT_RESTORABLE (409). */
export interface RecordWorktreeRestored {
  type: 'RecordWorktreeRestored';
  data: { repo: string; path: string; appliedRef?: string; conflict?: string; dirMissing?: boolean; at: string };
}

/** Flag the worktree stranded; `[]` if already flagged for the same reason; refused WORKTREE.NOT_FOUND (404). */
export interface FlagWorktreeStranded {
  type: 'FlagWorktreeStranded';
  data: { repo: string; reason: string; at: string };
}

/** Record that the worktree's directory vanished (→ unavailable, preserved ref kept); `[]` when already released; refused WORKTREE.NOT_FOUND (404). */
export interface RecordWorktreeVanished {
  type: 'RecordWorktreeVanished';
  data: { repo: string; rule: string; at: string };
}
/** Record that a repo no longer in the project was skipped (warning, never refused). */
export interface RecordWorktreeSkipped {
  type: 'RecordWorktreeSkipped';
  data: { repo: string; reason: string; at: string };
}

/** Every command of the worktree decider. */
export type WorktreeCommand =
  | RecordWorktreeCreated
  | RecordWorkPreserved
  | RecordWorktreeRemoved
  | RecordWorktreeRemovalFailed
  | RecordWorktreeRestored
  | FlagWorktreeStranded
  | RecordWorktreeVanished
  | RecordWorktreeSkipped;
