import { Command, InvalidArgumentError } from 'commander';
import { ApiClient } from '../client/api-client';
import { StateResponse } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { printJson, printLine } from '../client/output';
import { sessionEvents } from '../client/session-events';
import { diffStates, formatChanges } from './state-diff';

/** Commander parser of a revision: a non-negative integer, else a usage error (exit 2). */
export const parseRevision = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a revision is a non-negative integer');
  return Number(value);
};

const stateAt = (client: ApiClient, sessionId: string, at: number): Promise<StateResponse> =>
  client.get<StateResponse>(`/sessions/${encodeURIComponent(sessionId)}/state`, { at });

/**
 * Steps through revisions 0..head: for each, the event type and the changes it made to the replayed state (compared
 * with the state one revision earlier, `{}` before revision 0). `--json`: one `{revision, type, changes}` per line.
 */
const stepThrough = async (client: ApiClient, sessionId: string, json: boolean): Promise<void> => {
  let previous: unknown = {};
  for await (const event of sessionEvents(client, sessionId)) {
    const { state } = await stateAt(client, sessionId, event.revision);
    const changes = diffStates(previous, state);
    previous = state;
    if (json) {
      printJson({ revision: event.revision, type: event.type, changes });
      continue;
    }
    printLine(`#${event.revision} ${event.type}${changes.length === 0 ? '  (no change to the state)' : ''}`);
    for (const line of formatChanges(changes)) printLine(`    ${line}`);
  }
};

/** `runledger replay <sessionId> [--at N] [--json]`: the state at revision N (as the server returns it), or each step's changes. */
export const registerReplayCommand = (program: Command): void => {
  program
    .command('replay')
    .description('replay a session: the state at revision N (--at), or every revision with what it changed')
    .argument('<sessionId>', 'the session id')
    .option('--at <revision>', 'print the state right after this revision', parseRevision)
    .option('--json', 'machine-readable: the server\'s {sessionId, revision, head, state} with --at, else JSONL of {revision, type, changes}')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, sessionId: string, options: { at?: number; json?: boolean }) => {
        if (options.at === undefined) return stepThrough(client, sessionId, options.json === true);
        const body = await stateAt(client, sessionId, options.at);
        if (options.json) return printJson(body);
        printLine(`session ${body.sessionId} at revision ${body.revision} (head ${body.head})`);
        printLine(JSON.stringify(body, null, 2));
      }),
    );
};
