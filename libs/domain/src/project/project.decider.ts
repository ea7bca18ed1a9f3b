import { assertNever } from '../shared/assert-never';
import type { Decider } from '../shared/decider';
import { omitUndefined } from '../shared/omit-undefined';
import type {
  AllocateSessionId,
  AssignOrchestrator,
  ForgetProjectEnv,
  ProjectCommand,
  RegisterProject,
  RecordBudgetCrossing,
  ReleaseOrchestrator,
  SetProjectBudget,
  SetProjectWebhooks,
} from './project.commands';
import type { ProjectWebhook } from '../notification/notification.events';
import { webhooksProblem } from '../notification/notification.policy';
import type { ProjectBudget } from '../budget/budget.events';
import { budgetProblem, crossingKey } from '../budget/budget.policy';
import { projectAlreadyRegistered, projectInvalid, projectNotFound, projectOrchestratorActive } from './project.errors';
import type { ProjectConfig, ProjectEvent } from './project.events';

/** Longest hook hold a project may set (seconds): Claude Code's own hook timeout is 600 s. */
export const MAX_HOOK_HOLD_SECONDS = 540;

export type { ProjectConfig } from './project.events';

/** A registered project: config, the next session number (≥ 1) and the active orchestrator, if any (invariant 11). */
export type RegisteredProject = ProjectConfig & {
  status: 'registered';
  /** Env names whose values were forgotten (crypto-shredded), in the order they were. */
  forgottenEnv?: string[];
  nextSessionNumber: number;
  activeOrchestrator?: string;
  /** The budget in force (docs/ARCHITECTURE.md §4g), absent until one is set. */
  budget?: ProjectBudget;
  /** Keys (`crossingKey`) of the budget crossings recorded, so each is recorded once. */
  budgetCrossings?: string[];
  /** Where notifications are POSTed (docs/ARCHITECTURE.md §4i); absent until set. */
  webhooks?: ProjectWebhook[];
  registeredAt: string;
  updatedAt: string;
};

/** State of a project stream: nothing yet, or registered. */
export type ProjectState = { status: 'none' } | RegisteredProject;

/** Session ids, branch and ref segments share this alphabet. */
const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export { projectStreamName } from '../shared/stream-names';

/** Formats a session id: `<sessionPrefix>-<n>` (docs/ARCHITECTURE.md §2). */
export const formatSessionId = (sessionPrefix: string, n: number): string => `${sessionPrefix}-${n}`;

const registered = (state: ProjectState): RegisteredProject => {
  if (state.status === 'none') throw projectNotFound();
  return state;
};

const validate = ({ data }: RegisterProject): void => {
  if (!data.projectId.trim()) throw projectInvalid('projectId', 'must not be empty');
  if (!data.name.trim()) throw projectInvalid('name', 'must not be empty');
  if (!SLUG.test(data.sessionPrefix)) throw projectInvalid('sessionPrefix', 'letters, digits, ".", "_" or "-" only');
  if (data.repos.length === 0) throw projectInvalid('repos', 'at least one repo is required');
  if (data.kind === 'single-repo' && data.repos.length !== 1) {
    throw projectInvalid('repos', 'a single-repo project has exactly one repo');
  }
  const hold = data.hookHoldSeconds;
  if (hold !== undefined && !(Number.isInteger(hold) && hold >= 0 && hold <= MAX_HOOK_HOLD_SECONDS)) {
    throw projectInvalid('hookHoldSeconds', `an integer from 0 to ${MAX_HOOK_HOLD_SECONDS}`);
  }
  if (data.hookFailure !== undefined && data.hookFailure !== 'closed' && data.hookFailure !== 'open') throw projectInvalid('hookFailure', 'closed or open');
  if (data.hookTransport !== undefined && data.hookTransport !== 'command' && data.hookTransport !== 'http') throw projectInvalid('hookTransport', 'command or http');
  const names = new Set<string>();
  data.repos.forEach((repo, i) => {
    if (!SLUG.test(repo.name)) throw projectInvalid(`repos[${i}].name`, 'letters, digits, ".", "_" or "-" only');
    if (names.has(repo.name)) throw projectInvalid(`repos[${i}].name`, `duplicate repo name ${repo.name}`);
    if (!repo.path.trim()) throw projectInvalid(`repos[${i}].path`, 'must not be empty');
    names.add(repo.name);
  });
};

