import { Command } from 'commander';
import { clientAction } from '../client/client-command';
import { printJson, printLine } from '../client/output';
import { sessionEvents } from '../client/session-events';
import { EventSummarizer, historyLine } from './event-summary';

/** `runledger history <sessionId> [--json]`: one line per event (all pages), or JSONL of the events with `--json`. */
export const registerHistoryCommand = (program: Command): void => {
  program
    .command('history')
    .description('the audit trail of a session: one line per event (time, revision, type, summary)')
    .argument('<sessionId>', 'the session id')
    .option('--json', 'print JSONL: one event (envelope, data, metadata, hash) per line')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, sessionId: string, options: { json?: boolean }) => {
        const summarizer = new EventSummarizer();
        for await (const event of sessionEvents(client, sessionId)) {
          if (options.json) printJson(event);
          else printLine(historyLine(event, summarizer));
        }
      }),
    );
};
