import { Command, InvalidArgumentError } from 'commander';
import type { SessionUsage, UsageReport, UsageTotals } from '@runledger/domain';
import type { SearchHit } from '@runledger/infra/read-models';
import Table from 'cli-table3';
import { clientAction } from '../client/client-command';
import { oneLine, printJson, printLine } from '../client/output';

/** `$0.123456`, or `n/a (no price for m1, m2)` when a model has no price (never a guess). */
export const costText = (t: UsageTotals): string =>
  t.costUsd === null ? `n/a (no price for ${(t.unpricedModels ?? []).join(', ')})` : `$${t.costUsd.toFixed(6)}`;

const tokenCells = (t: UsageTotals): string[] => [String(t.calls), String(t.inputTokens), String(t.outputTokens), String(t.cacheReadTokens), String(t.cacheCreationTokens), costText(t)];
const HEAD = ['calls', 'input', 'output', 'cache read', 'cache creation', 'cost'];

/** Renders a session's usage: totals, then one row per run (sub-agents marked) and per model. */
export const sessionUsageText = (u: SessionUsage): string => {
  const table = new Table({ head: ['', ...HEAD], style: { head: [], border: [] } });
  table.push(['session (sub-agents included)', ...tokenCells(u)]);
  for (const run of u.runs) table.push([`run ${run.runId ?? '(before the first prompt)'}${run.subagent ? ` (sub-agent ${run.subagent})` : ''}`, ...tokenCells(run)]);
  for (const model of u.models) table.push([`model ${model.model ?? 'unknown'}`, ...tokenCells(model)]);
  return `${table.toString()}\nprices of ${u.prices.effective}${u.prices.projectOverrides.length ? `, project prices for ${u.prices.projectOverrides.join(', ')}` : ''}`;
};

const groupBy = (value: string): 'day' | 'session' | 'project' => {
  if (value === 'day' || value === 'session' || value === 'project') return value;
  throw new InvalidArgumentError('must be day, session or project');
};

/**
 * `runledger usage [<session>] [--project P] [--since D] [--group-by day|session|project] [--json]`: a session's
 * tokens and cost (`GET /sessions/:id/usage`), or usage over sessions (`GET /usage`).
 */
export const registerUsageCommand = (program: Command): void => {
  program
    .command('usage')
    .description("tokens and cost from the agents' own records: one session's (per run, sub-agents rolled up), or per day, session or project")
    .argument('[session]', 'a session id')
    .option('--project <id>', 'only this project')
    .option('--since <date>', 'from this UTC day (YYYY-MM-DD) or ISO time on')
    .option('--group-by <grouping>', 'day (default), session or project', groupBy)
    .option('--json', "print the server's JSON")
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, session: string | undefined, options: { project?: string; since?: string; groupBy?: string; json?: boolean }) => {
        if (session !== undefined) {
          const usage = await client.get<SessionUsage>(`/sessions/${encodeURIComponent(session)}/usage`);
          return options.json ? printJson(usage) : printLine(sessionUsageText(usage));
        }
        const query: Record<string, string> = {};
        if (options.project) query.projectId = options.project;
        if (options.since) query.since = options.since;
        if (options.groupBy) query.groupBy = options.groupBy;
        const report = await client.get<UsageReport>('/usage', query);
        if (options.json) return printJson(report);
        const table = new Table({ head: [report.groupBy, ...HEAD], style: { head: [], border: [] } });
        for (const group of report.groups) table.push([group.key, ...tokenCells(group)]);
        table.push(['total', ...tokenCells(report)]);
        printLine(`${table.toString()}\nprices of ${report.prices.effective}`);
      }),
    );
};

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