const register = (command: RegisterProject, state: ProjectState): ProjectEvent[] => {
  if (state.status !== 'none') throw projectAlreadyRegistered(state.projectId);
  validate(command);
  return [{ type: 'ProjectRegistered', data: omitUndefined({ ...command.data }) }];
};

const allocate = (command: AllocateSessionId, state: ProjectState): ProjectEvent[] => {
  const project = registered(state);
  const number = project.nextSessionNumber;
  return [
    {
      type: 'SessionIdAllocated',
      data: { sessionId: formatSessionId(project.sessionPrefix, number), number, kind: command.data.kind, at: command.data.at },
    },
  ];
};

const assign = (command: AssignOrchestrator, state: ProjectState): ProjectEvent[] => {
  const project = registered(state);
  if (project.activeOrchestrator === command.data.sessionId) return [];
  if (project.activeOrchestrator !== undefined) throw projectOrchestratorActive(project.activeOrchestrator);
  return [{ type: 'OrchestratorAssigned', data: { ...command.data } }];
};

const release = (command: ReleaseOrchestrator, state: ProjectState): ProjectEvent[] => {
  const project = registered(state);
  if (project.activeOrchestrator !== command.data.sessionId) return [];
  return [{ type: 'OrchestratorReleased', data: { ...command.data } }];
};

/** The env variable names a project configures (fingerprinted, or legacy values in the log). */
export const envNames = (project: ProjectConfig): string[] => Object.keys(project.envFingerprints ?? project.env ?? {});

const forget = (command: ForgetProjectEnv, state: ProjectState): ProjectEvent[] => {
  const project = registered(state);
  const configured = [...envNames(project), ...(project.forgottenEnv ?? [])];
  const asked = command.data.names ?? configured;
  asked.forEach((name, i) => {
    if (!configured.includes(name)) throw projectInvalid(`names[${i}]`, `the project configures no env variable ${JSON.stringify(name)}`);
  });
  const forgotten = new Set(project.forgottenEnv ?? []);
  const names = [...new Set(asked)].filter((name) => !forgotten.has(name));
  return names.length === 0 ? [] : [{ type: 'ProjectEnvForgotten', data: { names, at: command.data.at } }];
};

const setBudget = ({ data }: SetProjectBudget, state: ProjectState): ProjectEvent[] => {
  const project = registered(state);
  const problem = budgetProblem(data);
  if (problem) throw projectInvalid(problem.field, problem.message);
  const b = project.budget;
  if (b && b.usd === data.usd && b.period === data.period && b.enforce === data.enforce) return [];
  return [{ type: 'ProjectBudgetSet', data: { usd: data.usd, period: data.period, enforce: data.enforce, at: data.at } }];
};

const recordCrossing = ({ data }: RecordBudgetCrossing, state: ProjectState): ProjectEvent[] => {
  const project = registered(state);
  const key = crossingKey(data, data.threshold);
  return project.budgetCrossings?.includes(key) ? [] : [{ type: 'BudgetThresholdCrossed', data: { ...data } }];
};

const setWebhooks = ({ data }: SetProjectWebhooks, state: ProjectState): ProjectEvent[] => {
  const project = registered(state);
  const problem = webhooksProblem(data.webhooks);
  if (problem) throw projectInvalid(problem.field, problem.message);
  const webhooks = data.webhooks.map((w) => ({ url: w.url, ...(w.kinds ? { kinds: [...w.kinds] } : {}) }));
  if (JSON.stringify(project.webhooks ?? []) === JSON.stringify(webhooks)) return [];
  return [{ type: 'ProjectWebhooksSet', data: { webhooks, at: data.at } }];
};

