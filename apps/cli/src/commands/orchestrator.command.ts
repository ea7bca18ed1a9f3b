import { Command } from 'commander';
import { SessionView } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { printJson, printLine } from '../client/output';

/** Options of `runledger orchestrator ensure|replace`. */
interface OrchestratorOptions {
  agent?: string;
  json?: boolean;
}

/** `POST /projects/:id/orchestrator {clean}` and prints `<id> <status> (existing|started)`, or the snapshot with `created` under --json. */
const orchestratorAction = (clean: boolean) =>
  clientAction(async (client, project: string, command: string[], options: OrchestratorOptions) => {
    const body = { clean, ...(options.agent ? { agent: options.agent } : {}), ...(command.length > 0 ? { command } : {}) };
    const response = await client.request('POST', `/projects/${encodeURIComponent(project)}/orchestrator`, { body });
    const session = (await response.json()) as SessionView;
    const created = response.status === 201;
    if (options.json) return printJson({ created, session });
    printLine(`${session.id} ${session.status} (${created ? 'started' : 'existing'}) on ${session.branch}`);
  });

/** `runledger orchestrator ensure|replace <project> [-- command...]` (docs/ARCHITECTURE.md §6, §4b). */
export const registerOrchestratorCommand = (program: Command): void => {
  const orchestrator = program.command('orchestrator').description("a project's orchestrator: ensure (idempotent) or replace");
  for (const [name, clean, description] of [
    ['ensure', false, "return the project's live orchestrator: restored under its id if interrupted, started when there is none"],
    ['replace', true, 'retire the orchestrator (work preserved, canonical branch released) and start a verified new one'],
  ] as const) {
    orchestrator
      .command(`${name} <project> [command...]`)
      .description(`${description}; [command...] is the argv of a command orchestrator`)
      .option('--agent <agent>', 'agent of a new orchestrator (command or claude-code; default: the project\'s orchestratorAgent)')
      .option('--json', 'print {created, session}')
      .action(orchestratorAction(clean));
  }
};
