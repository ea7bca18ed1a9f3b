import { Command, Option } from 'commander';
import Table from 'cli-table3';
import { SessionListResponse, SessionView } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { printJson, printLine } from '../client/output';

/** Session statuses `GET /sessions?status=` accepts. */
export const SESSION_STATUSES = ['starting', 'running', 'exited', 'interrupted', 'retiring', 'terminated'] as const;

/** `3/5` (completed+failed of total), with failed and interrupted counts appended when non-zero. */
export const toolCallsCell = (counts: SessionView['toolCalls']): string => {
  const done = counts.completed + counts.failed;
  const notes = [counts.failed ? `${counts.failed} failed` : '', counts.interrupted ? `${counts.interrupted} interrupted` : ''].filter(Boolean);
  return `${done}/${counts.total}${notes.length ? ` (${notes.join(', ')})` : ''}`;
};

/** ISO-8601 time shown to the second, `T` as a space (`2025-01-02 10:11:12Z`); the input as is when not a date. */
export const shortTime = (iso: string | undefined): string => {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
};

/** Renders sessions as a plain (uncoloured) table: id, project, kind, status, agent, tool calls, revision, updated. */
export const sessionsTable = (sessions: SessionView[]): string => {
  const table = new Table({
    head: ['id', 'project', 'kind', 'status', 'agent', 'tool calls', 'rev', 'updated'],
    style: { head: [], border: [] },
  });
  for (const s of sessions) {
    table.push([s.id, s.projectId, s.kind, s.status, s.agent, toolCallsCell(s.toolCalls), String(s.revision), shortTime(s.updatedAt)]);
  }
  return table.toString();
};

/**
 * Sessions as a tree: each session under the session whose agent spawned it (`parentSessionId`), roots in list order,
 * one line each (`id kind status agent`), children indented by two spaces; a parent missing from the list makes a root.
 */
export const sessionsTree = (sessions: SessionView[]): string => {
  const ids = new Set(sessions.map((s) => s.id));
  const children = new Map<string, SessionView[]>();
  const roots: SessionView[] = [];
  for (const s of sessions) {
    if (s.parentSessionId && ids.has(s.parentSessionId) && s.parentSessionId !== s.id) children.set(s.parentSessionId, [...(children.get(s.parentSessionId) ?? []), s]);
    else roots.push(s);
  }
  const lines: string[] = [];
  const seen = new Set<string>();
  const walk = (s: SessionView, depth: number): void => {
    if (seen.has(s.id)) return;
    seen.add(s.id);
    lines.push(`${'  '.repeat(depth)}${depth > 0 ? '└ ' : ''}${s.id}  ${s.kind}  ${s.status}  ${s.agent}`);
    for (const child of children.get(s.id) ?? []) walk(child, depth + 1);
  };
  for (const root of roots) walk(root, 0);
  return lines.join('\n');
};

/** `runledger sessions [--project <id>] [--status <s>] [--tree] [--json]`: `GET /sessions`, as a table or the server's JSON. */
export const registerSessionsCommand = (program: Command): void => {
  program
    .command('sessions')
    .description('list sessions (id, project, kind, status, agent, tool calls, revision, updated)')
    .option('--project <id>', 'only the sessions of this project')
    .addOption(new Option('--status <status>', 'only sessions in this status').choices(SESSION_STATUSES))
    .option('--tree', 'show each session under the session that spawned it (parentSessionId)')
    .option('--json', 'print the server\'s JSON ({sessions: [...]})')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, options: { project?: string; status?: string; tree?: boolean; json?: boolean }) => {
        const body = await client.get<SessionListResponse>('/sessions', { projectId: options.project, status: options.status });
        if (options.json) return printJson(body);
        if (body.sessions.length === 0) return printLine('no sessions');
        if (options.tree) return printLine(sessionsTree(body.sessions));
        printLine(sessionsTable(body.sessions));
      }),
    );
};
