import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  BudgetMeasure,
  budgetBlockReason,
  budgetExhausted,
  DEFAULT_PRICE_TABLE,
  DomainError,
  effectivePrices,
  ModelPrice,
  ProjectBudget,
  newCrossings,
  periodStart,
  priceOf,
  RegisteredProject,
  Session,
  UsageRollupRow,
  usageTotals,
} from '@runledger/domain';
import { EventStore } from '@runledger/infra/event-store';
import { UsageSearchQueries } from '@runledger/infra/read-models';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { CommandContext } from '../event-sourcing/command-context';
import { PROJECTION_PROGRESS, ProjectionProgress } from '../projections/projection-progress.port';
import { SessionReconciler } from '../sessions/reconcile-session/session-reconciler';
import { SessionStreams } from '../sessions/session-streams';

/** How long a budget check waits for the read models to hold the log's head (ms; inside the hook's 30 s margin); past it, it measures what they hold. */
const USAGE_CATCH_UP_MS = 15_000;

/** 409: an enforced budget is spent; details name the budget (scope, projectId, sessionId?, budgetUsd, spentUsd, period, periodStart). */
export const BudgetExceeded = 'BUDGET.EXCEEDED';

/** A project's budget as `GET/PUT /projects/:id/budget` answer it: the budget (null when none) and its measure now. */
export interface BudgetStatus {
  projectId: string;
  budget: ProjectBudget | null;
  spentUsd: number | null;
  percent: number | null;
  periodStart: string | null;
  exceeded: boolean;
  unpricedModels?: string[];
}

/** The ledger's spend of `rows` at `prices`: the priced calls' cost, and the models it could not price (never guessed). */
const spend = (rows: readonly UsageRollupRow[], prices: Readonly<Record<string, ModelPrice>>): { spentUsd: number; unpricedModels?: string[] } => {
  const priced = usageTotals(rows.filter((r) => priceOf(prices, r.model) !== undefined), prices);
  const all = usageTotals(rows, prices);
  return { spentUsd: priced.costUsd ?? 0, ...(all.unpricedModels ? { unpricedModels: all.unpricedModels } : {}) };
};

/**
 * Budgets (docs/ARCHITECTURE.md §4g): measures a project's budget and a session's limit against the usage ledger
 * (`rl_rm_usage`, priced when read), records each 80 % and 100 % crossing once (`BudgetThresholdCrossed` on the
 * project stream, which the notifier turns into notifications), blocks the next PreToolUse of an exhausted enforced
 * budget with a reason the agent reads, and refuses a spawn (409 BUDGET.EXCEEDED). A project without a budget and a
 * session without a limit cost one cached fold on the hook path.
 */
@Injectable()
export class BudgetGuard {
  private readonly logger = new Logger('BudgetGuard');

  constructor(
    private readonly sessions: SessionStreams,
    private readonly usage: UsageSearchQueries,
    private readonly reconciler: SessionReconciler,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Optional() @Inject(PROJECTION_PROGRESS) private readonly progress: ProjectionProgress | null,
  ) {}

  /** The project's budget measured now (null without a budget). */
  async projectMeasure(project: RegisteredProject, now = new Date().toISOString()): Promise<BudgetMeasure | null> {
    const budget = project.budget;
    if (!budget) return null;
    const start = periodStart(budget.period, now);
    const rows = await this.usage.usageRows({ projectId: project.projectId, ...(start ? { sinceDay: start } : {}) });
    const prices = effectivePrices(DEFAULT_PRICE_TABLE, project.prices);
    return { scope: 'project', budgetUsd: budget.usd, enforce: budget.enforce, period: budget.period, periodStart: start, ...spend(rows, prices) };
  }

  /** The session's own limit measured now (null without one); a limit is always enforced. */
  async sessionMeasure(session: Session, project: RegisteredProject): Promise<BudgetMeasure | null> {
    if (session.budgetUsd === undefined) return null;
    const stored = await this.usage.sessionUsage(session.sessionId);
    const prices = effectivePrices(DEFAULT_PRICE_TABLE, project.prices);
    return { scope: 'session', sessionId: session.sessionId, budgetUsd: session.budgetUsd, enforce: true, period: 'session', periodStart: null, ...spend(stored?.rows ?? [], prices) };
  }

  /** Measures the budgets that apply (the project's, the session's limit), records new crossings, and returns the measures. */
  async evaluate(projectId: string, sessionId: string | undefined, context: CommandContext): Promise<BudgetMeasure[]> {
    const { state: project } = await this.sessions.project(projectId);
    const session = sessionId ? (await this.sessions.known(sessionId)).state : undefined;
    const measures = [await this.projectMeasure(project), session ? await this.sessionMeasure(session, project) : null].filter((m): m is BudgetMeasure => m !== null);
    const at = new Date().toISOString();
    for (const m of measures) {
      for (const crossing of newCrossings(m, new Set(project.budgetCrossings ?? []), at)) {
        await this.sessions.decideProject(projectId, () => ({ type: 'RecordBudgetCrossing', data: crossing }), context);
        this.logger.warn(`${projectId}${m.sessionId ? `/${m.sessionId}` : ''}: ${crossing.threshold}% of the ${m.scope} budget ($${m.budgetUsd}) crossed: $${m.spentUsd} spent`);
      }
    }
    return measures;
  }

