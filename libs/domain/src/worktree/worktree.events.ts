/** A git worktree was created for `repo` at `path` on `branch` from `baseRef` → active. */
export interface WorktreeCreated {
  type: 'WorktreeCreated';
  data: { repo: string; path: string; branch: string; baseRef: string; at: string };
}

/** Uncommitted work was saved to `ref` (`refs/runledger/preserved/...`) at `commit`; the state does not change (invariant 10). */
export interface WorktreeWorkPreserved {
  type: 'WorktreeWorkPreserved';
  data: { repo: string; ref: string; commit: string; at: string };
}

/** The worktree directory was removed → `unavailable` when `preservedRef` holds its work, else `removed`. */
export interface WorktreeRemoved {
  type: 'WorktreeRemoved';
  data: { repo: string; preservedRef?: string; at: string };
}

/** Removal failed and will be retried → retry_remove. */
export interface WorktreeRemovalFailed {
  type: 'WorktreeRemovalFailed';
  data: { repo: string; error: string; at: string };
}

/** The worktree was recreated at `path`, `appliedRef` replayed into it (`conflict` set when it did not apply cleanly; the ref is then kept) → restored. */
export interface WorktreeRestored {
  type: 'WorktreeRestored';
  data: { repo: string; path: string; appliedRef?: string; conflict?: string; at: string };
}

/** The worktree holds work nobody is attending to (e.g. its owner is dead with un-landed commits): flag only, never removed for it (invariant 10). */
export interface WorktreeStranded {
  type: 'WorktreeStranded';
  data: { repo: string; reason: string; at: string };
}

/** The reaper found the worktree's directory gone while the record still held it → `unavailable` (keeping any preserved ref); restore repairs it. `rule` names the reaper rule (docs/ARCHITECTURE.md §4b). */
export interface WorktreeVanished {
  type: 'WorktreeVanished';
  data: { repo: string; rule: string; at: string };
}

/** A repo of the session is no longer in the project and was skipped: a warning, never fatal; no worktree state changes. */
export interface WorktreeSkipped {
  type: 'WorktreeSkipped';
  data: { repo: string; reason: string; at: string };
}

/** Every event of one worktree. */
export type WorktreeEvent =
  | WorktreeCreated
  | WorktreeWorkPreserved
  | WorktreeRemoved
  | WorktreeRemovalFailed
  | WorktreeRestored
  | WorktreeStranded
  | WorktreeVanished
  | WorktreeSkipped;
