import { sessionIdOfStream } from '@runledger/domain';
import { Command, InvalidArgumentError } from 'commander';
import { createParser, EventSourceMessage } from 'eventsource-parser';
import { ApiClient } from '../client/api-client';
import { AuditEvent } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { ServerUnreachableError } from '../client/client-errors';
import { printError, printJson, printLine } from '../client/output';
import { EventSummarizer } from './event-summary';

/** One event of the global feed (`GET /events`, docs/ARCHITECTURE.md §5). */
export interface FeedEvent extends AuditEvent {
  streamId: string;
}

/** Longest wait between two reconnection attempts (ms); the first retry is at once, then 250 ms doubling. */
export const TAIL_MAX_RETRY_MS = 5_000;

/** Options of `tail`. */
interface TailOptions {
  session?: string;
  from?: number;
  count?: number;
  json?: boolean;
}

const nonNegative = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
};

/** Turns feed events into human lines: `<time> <stream>#<revision> <type> <summary>`, one summarizer per stream. */
export class FeedPrinter {
  private readonly summarizers = new Map<string, EventSummarizer>();

  /** The line of one event. */
  line(event: FeedEvent): string {
    let summarizer = this.summarizers.get(event.streamId);
    if (!summarizer) this.summarizers.set(event.streamId, (summarizer = new EventSummarizer()));
    const stream = sessionIdOfStream(event.streamId) ?? event.streamId;
    return `${event.metadata?.recordedAt ?? '?'}  ${stream}#${event.revision}  ${event.type}  ${summarizer.summarize(event)}`;
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });

/**
 * Follows `GET /events` as Server-Sent Events from global position `from`, calling `onEvent` for each event in log
 * order. When the connection drops (server restarted, network) it reconnects with `Last-Event-ID` = the last position
 * received, so no event is skipped or repeated, and reports the drop and the reconnection through `onNotice`. Resolves
 * when `signal` aborts or `onEvent` returns false; throws ServerUnreachableError when the very first connection fails
 * and ApiError on an error status (401, …).
 */
export const followFeed = async (
  client: ApiClient,
  from: number,
  onEvent: (event: FeedEvent) => boolean | void,
  onNotice: (text: string) => void,
  signal: AbortSignal,
): Promise<void> => {
  let lastId = String(from);
  let connectedOnce = false;
  let retryMs = 0;
  while (!signal.aborted) {
    let stop = false;
    try {
      const response = await client.request('GET', '/events', {
        query: { from: lastId },
        headers: { accept: 'text/event-stream', 'last-event-id': lastId },
        signal,
      });
      if (connectedOnce) onNotice(`reconnected, resuming after position ${lastId}`);
      connectedOnce = true;
      retryMs = 0;
      const parser = createParser({
        onEvent: (message: EventSourceMessage) => {
          if (stop) return;
          const event = JSON.parse(message.data) as FeedEvent;
          if (message.id) lastId = message.id;
          if (onEvent(event) === false) stop = true;
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (stop) return;
      }
      if (signal.aborted) return;
      onNotice(`the server closed the feed; reconnecting (Last-Event-ID ${lastId})`);
    } catch (error) {
      if (signal.aborted || stop) return;
      if (!connectedOnce || !(error instanceof ServerUnreachableError || (error as Error).name === 'TypeError')) throw error;
      onNotice(`connection lost (${(error as Error).message.split('\n')[0]}); reconnecting (Last-Event-ID ${lastId})`);
    }
    await sleep(retryMs, signal);
    retryMs = Math.min(TAIL_MAX_RETRY_MS, retryMs ? retryMs * 2 : 250);
  }
};

/**
 * `runledger tail [--session <id>] [--from N] [--count N] [--json]`: the live feed as human lines (or JSONL), from the
 * current head unless `--from`; survives server restarts (see followFeed). Stops on Ctrl-C, or after `--count` events.
 */
export const registerTailCommand = (program: Command): void => {
  program
    .command('tail')
    .description('follow the live event feed as human lines (reconnects after a server restart without losing events)')
    .option('--session <id>', 'only the events of this session')
    .option('--from <position>', 'start after this global position (default: the current head; 0 for the whole log)', nonNegative)
    .option('--count <n>', 'stop after n events', nonNegative)
    .option('--json', 'print JSONL: one feed event {globalPosition, streamId, revision, type, data, metadata, hash} per line')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, options: TailOptions) => {
        const from = options.from ?? (await client.get<{ headPosition: number }>('/health')).headPosition;
        const stream = options.session ? `session-${options.session}` : undefined;
        const printer = new FeedPrinter();
        const controller = new AbortController();
        const onSignal = () => controller.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        let printed = 0;
        if (options.count === 0) return;
        printError(`following the log after position ${from}${stream ? ` (session ${options.session})` : ''}; Ctrl-C stops`);
        try {
          await followFeed(
            client,
            from,
            (event) => {
              if (stream && event.streamId !== stream) return true;
              if (options.json) printJson(event);
              else printLine(printer.line(event));
              printed += 1;
              return options.count === undefined || printed < options.count;
            },
            (notice) => printError(`runledger tail: ${notice}`),
            controller.signal,
          );
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
    );
};