/** `runledger search <query…> [--project P] [--since D] [--limit N] [--cursor C] [--json]`: `GET /search`, newest first. */
export const registerSearchCommand = (program: Command): void => {
  program
    .command('search')
    .description('full-text search over prompts, tool inputs and outputs, divergences and file paths, as stored (redacted), newest first')
    .argument('<query...>', 'words (all must match), "a phrase", -word to exclude, or')
    .option('--project <id>', 'only this project')
    .option('--since <date>', 'only events at or after this UTC day or ISO time')
    .option('--limit <n>', 'hits per page (default 20, at most 100)', positive)
    .option('--cursor <n>', 'the next page: the cursor the previous page printed', positive)
    .option('--json', "print the server's JSON ({hits, nextCursor?})")
    .action(
      clientAction(async (client, words: string[], options: { project?: string; since?: string; limit?: number; cursor?: number; json?: boolean }) => {
        const query: Record<string, string> = { q: words.join(' ') };
        if (options.project) query.projectId = options.project;
        if (options.since) query.since = options.since;
        if (options.limit) query.limit = String(options.limit);
        if (options.cursor) query.cursor = String(options.cursor);
        const body = await client.get<{ hits: SearchHit[]; nextCursor?: number }>('/search', query);
        if (options.json) return printJson(body);
        if (body.hits.length === 0) return printLine('no hits');
        for (const hit of body.hits) {
          printLine(`${hit.sessionId}@${hit.revision}  ${hit.at}  ${hit.type}${hit.callId ? ` ${hit.callId}` : ''}\n  ${oneLine(hit.snippet, 200)}`);
        }
        if (body.nextCursor !== undefined) printLine(`more: --cursor ${body.nextCursor}`);
      }),
    );
};

/** `GET/PUT /projects/:id/budget` answer (docs/ARCHITECTURE.md §4g). */
interface BudgetStatusView {
  projectId: string;
  budget: { usd: number; period: string; enforce: boolean } | null;
  spentUsd: number | null;
  percent: number | null;
  periodStart: string | null;
  exceeded: boolean;
  unpricedModels?: string[];
}

const usdAmount = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of USD, 0 or more');
  return n;
};

/**
 * `runledger budget <project> [--usd N [--period total|day|month] [--enforce|--no-enforce]] [--json]`: shows the
 * project's budget and its spend now, or sets it (`PUT /projects/:id/budget`; `--enforce` blocks the agents' next tool
 * call and refuses spawns past 100 %).
 */
export const registerBudgetCommand = (program: Command): void => {
  program
    .command('budget')
    .description("a project's spending budget: show it, or set it with --usd (enforced with --enforce)")
    .argument('<project>', 'the project id')
    .option('--usd <amount>', 'set the budget to this many USD per period', usdAmount)
    .option('--period <period>', 'total, day or month (default month)')
    .option('--enforce', 'past 100 %: block the next tool call of its agents and refuse spawns')
    .option('--no-enforce', 'record and notify only')
    .option('--json', 'print the status as JSON')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, projectId: string, options: { usd?: number; period?: string; enforce?: boolean; json?: boolean }) => {
        const path = `/projects/${encodeURIComponent(projectId)}/budget`;
        const status =
          options.usd === undefined
            ? await client.get<BudgetStatusView>(path)
            : ((await (await client.request('PUT', path, { body: { usd: options.usd, ...(options.period ? { period: options.period } : {}), enforce: options.enforce === true } })).json()) as BudgetStatusView);
        if (options.json) return printJson(status);
        if (!status.budget) return printLine(`project ${projectId} has no budget`);
        const b = status.budget;
        printLine(`project ${projectId}: $${b.usd} per ${b.period}${b.enforce ? ', enforced' : ', not enforced'}`);
        printLine(`spent $${(status.spentUsd ?? 0).toFixed(6)}${status.percent !== null ? ` (${status.percent}%)` : ''}${status.periodStart ? ` since ${status.periodStart}` : ''}${status.exceeded ? ': EXCEEDED' : ''}`);
        if (status.unpricedModels?.length) printLine(`not counted (no price): ${status.unpricedModels.join(', ')}`);
      }),
    );
};
