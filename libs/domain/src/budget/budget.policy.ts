import type { BudgetPeriod, BudgetThreshold, BudgetThresholdCrossed, ProjectBudget } from './budget.events';
import { BUDGET_THRESHOLDS } from './budget.events';

/** Largest budget or session limit accepted (USD): a typo guard, not a policy. */
export const MAX_BUDGET_USD = 1_000_000;

/** The first UTC day (`YYYY-MM-DD`) of the period holding `now` (ISO-8601); null for `total` (every day counts). */
export const periodStart = (period: BudgetPeriod, now: string): string | null =>
  period === 'total' ? null : period === 'day' ? now.slice(0, 10) : `${now.slice(0, 7)}-01`;

/** What one budget is measured against: its scope, amount, enforcement and period, and the ledger's spend in that period. */
export interface BudgetMeasure {
  scope: 'project' | 'session';
  sessionId?: string;
  budgetUsd: number;
  enforce: boolean;
  period: BudgetPeriod | 'session';
  periodStart: string | null;
  spentUsd: number;
  unpricedModels?: string[];
}

/** The key that makes a crossing happen once: scope, session, period start, threshold and the budget's amount (raising it re-arms). */
export const crossingKey = (m: Pick<BudgetMeasure, 'scope' | 'sessionId' | 'periodStart' | 'budgetUsd'>, threshold: BudgetThreshold): string =>
  `${m.scope}:${m.sessionId ?? ''}:${m.periodStart ?? 'total'}:${m.budgetUsd}:${threshold}`;

/** The crossings `m` has reached and `recorded` (crossing keys) does not hold yet, lowest threshold first (docs/ARCHITECTURE.md §4g). */
export const newCrossings = (m: BudgetMeasure, recorded: ReadonlySet<string>, at: string): BudgetThresholdCrossed['data'][] =>
  BUDGET_THRESHOLDS.filter((t) => m.spentUsd >= (m.budgetUsd * t) / 100 && !recorded.has(crossingKey(m, t))).map((threshold) => ({
    scope: m.scope, ...(m.sessionId !== undefined ? { sessionId: m.sessionId } : {}), threshold, budgetUsd: m.budgetUsd, spentUsd: m.spentUsd,
    period: m.period, periodStart: m.periodStart, enforce: m.enforce, ...(m.unpricedModels?.length ? { unpricedModels: m.unpricedModels } : {}), at,
  }));

/** True when `m` stops work: enforced and spent at least the whole budget. */
export const budgetExhausted = (m: BudgetMeasure): boolean => m.enforce && m.spentUsd >= m.budgetUsd;

const usd = (n: number): string => `$${n.toFixed(4)}`;

/** The reason an agent reads when its tool call is blocked (and a refused spawn's message): which budget, spent, and how to raise it. */
export const budgetBlockReason = (m: BudgetMeasure, projectId: string): string =>
  m.scope === 'session'
    ? `runledger: budget exceeded (BUDGET.EXCEEDED): session ${m.sessionId} spent ${usd(m.spentUsd)} of its ${usd(m.budgetUsd)} limit. ` +
      'Stop and report to the person who started you; nothing more can run in this session.'
    : `runledger: budget exceeded (BUDGET.EXCEEDED): project ${projectId} spent ${usd(m.spentUsd)} of its ${usd(m.budgetUsd)} ${m.period === 'total' ? '' : `${m.period}ly `}budget` +
      `${m.periodStart ? ` (since ${m.periodStart})` : ''}. Stop and report; a person can raise it (PUT /projects/${projectId}/budget, runledger budget ${projectId} --usd N).`;

/** Validates a budget; returns the field and problem of the first invalid part, or null (docs/ARCHITECTURE.md §4g). */
export const budgetProblem = (b: ProjectBudget): { field: string; message: string } | null => {
  if (!Number.isFinite(b.usd) || b.usd < 0 || b.usd > MAX_BUDGET_USD) return { field: 'usd', message: `a number of USD from 0 to ${MAX_BUDGET_USD}` };
  if (!['total', 'day', 'month'].includes(b.period)) return { field: 'period', message: 'total, day or month' };
  if (typeof b.enforce !== 'boolean') return { field: 'enforce', message: 'true or false' };
  return null;
};
