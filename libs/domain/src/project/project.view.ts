import type { ProjectWebhook } from '../notification/notification.events';
import type { ProjectBudget } from '../budget/budget.events';
import { omitUndefined } from '../shared/omit-undefined';
import type { RegisteredProject } from './project.decider';
import type { ProjectHookSettings, ProjectKind, ProjectRepo } from './project.events';

/** What replaces every configured env value in a view (invariant 12). */
export const MASKED_VALUE = '***';
/** What a view shows for an env value that was forgotten (crypto-shredded, docs/ARCHITECTURE.md §4c). */
export const FORGOTTEN_VALUE = '[forgotten]';

/** A project as list endpoints return it: identity only, never config or env (invariant 12). */
export interface ProjectSummary {
  id: string;
  name: string;
  kind: ProjectKind;
  sessionPrefix: string;
  orchestratorAgent?: string;
}

/** One project (`GET /projects/:id`): config with every env value masked as `"***"` (invariant 12); times ISO-8601 from its events. */
export interface ProjectView extends ProjectSummary, ProjectHookSettings {
  repos: ProjectRepo[];
  defaultBranch?: string;
  activeOrchestrator?: string;
  /** Same keys as configured, every value `"***"` (`"[forgotten]"` once forgotten); `{}` when none. */
  env: Record<string, string>;
  /** Env name → keyed fingerprint of its value (`hmac-sha256:<hex>`), as the log carries it; absent for a legacy log. */
  envFingerprints?: Record<string, string>;
  /** The budget in force (docs/ARCHITECTURE.md §4g), absent until one is set. */
  budget?: ProjectBudget;
  /** Where notifications are POSTed (docs/ARCHITECTURE.md §4i), absent until set. */
  webhooks?: ProjectWebhook[];
  nextSessionNumber: number;
  registeredAt: string;
  updatedAt: string;
}

/** The same keys with every value replaced by `"***"` (invariant 12); `{}` for no env. */
export const maskEnv = (env: Readonly<Record<string, string>> | undefined): Record<string, string> =>
  Object.fromEntries(Object.keys(env ?? {}).map((key) => [key, MASKED_VALUE]));

/** The narrow list shape of a registered project: `{id, name, kind, sessionPrefix, orchestratorAgent?}` only (invariant 12). */
export const toProjectSummary = (state: RegisteredProject): ProjectSummary =>
  omitUndefined<ProjectSummary>({
    id: state.projectId,
    name: state.name,
    kind: state.kind,
    sessionPrefix: state.sessionPrefix,
    orchestratorAgent: state.orchestratorAgent,
  });

/** Every configured env name → `"***"`, or `"[forgotten]"` for a forgotten one (invariant 12). */
const envView = (state: RegisteredProject): Record<string, string> => {
  const forgotten = new Set(state.forgottenEnv ?? []);
  const names = [...Object.keys(state.envFingerprints ?? state.env ?? {}), ...forgotten];
  return Object.fromEntries(names.map((name) => [name, forgotten.has(name) ? FORGOTTEN_VALUE : MASKED_VALUE]));
};

/** The full view of a registered project, env values masked (invariant 12); pure, so a rebuild reproduces it (invariant 8). */
export const toProjectView = (state: RegisteredProject): ProjectView =>
  omitUndefined<ProjectView>({
    ...toProjectSummary(state),
    repos: state.repos.map((repo) => ({ name: repo.name, path: repo.path })),
    defaultBranch: state.defaultBranch,
    activeOrchestrator: state.activeOrchestrator,
    env: envView(state),
    envFingerprints: state.envFingerprints,
    hookFailure: state.hookFailure,
    hookHoldSeconds: state.hookHoldSeconds,
    hookTransport: state.hookTransport,
    budget: state.budget,
    webhooks: state.webhooks,
    nextSessionNumber: state.nextSessionNumber,
    registeredAt: state.registeredAt,
    updatedAt: state.updatedAt,
  });
