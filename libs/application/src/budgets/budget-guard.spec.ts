import type { UsageRollupRow } from '@runledger/domain';
import { BudgetGuard } from './budget-guard';

const PRICE = { inputPerMTok: 1000, outputPerMTok: 0, cacheReadPerMTok: 0, cacheCreationPerMTok: 0 };
const row = (inputTokens: number): UsageRollupRow => ({
  sessionId: 'p-1', projectId: 'p', day: '2026-12-07', runId: 'r', subagent: null, model: 'claude-x', calls: 1,
  inputTokens, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0,
});

/** BudgetGuard with its collaborators stubbed: one session (with `budgetUsd`), one project (with `budget`), the ledger's rows. */
const guard = (opts: { budgetUsd?: number; budget?: { usd: number; period: 'total'; enforce: boolean }; rows: UsageRollupRow[] }) => {
  const appended: unknown[] = [];
  const project = { status: 'registered', projectId: 'p', prices: { 'claude-': PRICE }, budget: opts.budget, budgetCrossings: [] as string[] };
  const sessions = {
    known: async () => ({ state: { sessionId: 'p-1', projectId: 'p', budgetUsd: opts.budgetUsd }, revision: 3 }),
    project: async () => ({ state: project, revision: 1 }),
    decideProject: async (_id: string, command: () => unknown) => appended.push(command()),
  };
  const usage = { sessionUsage: async () => ({ rows: opts.rows }), usageRows: async () => opts.rows };
  const reconciler = { recordSettledUsage: async () => undefined };
  const store = { headPosition: async () => 0 };
  return { guard: new BudgetGuard(sessions as never, usage as never, reconciler as never, store as never, null), appended };
};

const context = { correlationId: 'c', actor: 'runledger', via: 'test' } as never;

describe('BudgetGuard (docs/ARCHITECTURE.md §4g)', () => {
  it("blocks a session's next call past its own limit, and records both crossings of it", async () => {
    const { guard: g, appended } = guard({ budgetUsd: 1, rows: [row(2000)] }); // $2 spent
    expect(await g.preToolUse('p-1', context)).toMatch(/session p-1 spent \$2\.0000 of its \$1\.0000 limit/);
    expect(appended).toEqual([
      { type: 'RecordBudgetCrossing', data: expect.objectContaining({ scope: 'session', sessionId: 'p-1', threshold: 80 }) },
      { type: 'RecordBudgetCrossing', data: expect.objectContaining({ scope: 'session', sessionId: 'p-1', threshold: 100 }) },
    ]);
  });

  it('lets the call go on under the limit, and with neither a limit nor a budget reads no ledger', async () => {
    expect(await guard({ budgetUsd: 5, rows: [row(2000)] }).guard.preToolUse('p-1', context)).toBeNull();
    const none = guard({ rows: [row(2000)] });
    expect(await none.guard.preToolUse('p-1', context)).toBeNull();
    expect(none.appended).toEqual([]);
  });

  it('records an unenforced project budget crossing without blocking', async () => {
    const { guard: g, appended } = guard({ budget: { usd: 1, period: 'total', enforce: false }, rows: [row(900)] }); // $0.90: 80 % only
    expect(await g.preToolUse('p-1', context)).toBeNull();
    expect(appended).toEqual([{ type: 'RecordBudgetCrossing', data: expect.objectContaining({ scope: 'project', threshold: 80, enforce: false }) }]);
  });

  it('waits for usage another path appended before the check (its own append added nothing) before it measures', async () => {
    // The first model call's usage was appended by a reconcile at position 7; the ledger holds it only once the
    // projection reaches 7. The check's own recordSettledUsage appends nothing.
    const rows: UsageRollupRow[] = [];
    const waited: number[] = [];
    const project = { status: 'registered', projectId: 'p', prices: { 'claude-': PRICE }, budget: { usd: 2, period: 'total', enforce: true }, budgetCrossings: [] as string[] };
    const sessions = {
      known: async () => ({ state: { sessionId: 'p-1', projectId: 'p' }, revision: 3 }),
      project: async () => ({ state: project, revision: 1 }),
      decideProject: async () => undefined,
    };
    const progress = {
      waitForPosition: async (position: number) => {
        waited.push(position);
        if (position >= 7) rows.splice(0, rows.length, row(3000));
      },
    };
    const g = new BudgetGuard(sessions as never, { usageRows: async () => rows } as never, { recordSettledUsage: async () => undefined } as never, { headPosition: async () => 7 } as never, progress as never);
    expect(await g.preToolUse('p-1', context)).toMatch(/project p spent \$3\.0000 of its \$2\.0000 budget/);
    expect(waited).toEqual([7]);
  });
});
