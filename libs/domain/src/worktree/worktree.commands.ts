import type {
  WorktreeCreated,
  WorktreeRemovalFailed,
  WorktreeRemoved,
  WorktreeRestored,
  WorktreeSkipped,
  WorktreeStranded,
  WorktreeWorkPreserved,
} from './worktree.events';

// A command carries the data of the event it asks for: its fields are declared once, on the event.
/** Record a created worktree; `[]` if it exists at the same path and branch; refused WORKTREE.ALREADY_EXISTS (409). */
export interface RecordWorktreeCreated {
  type: 'RecordWorktreeCreated';
  data: WorktreeCreated['data'];
}

/** Record that the worktree's uncommitted work was saved to `ref`; refused WORKTREE.NOT_FOUND (404), WORKTREE.NOT_ACTIVE (409) once its directory is gone. */
export interface RecordWorkPreserved {
  type: 'RecordWorkPreserved';
  data: WorktreeWorkPreserved['data'];
}

/** Record a removal (`preservedRef` defaults to the last preserved ref); refused WORKTREE.NOT_FOUND (404), WORKTREE.NOT_ACTIVE (409) if already removed. */
export interface RecordWorktreeRemoved {
  type: 'RecordWorktreeRemoved';
  data: WorktreeRemoved['data'];
}

/** Record a failed removal (→ retry_remove); refused WORKTREE.NOT_FOUND (404), WORKTREE.NOT_ACTIVE (409). */
export interface RecordWorktreeRemovalFailed {
  type: 'RecordWorktreeRemovalFailed';
  data: WorktreeRemovalFailed['data'];
}

/** Record a restore; from an active or restored worktree only when `dirMissing`; refused WORKTREE.NOT_FOUND (404), WORKTREE.NOT_RESTORABLE (409). */
export interface RecordWorktreeRestored {
  type: 'RecordWorktreeRestored';
  data: WorktreeRestored['data'] & { dirMissing?: boolean };
}

/** Flag the worktree stranded; `[]` if already flagged for the same reason; refused WORKTREE.NOT_FOUND (404). */
export interface FlagWorktreeStranded {
  type: 'FlagWorktreeStranded';
  data: WorktreeStranded['data'];
}

/** Record that the worktree's directory vanished (→ unavailable, preserved ref kept); `[]` when already released; refused WORKTREE.NOT_FOUND (404). */
export interface RecordWorktreeVanished {
  type: 'RecordWorktreeVanished';
  data: { repo: string; rule: string; at: string };
}
/** Record that a repo no longer in the project was skipped (warning, never refused). */
export interface RecordWorktreeSkipped {
  type: 'RecordWorktreeSkipped';
  data: WorktreeSkipped['data'];
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
