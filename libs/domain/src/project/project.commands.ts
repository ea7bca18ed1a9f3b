import type { BudgetThresholdCrossed, ProjectBudgetSet } from '../budget/budget.events';
import type { NotificationRaised, ProjectWebhooksSet } from '../notification/notification.events';
import type { OrchestratorAssigned, ProjectEnvForgotten, OrchestratorReleased, ProjectRegistered, SessionKind } from './project.events';

// A command carries the data of the event it asks for: its fields are declared once, on the event.

/** Register a project; refused PROJECT.ALREADY_REGISTERED (409) or PROJECT.INVALID (400, details.field). */
export interface RegisterProject {
  type: 'RegisterProject';
  data: ProjectRegistered['data'];
}

/** Allocate the next session id of a project; refused PROJECT.NOT_FOUND (404). */
export interface AllocateSessionId {
  type: 'AllocateSessionId';
  data: { kind: SessionKind; at: string };
}

/** Make `sessionId` the active orchestrator; `[]` if it already is; refused PROJECT.ORCHESTRATOR_ACTIVE (409) if another one is (invariant 11). */
export interface AssignOrchestrator {
  type: 'AssignOrchestrator';
  data: OrchestratorAssigned['data'];
}

/** Release `sessionId` as active orchestrator; `[]` if it is not the active one (a half-done replacement can be retried, invariant 11). */
export interface ReleaseOrchestrator {
  type: 'ReleaseOrchestrator';
  data: OrchestratorReleased['data'];
}

/**
 * Forget the values of env variables `names` (all configured ones when absent); `[]` when every one is already forgotten;
 * refused PROJECT.INVALID (400, field `names[i]`) for a name the project does not configure.
 */
export interface ForgetProjectEnv {
  type: 'ForgetProjectEnv';
  data: { names?: string[]; at: ProjectEnvForgotten['data']['at'] };
}

/** Set or change the project's budget; `[]` when it is already exactly that; refused PROJECT.INVALID (400, field usd, period or enforce). */
export interface SetProjectBudget {
  type: 'SetProjectBudget';
  data: ProjectBudgetSet['data'];
}

/** Record that spending crossed a budget threshold; `[]` when that crossing (scope, session, period, amount, threshold) is already recorded. */
export interface RecordBudgetCrossing {
  type: 'RecordBudgetCrossing';
  data: BudgetThresholdCrossed['data'];
}

/** Set the project's webhooks (replacing them); `[]` when they are already exactly these; refused PROJECT.INVALID (400, field webhooks[i]…). */
export interface SetProjectWebhooks {
  type: 'SetProjectWebhooks';
  data: ProjectWebhooksSet['data'];
}

/** Record that a session of the project needs a person (the outbox already holds it once: this appends it). */
export interface RaiseNotification {
  type: 'RaiseNotification';
  data: NotificationRaised['data'];
}

/** Every command of the project decider. */
export type ProjectCommand = RegisterProject | AllocateSessionId | AssignOrchestrator | ReleaseOrchestrator | ForgetProjectEnv
  | SetProjectBudget | RecordBudgetCrossing | SetProjectWebhooks | RaiseNotification;
