import type { ReaperVerdict } from './reaper.policy';

/** Take an orphan found on disk into custody; `[]` if already held. */
export interface TakeOrphanWorktree {
  type: 'TakeOrphanWorktree';
  data: { path: string; repoPath?: string; branch?: string; ownerSessionId?: string; at: string };
}

/** Record the worktree runledger created for Claude Code's WorktreeCreate; `[]` if held for the same session and branch; refused CUSTODY.PATH_HELD (409) otherwise. */
export interface RecordAgentWorktreeCreated {
  type: 'RecordAgentWorktreeCreated';
  data: { path: string; repoPath: string; branch: string; baseRef: string; sessionId: string; agentSessionId: string; name: string; at: string };
}

/**
 * Record the reaper's verdict (from `reaperPolicy`). Keep: `[]` when the last decision had the same rule and dead-since.
 * Strand: `[]` within `strandCooldownMs` of the last flag for the same rule. Release: `[]` when not held.
 * Remove is not recorded here: it is RecordCustodyRemoved, once git removed the directory. Refused CUSTODY.NOT_HELD (404).
 */
export interface RecordReaperVerdict {
  type: 'RecordReaperVerdict';
  data: { path: string; verdict: ReaperVerdict; strandCooldownMs: number; at: string };
}

/** Record the ref that now holds the worktree's work; refused CUSTODY.NOT_HELD (404). */
export interface RecordCustodyPreserved {
  type: 'RecordCustodyPreserved';
  data: { path: string; ref: string; commit: string; at: string };
}

/** Record the removal under `rule`; refused CUSTODY.NOT_HELD (404). */
export interface RecordCustodyRemoved {
  type: 'RecordCustodyRemoved';
  data: { path: string; rule: string; preservedRef?: string; at: string };
}

/** Record a refused removal request; refused CUSTODY.NOT_HELD (404). */
export interface RefuseCustodyRemoval {
  type: 'RefuseCustodyRemoval';
  data: { path: string; rule: string; detail: string; at: string };
}

/** Every command of the custody decider. */
export type CustodyCommand =
  | TakeOrphanWorktree
  | RecordAgentWorktreeCreated
  | RecordReaperVerdict
  | RecordCustodyPreserved
  | RecordCustodyRemoved
  | RefuseCustodyRemoval;
