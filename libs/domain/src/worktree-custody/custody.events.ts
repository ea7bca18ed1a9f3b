/**
 * Events of a custody stream (`worktree-<key>`, one per resolved worktree path): worktrees runledger holds that no session
 * record holds, i.e. orphans the reaper found on disk and the worktrees Claude Code asked runledger to create (docs/ARCHITECTURE.md §4b).
 * Every decision names the `rule` that made it.
 */

/** The reaper found a worktree (or a directory in runledger's worktree root) that no record claims → held as an orphan. */
export interface OrphanWorktreeFound {
  type: 'OrphanWorktreeFound';
  data: { path: string; repoPath?: string; branch?: string; ownerSessionId?: string; rule: string; at: string };
}

/** runledger created a worktree for Claude Code (its WorktreeCreate hook) on behalf of `sessionId` → held for that session. */
export interface AgentWorktreeCreated {
  type: 'AgentWorktreeCreated';
  data: { path: string; repoPath: string; branch: string; baseRef: string; sessionId: string; agentSessionId: string; name: string; at: string };
}

/** The reaper left the worktree in place for `rule` (owner alive, within the grace window, detect-only…); `ownerDeadSince` starts the grace window. */
export interface CustodyWorktreeKept {
  type: 'CustodyWorktreeKept';
  data: { path: string; rule: string; detail: string; ownerDeadSince?: string; at: string };
}

/** The worktree holds work that would be lost (dirty, un-landed commits, unknown state): flagged, never removed (invariant 10). */
export interface CustodyWorktreeStranded {
  type: 'CustodyWorktreeStranded';
  data: { path: string; rule: string; detail: string; at: string };
}

/** The worktree's work (HEAD, or uncommitted files through a temporary index) now has a ref under `refs/runledger/`. */
export interface CustodyWorkPreserved {
  type: 'CustodyWorkPreserved';
  data: { path: string; ref: string; commit: string; at: string };
}

/** The worktree was removed under `rule`; `preservedRef` holds its work. */
export interface CustodyWorktreeRemoved {
  type: 'CustodyWorktreeRemoved';
  data: { path: string; rule: string; preservedRef?: string; at: string };
}

/** A removal was asked (Claude Code's WorktreeRemove) and refused under `rule` (another live session uses the path…). */
export interface CustodyWorktreeRemovalRefused {
  type: 'CustodyWorktreeRemovalRefused';
  data: { path: string; rule: string; detail: string; at: string };
}

/** runledger no longer holds the path: a live record claims it now, or it left the disk by other hands. */
export interface CustodyWorktreeReleased {
  type: 'CustodyWorktreeReleased';
  data: { path: string; rule: string; at: string };
}

/** Every event of a custody stream. */
export type CustodyEvent =
  | OrphanWorktreeFound
  | AgentWorktreeCreated
  | CustodyWorktreeKept
  | CustodyWorktreeStranded
  | CustodyWorkPreserved
  | CustodyWorktreeRemoved
  | CustodyWorktreeRemovalRefused
  | CustodyWorktreeReleased;
