import type { ProjectHookSettings, ProjectKind, ProjectRepo, SessionKind } from './project.events';

/** Register a project; refused PROJECT.ALREADY_REGISTERED (409) or PROJECT.INVALID (400, details.field). */
export interface RegisterProject {
  type: 'RegisterProject';
  data: {
    projectId: string;
    name: string;
    kind: ProjectKind;
    repos: ProjectRepo[];
    sessionPrefix: string;
    defaultBranch?: string;
    orchestratorAgent?: string;
    env?: Record<string, string>;
    at: string;
  } & ProjectHookSettings;
}

/** Allocate the next session id of a project; refused PROJECT.NOT_FOUND (404). */
export interface AllocateSessionId {
  type: 'AllocateSessionId';
  data: { kind: SessionKind; at: string };
}

/** Make `sessionId` the active orchestrator; `[]` if it already is; refused PROJECT.ORCHESTRATOR_ACTIVE (409) if another one is (invariant 11). */
export interface AssignOrchestrator {
  type: 'AssignOrchestrator';
  data: { sessionId: string; at: string };
}

/** Release `sessionId` as active orchestrator; `[]` if it is not the active one (a half-done replacement can be retried, invariant 11). */
export interface ReleaseOrchestrator {
  type: 'ReleaseOrchestrator';
  data: { sessionId: string; at: string };
}

/** Every command of the project decider. */
export type ProjectCommand = RegisterProject | AllocateSessionId | AssignOrchestrator | ReleaseOrchestrator;
