import { Command } from 'commander';
import { clientAction } from '../client/client-command';
import { printJson, printLine } from '../client/output';
import { sessionEvents } from '../client/session-events';
import { completenessLines, EventSummarizer, historyLine } from './event-summary';

/** `runledger history <sessionId> [--json]`: one line per event (all pages) then the completeness of its calls (hooks, transcript, telemetry), or JSONL of the events with `--json`. */
export const registerHistoryCommand = (program: Command): void => {
  program
    .command('history')
    .description('the audit trail of a session: one line per event (time, revision, type, summary), then which source saw which call')
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
        if (options.json) return; // JSONL of events only; the snapshot (GET /sessions/:id) carries completeness as JSON
        const { completeness } = await client.get<{ completeness: Parameters<typeof completenessLines>[0] }>(`/sessions/${encodeURIComponent(sessionId)}`);
        if (completeness.sources.length === 0) return; // no source records this agent's calls (a plain command): nothing to compare
        for (const line of completenessLines(completeness)) printLine(line);
      }),
    );
};
