/** How a budget's spending is counted (UTC): everything since the project began, the current day, or the current month. */
export type BudgetPeriod = 'total' | 'day' | 'month';

/** The share of a budget whose crossing is recorded and notified (docs/ARCHITECTURE.md §4g): 80 % warns, 100 % exceeds. */
export type BudgetThreshold = 80 | 100;

/** The thresholds in the order they are crossed. */
export const BUDGET_THRESHOLDS: readonly BudgetThreshold[] = [80, 100];

/** A project's budget in USD per period; `enforce`: past 100 % the project's agents are stopped at their next tool call and spawn is refused. */
export interface ProjectBudget {
  usd: number;
  period: BudgetPeriod;
  enforce: boolean;
}

/** The project's budget was set or changed (stream `project-<id>`); `usd` 0 with `enforce` false is still a budget (every spend crosses it). */
export interface ProjectBudgetSet {
  type: 'ProjectBudgetSet';
  data: ProjectBudget & { at: string };
}

/**
 * Spending crossed `threshold` % of a budget (stream `project-<id>`): the project's (`scope: project`) or one session's
 * limit (`scope: session`, `sessionId`). `periodStart` is the UTC day the period began (`null` for `total` and a session's
 * limit); `spentUsd` the ledger's cost when it was seen; `unpricedModels` the models whose calls the cost could not include.
 */
export interface BudgetThresholdCrossed {
  type: 'BudgetThresholdCrossed';
  data: {
    scope: 'project' | 'session';
    sessionId?: string;
    threshold: BudgetThreshold;
    budgetUsd: number;
    spentUsd: number;
    period: BudgetPeriod | 'session';
    periodStart: string | null;
    enforce: boolean;
    unpricedModels?: string[];
    at: string;
  };
}
