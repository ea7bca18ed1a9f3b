import { Command } from 'commander';
import { SessionView } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { printJson, printLine } from '../client/output';

/** What `POST /sessions/:id/reconcile` answers (the fields the CLI prints). */
interface ReconcileAnswer {
  sessionId: string;
  outcome: string;
  why: string;
  appended: number;
  counts: { callsFromTranscript: number; resultsFromTranscript: number; callsOnlyInLog: number; toolCallsInterrupted: number };
  session?: SessionView;
}

/**
 * `runledger resume <id> [--prompt <text>]` (`POST /sessions/:id/resume`: an exited or interrupted agent continues under
 * the same id, natively when it can) and `runledger reconcile <id>` (`POST /sessions/:id/reconcile`: the log made equal
 * to the agent's transcript now). `--json` prints the server's answer.
 */
export const registerRecoveryCommands = (program: Command): void => {
  program
    .command('resume <id>')
    .description('continue an exited or interrupted session under the same id (Claude Code: its own conversation, --resume)')
    .option('--prompt <text>', 'a new prompt (default: a short continuation prompt for a native resume)')
    .option('--json', 'print the session snapshot as JSON')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, id: string, options: { prompt?: string; json?: boolean }) => {
        const session = await client.post<SessionView & { resumeMode?: string }>(`/sessions/${encodeURIComponent(id)}/resume`, options.prompt !== undefined ? { prompt: options.prompt } : {});
        if (options.json) return printJson(session);
        printLine(`${session.id}: ${session.status} (resumed ${session.resumeMode ?? 'fresh'})`);
      }),
    );
  program
    .command('reconcile <id>')
    .description("make the session's log equal its agent's transcript now (reconciling twice appends nothing)")
    .option('--json', 'print the reconcile result as JSON')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, id: string, options: { json?: boolean }) => {
        const result = await client.post<ReconcileAnswer>(`/sessions/${encodeURIComponent(id)}/reconcile`);
        if (options.json) return printJson(result);
        const c = result.counts;
        printLine(
          `${result.sessionId}: ${result.outcome} (${result.why}); ${result.appended} events appended: ${c.callsFromTranscript} calls and ` +
            `${c.resultsFromTranscript} results from the transcript, ${c.callsOnlyInLog} calls only in the log, ${c.toolCallsInterrupted} interrupted`,
        );
      }),
    );
};
