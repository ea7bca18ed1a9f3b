/** What a stream id names (docs/ARCHITECTURE.md §2): a session, a project, the system stream, or something else. */
export type ParsedStreamName =
  | { kind: 'session'; sessionId: string }
  | { kind: 'project'; projectId: string }
  | { kind: 'worktree'; key: string }
  | { kind: 'system' }
  | { kind: 'other'; streamId: string };

const SESSION_PREFIX = 'session-';
const PROJECT_PREFIX = 'project-';
const WORKTREE_PREFIX = 'worktree-';

/** Stream name of a path runledger holds (docs/ARCHITECTURE.md §4b): `worktree-<key>`, the key derived from its canonical path. */
export const worktreeStreamName = (key: string): string => `${WORKTREE_PREFIX}${key}`;

/** The system stream (ServerStarted, ReconcileCompleted). */
export const SYSTEM_STREAM = 'system';

/** Stream name of a session: `session-<sessionId>`. */
export const sessionStreamName = (sessionId: string): string => `${SESSION_PREFIX}${sessionId}`;

/** Stream name of a project: `project-<projectId>`. */
export const projectStreamName = (projectId: string): string => `${PROJECT_PREFIX}${projectId}`;

/** The one parser of stream ids: `session-<id>`, `project-<id>`, `worktree-<key>`, `system`, anything else `other` (an empty id is `other`). */
export const parseStreamName = (streamId: string): ParsedStreamName => {
  if (streamId.startsWith(SESSION_PREFIX) && streamId.length > SESSION_PREFIX.length) {
    return { kind: 'session', sessionId: streamId.slice(SESSION_PREFIX.length) };
  }
  if (streamId.startsWith(PROJECT_PREFIX) && streamId.length > PROJECT_PREFIX.length) {
    return { kind: 'project', projectId: streamId.slice(PROJECT_PREFIX.length) };
  }
  if (streamId.startsWith(WORKTREE_PREFIX) && streamId.length > WORKTREE_PREFIX.length) {
    return { kind: 'worktree', key: streamId.slice(WORKTREE_PREFIX.length) };
  }
  return streamId === SYSTEM_STREAM ? { kind: 'system' } : { kind: 'other', streamId };
};

/** The session id of a `session-<id>` stream, or undefined for any other stream. */
export const sessionIdOfStream = (streamId: string): string | undefined => {
  const parsed = parseStreamName(streamId);
  return parsed.kind === 'session' ? parsed.sessionId : undefined;
};
