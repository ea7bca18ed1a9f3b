import { decideProject, evolveProject, ProjectState } from '../project/project.decider';
import { budgetBlockReason, budgetExhausted, BudgetMeasure, crossingKey, newCrossings, periodStart } from './budget.policy';

const AT = '2026-12-07T11:00:00.000Z';
const measure = (spentUsd: number, over: Partial<BudgetMeasure> = {}): BudgetMeasure => ({
  scope: 'project', budgetUsd: 10, enforce: true, period: 'month', periodStart: '2026-12-01', spentUsd, ...over,
});
const project = (): ProjectState =>
  evolveProject({ status: 'none' }, { type: 'ProjectRegistered', data: { projectId: 'p', name: 'p', kind: 'single-repo', repos: [{ name: 'r', path: '/r' }], sessionPrefix: 'p', at: AT } });

describe('budgets (docs/ARCHITECTURE.md §4g)', () => {
  it('counts from the first UTC day of the period', () => {
    expect(periodStart('month', '2026-12-07T23:59:00.000Z')).toBe('2026-12-01');
    expect(periodStart('day', '2026-12-07T23:59:00.000Z')).toBe('2026-12-07');
    expect(periodStart('total', AT)).toBeNull();
  });

  it('crosses 80 % then 100 %, each once, and re-arms when the amount changes', () => {
    expect(newCrossings(measure(7.99), new Set(), AT)).toEqual([]);
    expect(newCrossings(measure(8), new Set(), AT).map((c) => c.threshold)).toEqual([80]);
    const both = newCrossings(measure(12), new Set(), AT);
    expect(both.map((c) => c.threshold)).toEqual([80, 100]);
    const recorded = new Set([crossingKey(measure(12), 80), crossingKey(measure(12), 100)]);
    expect(newCrossings(measure(13), recorded, AT)).toEqual([]);
    expect(newCrossings(measure(13, { budgetUsd: 15 }), recorded, AT).map((c) => c.threshold)).toEqual([80]);
  });

  it('blocks only an enforced budget that is spent, with a reason naming it', () => {
    expect(budgetExhausted(measure(10))).toBe(true);
    expect(budgetExhausted(measure(9.99))).toBe(false);
    expect(budgetExhausted(measure(50, { enforce: false }))).toBe(false);
    expect(budgetBlockReason(measure(10.5), 'p')).toMatch(/BUDGET\.EXCEEDED.*project p spent \$10\.5000 of its \$10\.0000 monthly budget \(since 2026-12-01\)/);
    expect(budgetBlockReason(measure(2, { scope: 'session', sessionId: 'p-1', budgetUsd: 1 }), 'p')).toMatch(/session p-1 spent \$2\.0000 of its \$1\.0000 limit/);
  });

  it('the project decider sets a budget once, refuses a bad one naming the field, and records a crossing once', () => {
    const set = decideProject({ type: 'SetProjectBudget', data: { usd: 5, period: 'day', enforce: true, at: AT } }, project());
    expect(set).toEqual([{ type: 'ProjectBudgetSet', data: { usd: 5, period: 'day', enforce: true, at: AT } }]);
    const withBudget = evolveProject(project(), set[0]);
    expect(decideProject({ type: 'SetProjectBudget', data: { usd: 5, period: 'day', enforce: true, at: AT } }, withBudget)).toEqual([]);
    expect(() => decideProject({ type: 'SetProjectBudget', data: { usd: -1, period: 'day', enforce: true, at: AT } }, withBudget)).toThrow(expect.objectContaining({ code: 'PROJECT.INVALID', details: { field: 'usd' } }));
    const [crossing] = newCrossings(measure(9, { budgetUsd: 5, period: 'day', periodStart: '2026-12-07' }), new Set(), AT);
    const crossed = decideProject({ type: 'RecordBudgetCrossing', data: crossing }, withBudget);
    expect(crossed).toHaveLength(1);
    expect(decideProject({ type: 'RecordBudgetCrossing', data: crossing }, evolveProject(withBudget, crossed[0]))).toEqual([]);
  });
});
