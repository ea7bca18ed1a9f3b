import { DomainError } from '../shared/domain-error';

/** 404: runledger holds no worktree at this path. */
export const CustodyNotHeld = 'CUSTODY.NOT_HELD';
/** 409: the path is already held for another session or branch (details.sessionId, branch). */
export const CustodyPathHeld = 'CUSTODY.PATH_HELD';

/** Builds CUSTODY.NOT_HELD for `path`. */
export const custodyNotHeld = (path: string): DomainError =>
  new DomainError(CustodyNotHeld, 'not_found', `runledger holds no worktree at ${path}`, { path });
/** Builds CUSTODY.PATH_HELD for `path`. */
export const custodyPathHeld = (path: string, sessionId: string | undefined, branch: string | undefined): DomainError =>
  new DomainError(CustodyPathHeld, 'conflict', `${path} is already held${sessionId ? ` for ${sessionId}` : ''}`, { path, sessionId, branch });
