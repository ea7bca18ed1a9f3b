import { Command } from 'commander';
import type { WorktreeListItem } from '@runledger/infra/read-models';
import Table from 'cli-table3';
import { clientAction } from '../client/client-command';
import { oneLine, printJson, printLine } from '../client/output';

/** One line of `GET /worktrees` (docs/ARCHITECTURE.md §5), as the read model serves it. */
type WorktreeLine = WorktreeListItem;

/** One sweep's report (`POST /worktrees/sweep`). */
interface SweepReportBody {
  mode: string;
  skipped?: string;
  scanned: number;
  changed: number;
  ms: number;
  decisions: { path: string; action: string; rule: string; recorded: boolean }[];
}

/** Renders worktrees as a plain table: path, state, session, branch, rule (with detail), preserved ref. */
export const worktreesTable = (worktrees: WorktreeLine[]): string => {
  const table = new Table({ head: ['path', 'state', 'session', 'branch', 'rule', 'preserved ref'], style: { head: [], border: [] } });
  for (const w of worktrees) {
    const state = w.stranded && w.state !== 'stranded' ? `${w.state}, stranded` : w.state;
    table.push([w.path, state, w.sessionId ?? '', w.branch ?? '', oneLine([w.rule, w.detail].filter(Boolean).join(': '), 60), w.preservedRef ?? '']);
  }
  return table.toString();
};

/** `runledger worktrees [--stranded] [--sweep] [--json]`: `GET /worktrees` (after `POST /worktrees/sweep` with --sweep). */
export const registerWorktreesCommand = (program: Command): void => {
  program
    .command('worktrees')
    .description('list the worktrees runledger knows or found on disk, with their state and the rule that decided it')
    .option('--stranded', 'only the worktrees flagged stranded (work that would be lost; never removed)')
    .option('--sweep', 'run a reaper sweep first and print its summary')
    .option('--json', 'print the server\'s JSON ({worktrees: [...]})')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, options: { stranded?: boolean; sweep?: boolean; json?: boolean }) => {
        if (options.sweep) {
          const report = await client.post<SweepReportBody>('/worktrees/sweep', {});
          if (!options.json) {
            printLine(report.skipped ? `sweep skipped: ${report.skipped}` : `sweep (${report.mode}): ${report.scanned} path(s), ${report.changed} decision(s) recorded in ${report.ms} ms`);
          }
        }
        const body = await client.get<{ worktrees: WorktreeLine[] }>('/worktrees', options.stranded ? { stranded: 'true' } : {});
        if (options.json) return printJson(body);
        if (body.worktrees.length === 0) return printLine(options.stranded ? 'no stranded worktrees' : 'no worktrees');
        printLine(worktreesTable(body.worktrees));
      }),
    );
};
