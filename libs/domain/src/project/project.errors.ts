import { DomainError } from '../shared/domain-error';

/** 404: no project registered under this id. */
export const ProjectNotFound = 'PROJECT.NOT_FOUND';
/** 409: a project with this id is already registered. */
export const ProjectAlreadyRegistered = 'PROJECT.ALREADY_REGISTERED';
/** 409: another orchestrator is active; details.sessionId names it (invariant 11). */
export const ProjectOrchestratorActive = 'PROJECT.ORCHESTRATOR_ACTIVE';
/** 400: a field of the registration is invalid; details.field names it (invariant 13). */
export const ProjectInvalid = 'PROJECT.INVALID';

/** Every error code the project decider throws. */
export const PROJECT_ERROR_CODES = [ProjectNotFound, ProjectAlreadyRegistered, ProjectOrchestratorActive, ProjectInvalid] as const;

/** One of PROJECT_ERROR_CODES. */
export type ProjectErrorCode = (typeof PROJECT_ERROR_CODES)[number];

/** PROJECT.NOT_FOUND (404), naming the id and the request field that named it (details {projectId, field}) when known. */
export const projectNotFound = (projectId?: string, field = 'projectId'): DomainError =>
  projectId === undefined
    ? new DomainError(ProjectNotFound, 'not_found', 'project is not registered')
    : new DomainError(ProjectNotFound, 'not_found', `no project ${projectId}`, { projectId, field });

/** PROJECT.ALREADY_REGISTERED (409) with the existing project id. */
export const projectAlreadyRegistered = (projectId: string): DomainError =>
  new DomainError(ProjectAlreadyRegistered, 'conflict', `project ${projectId} is already registered`, { projectId });

/** PROJECT.ORCHESTRATOR_ACTIVE (409) with details {sessionId} of the active orchestrator. */
export const projectOrchestratorActive = (sessionId: string): DomainError =>
  new DomainError(ProjectOrchestratorActive, 'conflict', `orchestrator ${sessionId} is already active`, { sessionId });

/** PROJECT.INVALID (400) with details {field}. */
export const projectInvalid = (field: string, message: string): DomainError =>
  new DomainError(ProjectInvalid, 'invalid', `${field}: ${message}`, { field });
