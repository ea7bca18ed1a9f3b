import type { ModelPrice } from '../usage/price-table';
import type { BudgetThresholdCrossed, ProjectBudgetSet } from '../budget/budget.events';
import type { NotificationRaised, ProjectWebhook, ProjectWebhooksSet } from '../notification/notification.events';

/** Project layout: one repository, or a workspace of several named repositories. */
export type ProjectKind = 'single-repo' | 'workspace';

/** Session role within a project (docs/ARCHITECTURE.md §2). */
export type SessionKind = 'worker' | 'orchestrator';

/** A repository of a project: `name` is unique in the project, `path` is the absolute path of its main checkout. */
export interface ProjectRepo {
  name: string;
  path: string;
}

/**
 * How the hooks runledger generates for a project's agents behave while runledger is away (docs/ARCHITECTURE.md §4a): they hold
 * the agent up to `hookHoldSeconds` (default 30), then PreToolUse fails closed (`hookFailure: closed`, the default:
 * the call is blocked with a reason the agent reads) or open (the call proceeds; the transcript heals the log).
 * `hookTransport` picks command hooks (`runledger hook claude-code`, the default: they can hold) or HTTP hooks.
 */
export interface ProjectHookSettings {
  hookFailure?: 'closed' | 'open';
  hookHoldSeconds?: number;
  hookTransport?: 'command' | 'http';
}

/**
 * A registered project's configuration as stored in its stream. Env values never enter the log (invariant 16,
 * docs/ARCHITECTURE.md §4c): `envFingerprints` names each variable with the keyed fingerprint of its value, and the values
 * live in the secret store. `env` (values in the log) is only read from logs written before the secret store existed.
 */
export interface ProjectConfig extends ProjectHookSettings {
  projectId: string;
  name: string;
  kind: ProjectKind;
  repos: ProjectRepo[];
  sessionPrefix: string;
  defaultBranch?: string;
  orchestratorAgent?: string;
  /** Env variable name → `hmac-sha256:<hex>` fingerprint of its value (the value is in the secret store). */
  envFingerprints?: Record<string, string>;
  /** Legacy: env values written into the log by earlier versions; never written now. */
  env?: Record<string, string>;
  /** The project's own model prices over the shipped price table (docs/ARCHITECTURE.md §4g): model id or prefix → USD per million tokens. */
  prices?: Record<string, ModelPrice>;
}

/** A project was registered (stream `project-<projectId>`); `at` is ISO-8601. */
export interface ProjectRegistered {
  type: 'ProjectRegistered';
  data: ProjectConfig & { at: string };
}

/** A session id `<sessionPrefix>-<number>` was allocated once and for all; numbers start at 1 and are never reused (docs/ARCHITECTURE.md §2, invariant 7). */
export interface SessionIdAllocated {
  type: 'SessionIdAllocated';
  data: { sessionId: string; number: number; kind: SessionKind; at: string };
}

/** `sessionId` became the project's one active orchestrator (invariant 11). */
export interface OrchestratorAssigned {
  type: 'OrchestratorAssigned';
  data: { sessionId: string; at: string };
}

/** `sessionId` is no longer the project's active orchestrator (invariant 11). */
export interface OrchestratorReleased {
  type: 'OrchestratorReleased';
  data: { sessionId: string; at: string };
}

/** The stored values of env variables `names` were destroyed (crypto-shredding, docs/ARCHITECTURE.md §4c); the log keeps names only. */
export interface ProjectEnvForgotten {
  type: 'ProjectEnvForgotten';
  data: { names: string[]; at: string };
}

/** Every event of a project stream. */
export type ProjectEvent = ProjectRegistered | SessionIdAllocated | OrchestratorAssigned | OrchestratorReleased | ProjectEnvForgotten
  | ProjectBudgetSet | BudgetThresholdCrossed | ProjectWebhooksSet | NotificationRaised;

export type { ProjectWebhook };
