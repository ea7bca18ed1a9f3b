import { Command } from 'commander';
import Table from 'cli-table3';
import type { ToolCallView } from '@runledger/domain';
import { clientAction } from '../client/client-command';
import { printJson, printLine } from '../client/output';
import { inputSummary } from './event-summary';
import { shortTime } from './sessions.command';

/** The result column: exit code, error, `(transcript)` when the result came from the agent's transcript. */
const resultCell = (call: ToolCallView): string => {
  const parts = [
    call.result?.exitCode !== undefined ? `exit ${call.result.exitCode}` : '',
    call.result?.error ? call.result.error.slice(0, 40) : '',
    call.interruption ? call.interruption.reason.slice(0, 40) : '',
    call.source && call.source !== 'hook' && call.source !== 'executor' ? `(${call.source})` : '',
  ].filter(Boolean);
  return parts.join(' ');
};

/** Renders tool calls as a plain table: call id, tool, mode, status, attempt, input, result, dispatched. */
export const toolCallsTable = (calls: ToolCallView[]): string => {
  const table = new Table({ head: ['call', 'tool', 'mode', 'status', 'try', 'input', 'result', 'dispatched'], style: { head: [], border: [] } });
  for (const c of calls) {
    table.push([c.callId, c.tool, c.mode, c.status, String(c.attempt), inputSummary(c.input, 40), resultCell(c), shortTime(c.dispatchedAt)]);
  }
  return table.toString();
};

/** `runledger tool-calls <id> [--json]`: `GET /sessions/:id/tool-calls` as a table. */
export const registerToolCallsCommand = (program: Command): void => {
  program
    .command('tool-calls')
    .description('the tool calls of a session: tool, mode, status, attempt, input, result')
    .argument('<id>', 'the session id')
    .option('--json', 'print the server\'s JSON ({toolCalls: [...]})')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, id: string, options: { json?: boolean }) => {
        const body = await client.get<{ toolCalls: ToolCallView[] }>(`/sessions/${encodeURIComponent(id)}/tool-calls`);
        if (options.json) return printJson(body);
        printLine(body.toolCalls.length ? toolCallsTable(body.toolCalls) : `no tool calls in ${id}`);
      }),
    );
};
