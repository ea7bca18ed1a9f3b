import { Command } from 'commander';
import type { StatusView } from '@runledger/application';
import { clientAction } from '../client/client-command';
import { printJson, printLine } from '../client/output';

/** `adopted 1, interrupted 0, …`: the non-bookkeeping counts of a ReconcileCompleted report. */
export const reconcileCounts = (report: Record<string, unknown>): string =>
  Object.entries(report)
    .filter(([key, value]) => typeof value === 'number' && key !== 'pid')
    .map(([key, value]) => `${key} ${value as number}`)
    .join(', ');

/** The human lines of `runledger status`. */
export const statusLines = (url: string, status: StatusView): string[] => {
  const { server, sessions, projections, lastReconcile } = status;
  const bySession = Object.entries(sessions).map(([s, n]) => `${s} ${n}`).join(', ');
  return [
    `server       ${url}: ${server.status}, version ${server.version}, pid ${server.pid}`,
    `store        ${server.store}, head position ${server.headPosition}`,
    `sessions     ${bySession}`,
    `projections  checkpoint ${projections.checkpointPosition}, lag ${projections.lagEvents} event${projections.lagEvents === 1 ? '' : 's'}, ` +
      `${projections.deadLetters} dead letter${projections.deadLetters === 1 ? '' : 's'}${projections.deadLetters > 0 ? ' (GET /projections/status lists them)' : ''}`,
    lastReconcile
      ? `reconcile    last at ${lastReconcile.recordedAt} (position ${lastReconcile.globalPosition}): ${reconcileCounts(lastReconcile.report)}`
      : 'reconcile    none yet (a worker reconciles when it starts)',
    ...(status.snapshots ? [`snapshots    ${(status.snapshots.bytes / (1024 * 1024)).toFixed(1)} MiB of file snapshots`] : []),
  ];
};

/** `runledger status [--json]`: server, store, head position, sessions by status, projection lag, last reconcile. */
export const registerStatusCommand = (program: Command): void => {
  program
    .command('status')
    .description('server, store, head position, sessions by status, projection lag, last reconcile report')
    .option('--json', 'print the server\'s JSON ({server, sessions, projections, lastReconcile})')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, options: { json?: boolean }) => {
        const status = await client.get<StatusView>('/status');
        if (options.json) return printJson(status);
        for (const line of statusLines(client.config.baseUrl, status)) printLine(line);
      }),
    );
};
