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

/** A family of streams named `<category>-<id>` (docs/ARCHITECTURE.md §2). */
export type StreamCategory = 'session' | 'project' | 'worktree';

const CATEGORY_PREFIXES: Record<StreamCategory, string> = { session: SESSION_PREFIX, project: PROJECT_PREFIX, worktree: WORKTREE_PREFIX };

/** The prefix every stream id of `category` starts with (`session-`, `project-`, `worktree-`): what a store filters on. */
export const streamCategoryPrefix = (category: StreamCategory): string => CATEGORY_PREFIXES[category];

/** True when `streamId` parses as a stream of `category` (a bare prefix such as `session-` is not). */
export const isStreamOfCategory = (streamId: string, category: StreamCategory): boolean => parseStreamName(streamId).kind === category;

/** The session id of a `session-<id>` stream, or undefined for any other stream. */
export const sessionIdOfStream = (streamId: string): string | undefined => {
  const parsed = parseStreamName(streamId);
  return parsed.kind === 'session' ? parsed.sessionId : undefined;
};
