import { costMicros, priceOf, toUsd, type ModelPrice, type PriceTable } from './price-table';
import type { TokenCounts } from './usage.events';

/** One row of the usage rollup (the read model's grain): a session's calls of one model in one run on one day. */
export interface UsageRollupRow extends TokenCounts {
  sessionId: string;
  projectId: string;
  /** UTC date `YYYY-MM-DD` of the calls. */
  day: string;
  runId: string | null;
  subagent: string | null;
  model: string | null;
  calls: number;
}

/**
 * Token totals with their cost: `costUsd` is null when any of the calls is of a model without a price (never a guess),
 * and `unpricedModels` names those models (`unknown` for a call whose record named none).
 */
export interface UsageTotals extends TokenCounts {
  calls: number;
  costUsd: number | null;
  unpricedModels?: string[];
}

/** The prices in force: the shipped table with a project's own prices over it (an entry per model id or prefix). */
export const effectivePrices = (table: PriceTable, overrides?: Readonly<Record<string, ModelPrice>>): Record<string, ModelPrice> =>
  overrides ? { ...table.models, ...overrides } : { ...table.models };

const ZERO: TokenCounts = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };

/** The prices a row is costed at: one table for every row, or a table per row (its project's). */
export type PricesFor<R> = Readonly<Record<string, ModelPrice>> | ((row: R) => Readonly<Record<string, ModelPrice>>);

/** Sums `rows` and prices each model at `prices` (docs/ARCHITECTURE.md §4g): exact integer token sums, cost rounded once. */
export const usageTotals = <R extends TokenCounts & { model: string | null; calls: number }>(rows: readonly R[], prices: PricesFor<R>): UsageTotals => {
  const totals = { ...ZERO, calls: 0 };
  let micros = 0;
  const unpriced = new Set<string>();
  for (const row of rows) {
    totals.inputTokens += row.inputTokens;
    totals.outputTokens += row.outputTokens;
    totals.cacheReadTokens += row.cacheReadTokens;
    totals.cacheCreationTokens += row.cacheCreationTokens;
    totals.calls += row.calls;
    const price = priceOf(typeof prices === 'function' ? prices(row) : prices, row.model);
    if (price) micros += costMicros(price, row);
    else unpriced.add(row.model ?? 'unknown');
  }
  return unpriced.size > 0 ? { ...totals, costUsd: null, unpricedModels: [...unpriced].sort() } : { ...totals, costUsd: toUsd(micros) };
};

/** Groups rows by `keyOf` (first-appearance order) and totals each group. */
export const usageBy = <K extends string>(
  rows: readonly UsageRollupRow[],
  keyOf: (row: UsageRollupRow) => string,
  prices: PricesFor<UsageRollupRow>,
): Array<{ key: string; rows: UsageRollupRow[]; totals: UsageTotals }> => {
  const groups = new Map<string, UsageRollupRow[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key) ?? [];
    group.push(row);
    groups.set(key, group);
  }
  return [...groups].map(([key, group]) => ({ key, rows: group, totals: usageTotals(group, prices) })) as Array<{ key: K; rows: UsageRollupRow[]; totals: UsageTotals }>;
};

/** A session's usage (GET /sessions/:id/usage): totals with sub-agents rolled in, then per model, per run and per sub-agent. */
export interface SessionUsage extends UsageTotals {
  sessionId: string;
  models: Array<UsageTotals & { model: string | null }>;
  runs: Array<UsageTotals & { runId: string | null; subagent?: string }>;
  subagents: Array<UsageTotals & { subagent: string; runId: string | null }>;
  prices: { effective: string; projectOverrides: string[] };
}

/** Builds a session's usage from its rollup rows, priced at the shipped table with the project's overrides. */
export const sessionUsage = (sessionId: string, rows: readonly UsageRollupRow[], table: PriceTable, overrides?: Readonly<Record<string, ModelPrice>>): SessionUsage => {
  const prices = effectivePrices(table, overrides);
  const models = usageBy(rows, (r) => r.model ?? '\u0000', prices).map(({ rows: group, totals }) => ({ model: group[0].model, ...totals }));
  const runs = usageBy(rows, (r) => `${r.runId ?? ''}\u0000${r.subagent ?? ''}`, prices).map(({ rows: group, totals }) => ({
    runId: group[0].runId,
    ...(group[0].subagent !== null ? { subagent: group[0].subagent } : {}),
    ...totals,
  }));
  const subagents = usageBy(rows.filter((r) => r.subagent !== null), (r) => r.subagent!, prices).map(({ rows: group, totals }) => ({
    subagent: group[0].subagent!,
    runId: group[0].runId,
    ...totals,
  }));
  return {
    sessionId,
    ...usageTotals(rows, prices),
    models,
    runs,
    subagents,
    prices: { effective: table.effective, projectOverrides: Object.keys(overrides ?? {}).sort() },
  };
};

/** How `GET /usage` groups: per UTC day, per session, or per project. */
export type UsageGrouping = 'day' | 'session' | 'project';

/** `GET /usage`: totals over every row matched, then one entry per group (first appearance order: days ascending). */
export interface UsageReport extends UsageTotals {
  groupBy: UsageGrouping;
  groups: Array<UsageTotals & { key: string }>;
  prices: { effective: string };
}

/** Builds `GET /usage` from rollup rows, each row priced with its project's prices over the shipped table. */
export const usageReport = (
  rows: readonly UsageRollupRow[],
  groupBy: UsageGrouping,
  table: PriceTable,
  overrides: ReadonlyMap<string, Readonly<Record<string, ModelPrice>>>,
): UsageReport => {
  const byProject = new Map<string, Record<string, ModelPrice>>();
  const pricesOf = (row: UsageRollupRow): Record<string, ModelPrice> => {
    let prices = byProject.get(row.projectId);
    if (!prices) byProject.set(row.projectId, (prices = effectivePrices(table, overrides.get(row.projectId))));
    return prices;
  };
  const keyOf = groupBy === 'day' ? (r: UsageRollupRow) => r.day : groupBy === 'session' ? (r: UsageRollupRow) => r.sessionId : (r: UsageRollupRow) => r.projectId;
  return {
    groupBy,
    ...usageTotals(rows, pricesOf),
    groups: usageBy(rows, keyOf, pricesOf).map(({ key, totals }) => ({ key, ...totals })),
    prices: { effective: table.effective },
  };
};