  /**
   * At a session's PreToolUse of `callId` (when the hook names it): when a budget applies, records the transcript's
   * settled usage first (so the call that follows an expensive model call sees it; SessionReconciler.recordSettledUsage
   * waits for a transcript written behind the hook), waits for the ledger to hold the log's head as it is then (the usage this
   * check appended and any a reconcile or another hook appended before it), evaluates, and returns the reason to block
   * the call with when an enforced budget is spent; null to let it proceed.
   */
  async preToolUse(sessionId: string, context: CommandContext, callId?: string): Promise<string | null> {
    const { state: session } = await this.sessions.known(sessionId);
    const { state: project } = await this.sessions.project(session.projectId); // fresh: a budget another process set counts at once
    if (!project.budget && session.budgetUsd === undefined) return null;
    await this.reconciler.recordSettledUsage(sessionId, context, callId);
    await this.ledgerCaughtUp(sessionId);
    const exhausted = (await this.evaluate(session.projectId, sessionId, context)).find(budgetExhausted);
    return exhausted ? budgetBlockReason(exhausted, session.projectId) : null;
  }

  /** After a turn's usage was appended: when a budget applies, waits for the ledger to hold the log's head, then evaluates (records crossings). */
  async afterTurn(projectId: string, sessionId: string, context: CommandContext): Promise<void> {
    const { state: session } = await this.sessions.known(sessionId);
    const { state: project } = await this.sessions.project(projectId);
    if (!project.budget && session.budgetUsd === undefined) return;
    await this.ledgerCaughtUp(sessionId);
    await this.evaluate(projectId, sessionId, context);
  }

  /**
   * Waits until the read models hold every event committed now, at most USAGE_CATCH_UP_MS; past it, logs that the
   * measure is of what they hold. A usage event appended by another path (a reconcile, the previous call's hook) is
   * waited for as well as this check's own.
   */
  private async ledgerCaughtUp(sessionId: string): Promise<void> {
    if (!this.progress) return;
    await this.progress.waitForPosition(await this.store.headPosition(), USAGE_CATCH_UP_MS).catch((error: Error) =>
      this.logger.warn(`${sessionId}: the usage ledger did not catch up in ${USAGE_CATCH_UP_MS} ms (${error.message}); measuring what it holds`),
    );
  }

  /** The project's budget and its measure now; throws PROJECT.NOT_FOUND (404). */
  async status(projectId: string): Promise<BudgetStatus> {
    const { state: project } = await this.sessions.project(projectId, 'id');
    const m = await this.projectMeasure(project);
    if (!project.budget || !m) return { projectId, budget: null, spentUsd: null, percent: null, periodStart: null, exceeded: false };
    return {
      projectId, budget: project.budget, spentUsd: m.spentUsd, percent: m.budgetUsd > 0 ? Math.round((m.spentUsd / m.budgetUsd) * 10_000) / 100 : null,
      periodStart: m.periodStart, exceeded: m.spentUsd >= m.budgetUsd, ...(m.unpricedModels ? { unpricedModels: m.unpricedModels } : {}),
    };
  }

  /** Sets the project's budget (PROJECT.INVALID 400 naming the field, PROJECT.NOT_FOUND 404), records the crossings it makes, and answers its status. */
  async setBudget(projectId: string, budget: ProjectBudget, context: CommandContext): Promise<BudgetStatus> {
    await this.sessions.project(projectId, 'id');
    await this.sessions.decideProject(projectId, () => ({ type: 'SetProjectBudget', data: { ...budget, at: new Date().toISOString() } }), context);
    await this.evaluate(projectId, undefined, context);
    return this.status(projectId);
  }

  /** Refuses a spawn while the project's enforced budget is spent: throws BUDGET.EXCEEDED (409) naming the budget. */
  async assertSpawnAllowed(projectId: string, context: CommandContext): Promise<void> {
    const exhausted = (await this.evaluate(projectId, undefined, context)).find(budgetExhausted);
    if (!exhausted) return;
    throw new DomainError(BudgetExceeded, 'conflict', budgetBlockReason(exhausted, projectId), {
      scope: exhausted.scope, projectId, budgetUsd: exhausted.budgetUsd, spentUsd: exhausted.spentUsd, period: exhausted.period, periodStart: exhausted.periodStart,
    });
  }
}
