import { Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { ApiClient } from '../client/api-client';
import { ProjectionStatus, RebuildResponse } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { printJson, printLine } from '../client/output';

/** How often `projections rebuild` polls `GET /projections/status` (ms). */
export const STATUS_POLL_MS = 200;

/** Events per second of a rebuild; `events` when it took under a millisecond. */
export const eventsPerSecond = (events: number, ms: number): number => (ms > 0 ? Math.round((events * 1000) / ms) : events);

/**
 * Polls the rebuild's progress every STATUS_POLL_MS into a progress bar on stderr (drawn only on a terminal) until
 * `stop()` is called. A missing or failing status endpoint only stops the bar: the rebuild itself decides the outcome.
 */
const progressBar = (client: ApiClient): { stop(final?: number): void } => {
  const bar = new SingleBar(
    { format: 'rebuilding projections [{bar}] {percentage}% | {value}/{total} events', stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  let inFlight = false;
  let stopped = false;
  const poll = async () => {
    if (inFlight || stopped) return;
    inFlight = true;
    try {
      const status = await client.get<ProjectionStatus>('/projections/status');
      if (stopped || !status.rebuilding || status.total <= 0) return;
      if (!started) {
        bar.start(status.total, status.done);
        started = true;
      } else {
        bar.setTotal(status.total);
        bar.update(status.done);
      }
    } catch {
      clearInterval(timer); // no status endpoint (older server) or a transient error: go on without a bar
    } finally {
      inFlight = false;
    }
  };
  const timer = setInterval(() => void poll(), STATUS_POLL_MS);
  return {
    stop(final?: number) {
      stopped = true;
      clearInterval(timer);
      if (!started) return;
      if (final !== undefined) {
        bar.setTotal(Math.max(final, 1));
        bar.update(final);
      }
      bar.stop();
    },
  };
};

/** `runledger projections rebuild [--json]`: drops and replays the read models with a progress bar, then the rate. */
export const registerProjectionsCommand = (program: Command): void => {
  const projections = program.command('projections').description('read models (projections)');
  projections
    .command('rebuild')
    .description('drop the read models and replay the whole log (progress bar, then events/s)')
    .option('--json', 'print {events, ms, eventsPerSecond}')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, options: { json?: boolean }) => {
        const bar = progressBar(client);
        let result: RebuildResponse;
        try {
          result = await client.post<RebuildResponse>('/projections/rebuild');
        } catch (error) {
          bar.stop();
          throw error;
        }
        bar.stop(result.events);
        const rate = eventsPerSecond(result.events, result.ms);
        if (options.json) return printJson({ events: result.events, ms: result.ms, eventsPerSecond: rate });
        printLine(`rebuilt the projections from ${result.events} events in ${result.ms} ms (${rate} events/s)`);
      }),
    );
};
