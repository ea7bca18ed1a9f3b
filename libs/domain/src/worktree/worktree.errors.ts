import { DomainError } from '../shared/domain-error';

/** 404: the session has no worktree for this repo. */
export const WorktreeNotFound = 'WORKTREE.NOT_FOUND';
/** 409: the worktree's directory is already gone (details.status). */
export const WorktreeNotActive = 'WORKTREE.NOT_ACTIVE';
/** 409: a worktree for this repo already exists elsewhere or in another state (details.status, path). */
export const WorktreeAlreadyExists = 'WORKTREE.ALREADY_EXISTS';
/** 409: the worktree is in place and cannot be restored (details.status). */
export const WorktreeNotRestorable = 'WORKTREE.NOT_RESTORABLE';

/** 409: another process (the janitor, the reaper) is removing this worktree and did not finish within the wait (details.repo, waitedMs). */
export const WorktreeBusy = 'WORKTREE.BUSY';

/** Every error code of worktrees: the decider's, and WORKTREE.BUSY of the worktree lease. */
export const WORKTREE_ERROR_CODES = [WorktreeNotFound, WorktreeNotActive, WorktreeAlreadyExists, WorktreeNotRestorable, WorktreeBusy] as const;

/** One of WORKTREE_ERROR_CODES. */
export type WorktreeErrorCode = (typeof WORKTREE_ERROR_CODES)[number];

/** WORKTREE.NOT_FOUND (404) with details {repo}. */
export const worktreeNotFound = (repo: string): DomainError =>
  new DomainError(WorktreeNotFound, 'not_found', `no worktree for repo ${repo}`, { repo });

/** WORKTREE.NOT_ACTIVE (409) with details {repo, status}. */
export const worktreeNotActive = (repo: string, status: string): DomainError =>
  new DomainError(WorktreeNotActive, 'conflict', `worktree for repo ${repo} is ${status}`, { repo, status });

/** WORKTREE.ALREADY_EXISTS (409) with details {repo, status, path}. */
export const worktreeAlreadyExists = (repo: string, status: string, path: string): DomainError =>
  new DomainError(WorktreeAlreadyExists, 'conflict', `worktree for repo ${repo} already exists (${status}, ${path})`, {
    repo,
    status,
    path,
  });

/** WORKTREE.NOT_RESTORABLE (409) with details {repo, status}. */
export const worktreeNotRestorable = (repo: string, status: string): DomainError =>
  new DomainError(WorktreeNotRestorable, 'conflict', `worktree for repo ${repo} is ${status} and cannot be restored`, {
    repo,
    status,
  });

/** WORKTREE.BUSY (409) with details {repo, waitedMs}: retry once the other process is done. */
export const worktreeBusy = (repo: string, waitedMs: number): DomainError =>
  new DomainError(WorktreeBusy, 'conflict', `the worktree for repo ${repo} is being removed by another process; retry`, { repo, waitedMs });
