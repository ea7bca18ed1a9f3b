import { DomainError } from '../shared/domain-error';

/** 404: the session stream is empty. */
export const SessionNotFound = 'SESSION.NOT_FOUND';
/** 409: a session already exists under this id (ids are never re-minted, invariant 7). */
export const SessionAlreadyStarted = 'SESSION.ALREADY_STARTED';
/** 409: the session is terminated (details.status). */
export const SessionAlreadyTerminated = 'SESSION.ALREADY_TERMINATED';
/** 409: the command does not apply to the session's status (details.status, restoring). */
export const SessionInvalidTransition = 'SESSION.INVALID_TRANSITION';
/** 409: the session is terminated, so no new tool call, run or worktree (details.status). */
export const SessionNotActive = 'SESSION.NOT_ACTIVE';
/** 409: only an interrupted or terminated session can be restored (details.status). */
export const SessionNotRestorable = 'SESSION.NOT_RESTORABLE';
/** 409: only an orchestrator is retired (details.kind). */
export const SessionNotOrchestrator = 'SESSION.NOT_ORCHESTRATOR';
/** 409: a retiring orchestrator still holds a worktree (details.worktrees: [{repo, status}]) (invariant 11). */
export const SessionWorktreeNotReleased = 'SESSION.WORKTREE_NOT_RELEASED';
/** 400: a field of the command is invalid (details.field). */
export const SessionInvalid = 'SESSION.INVALID';
/** 404: no agent run with this runId (details.runId). */
export const AgentRunNotFound = 'AGENT_RUN.NOT_FOUND';
/** 409: the run is not started any more (details.status). */
export const AgentRunNotOpen = 'AGENT_RUN.NOT_OPEN';

/** Every error code the session decider throws itself (it also throws TOOL_CALL.* and WORKTREE.* from the deciders it composes). */
export const SESSION_ERROR_CODES = [SessionNotFound, SessionAlreadyStarted, SessionAlreadyTerminated, SessionInvalidTransition, SessionNotActive, SessionNotRestorable, SessionNotOrchestrator, SessionWorktreeNotReleased, SessionInvalid, AgentRunNotFound, AgentRunNotOpen] as const;

/** One of SESSION_ERROR_CODES. */
export type SessionErrorCode = (typeof SESSION_ERROR_CODES)[number];

/** SESSION.NOT_FOUND (404), naming the id (details {sessionId}) when known, and the request field that named it when given. */
export const sessionNotFound = (sessionId?: string, field?: string): DomainError =>
  sessionId === undefined
    ? new DomainError(SessionNotFound, 'not_found', 'session not found')
    : new DomainError(SessionNotFound, 'not_found', `no session ${sessionId}`, { sessionId, ...(field ? { field } : {}) });

/** SESSION.ALREADY_STARTED (409) with details {sessionId, status}. */
export const sessionAlreadyStarted = (sessionId: string, status: string): DomainError =>
  new DomainError(SessionAlreadyStarted, 'conflict', `session ${sessionId} already exists (${status})`, { sessionId, status });

/** SESSION.ALREADY_TERMINATED (409) with details {sessionId, status}. */
export const sessionAlreadyTerminated = (sessionId: string): DomainError =>
  new DomainError(SessionAlreadyTerminated, 'conflict', `session ${sessionId} is already terminated`, {
    sessionId,
    status: 'terminated',
  });

/** SESSION.INVALID_TRANSITION (409) with details {sessionId, status, restoring, command}. */
export const sessionInvalidTransition = (sessionId: string, status: string, restoring: boolean, command: string): DomainError =>
  new DomainError(SessionInvalidTransition, 'conflict', `${command} does not apply to session ${sessionId} (${status})`, {
    sessionId,
    status,
    restoring,
    command,
  });

/** SESSION.NOT_ACTIVE (409) with details {sessionId, status}. */
export const sessionNotActive = (sessionId: string, status: string): DomainError =>
  new DomainError(SessionNotActive, 'conflict', `session ${sessionId} is ${status}`, { sessionId, status });

/** SESSION.NOT_RESTORABLE (409) with details {sessionId, status}. */
export const sessionNotRestorable = (sessionId: string, status: string): DomainError =>
  new DomainError(SessionNotRestorable, 'conflict', `session ${sessionId} is ${status}; only interrupted or terminated sessions are restored`, {
    sessionId,
    status,
  });

/** SESSION.NOT_ORCHESTRATOR (409) with details {sessionId, kind}. */
export const sessionNotOrchestrator = (sessionId: string, kind: string): DomainError =>
  new DomainError(SessionNotOrchestrator, 'conflict', `session ${sessionId} is a ${kind}, not an orchestrator`, { sessionId, kind });

/** SESSION.WORKTREE_NOT_RELEASED (409) with details {sessionId, worktrees: [{repo, status}]}. */
export const sessionWorktreeNotReleased = (sessionId: string, worktrees: { repo: string; status: string }[]): DomainError =>
  new DomainError(
    SessionWorktreeNotReleased,
    'conflict',
    `session ${sessionId} still holds worktree(s) ${worktrees.map((w) => w.repo).join(', ')}`,
    { sessionId, worktrees },
  );

/** SESSION.INVALID (400) with details {field}. */
export const sessionInvalid = (field: string, message: string): DomainError =>
  new DomainError(SessionInvalid, 'invalid', `${field}: ${message}`, { field });

/** AGENT_RUN.NOT_FOUND (404) with details {runId}. */
export const agentRunNotFound = (runId: string): DomainError =>
  new DomainError(AgentRunNotFound, 'not_found', `agent run ${runId} not found`, { runId });

/** AGENT_RUN.NOT_OPEN (409) with details {runId, status}. */
export const agentRunNotOpen = (runId: string, status: string): DomainError =>
  new DomainError(AgentRunNotOpen, 'conflict', `agent run ${runId} is ${status}`, { runId, status });
