import * as path from 'node:path';
import { RegisteredProject } from '@runledger/domain';

/** Branch of a session's worktrees (runledger's own namespace, invariant 10). */
export const sessionBranch = (sessionId: string): string => `runledger/${sessionId}`;

/** `<dataDir>/worktrees/<projectId>/<sessionId>` (single-repo) or `…/<sessionId>/<repo>` (workspace). */
export const worktreePath = (dataDir: string, project: RegisteredProject, sessionId: string, repo: string): string =>
  project.kind === 'workspace'
    ? path.join(dataDir, 'worktrees', project.projectId, sessionId, repo)
    : path.join(dataDir, 'worktrees', project.projectId, sessionId);

/** The directory the agent runs in: the worktree (single-repo) or the folder holding the repos' worktrees (workspace). */
export const sessionWorkdir = (dataDir: string, project: RegisteredProject, sessionId: string): string =>
  path.join(dataDir, 'worktrees', project.projectId, sessionId);

/** `refs/runledger/preserved/<sessionId>[/<repo>]` (docs/ARCHITECTURE.md §3): one ref per repo for workspaces. */
export const preservedRef = (project: RegisteredProject, sessionId: string, repo: string): string =>
  project.kind === 'workspace' ? `refs/runledger/preserved/${sessionId}/${repo}` : `refs/runledger/preserved/${sessionId}`;

/** `<dataDir>/logs/<sessionId>.log`: the agent runtime's stdout and stderr. */
export const sessionLogPath = (dataDir: string, sessionId: string): string => path.join(dataDir, 'logs', `${sessionId}.log`);