/** Decides a project command; throws PROJECT.NOT_FOUND, PROJECT.ALREADY_REGISTERED, PROJECT.INVALID or PROJECT.ORCHESTRATOR_ACTIVE. */
export const decideProject = (command: ProjectCommand, state: ProjectState): ProjectEvent[] => {
  switch (command.type) {
    case 'RegisterProject':
      return register(command, state);
    case 'AllocateSessionId':
      return allocate(command, state);
    case 'AssignOrchestrator':
      return assign(command, state);
    case 'ReleaseOrchestrator':
      return release(command, state);
    case 'ForgetProjectEnv':
      return forget(command, state);
    case 'SetProjectBudget':
      return setBudget(command, state);
    case 'RecordBudgetCrossing':
      return recordCrossing(command, state);
    case 'SetProjectWebhooks':
      return setWebhooks(command, state);
    case 'RaiseNotification':
      registered(state);
      return [{ type: 'NotificationRaised', data: { ...command.data } }];
    default:
      return assertNever(command);
  }
};

/** Folds one project event; numbers only grow (previous max + 1), so an id is never re-minted. */
export const evolveProject = (state: ProjectState, event: ProjectEvent): ProjectState => {
  switch (event.type) {
    case 'ProjectRegistered': {
      const { at, ...config } = event.data;
      return { status: 'registered', ...config, nextSessionNumber: 1, registeredAt: at, updatedAt: at };
    }
    case 'SessionIdAllocated': {
      if (state.status === 'none') return state;
      return {
        ...state,
        nextSessionNumber: Math.max(state.nextSessionNumber, event.data.number + 1),
        updatedAt: event.data.at,
      };
    }
    case 'OrchestratorAssigned':
      if (state.status === 'none') return state;
      return { ...state, activeOrchestrator: event.data.sessionId, updatedAt: event.data.at };
    case 'OrchestratorReleased': {
      if (state.status === 'none') return state;
      const { activeOrchestrator, ...rest } = state;
      if (activeOrchestrator !== event.data.sessionId) return { ...state, updatedAt: event.data.at };
      return { ...rest, updatedAt: event.data.at };
    }
    case 'ProjectEnvForgotten': {
      if (state.status === 'none') return state;
      const forgottenEnv = [...new Set([...(state.forgottenEnv ?? []), ...event.data.names])];
      // A legacy value held in the log is dropped from the state too: nothing launched from now on receives it.
      const env = state.env === undefined ? undefined : Object.fromEntries(Object.entries(state.env).filter(([name]) => !forgottenEnv.includes(name)));
      return { ...state, ...(env !== undefined ? { env } : {}), forgottenEnv, updatedAt: event.data.at };
    }
    case 'ProjectBudgetSet': {
      if (state.status === 'none') return state;
      const { at, ...budget } = event.data;
      return { ...state, budget, updatedAt: at };
    }
    case 'BudgetThresholdCrossed': {
      if (state.status === 'none') return state;
      return { ...state, budgetCrossings: [...(state.budgetCrossings ?? []), crossingKey(event.data, event.data.threshold)], updatedAt: event.data.at };
    }
    case 'ProjectWebhooksSet':
      return state.status === 'none' ? state : { ...state, webhooks: event.data.webhooks, updatedAt: event.data.at };
    case 'NotificationRaised':
      return state.status === 'none' ? state : { ...state, updatedAt: event.data.at };
    default:
      return assertNever(event);
  }
};

/** The project stream decider (`project-<projectId>`). */
export const projectDecider: Decider<ProjectState, ProjectCommand, ProjectEvent> = {
  decide: decideProject,
  evolve: evolveProject,
  initialState: () => ({ status: 'none' }),
};
