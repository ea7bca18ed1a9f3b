import { LAUNCHABLE_AGENTS, type LaunchableAgent } from '@runledger/domain';
import { Command, Option } from 'commander';
import type { CleanupResult, KillResult } from '@runledger/application';
import { SessionView } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { UsageError } from '../client/client-errors';
import { printJson, printLine } from '../client/output';
import { resolveProjectId } from '../client/projects';
import { toolCallsCell } from './sessions.command';

/** Agents `POST /sessions` launches (docs/ARCHITECTURE.md §5). */
export const SPAWN_AGENTS = LAUNCHABLE_AGENTS;
/** Runtimes a session may ask for (docs/ARCHITECTURE.md §4a). */
export const SPAWN_RUNTIMES = ['process', 'tmux'] as const;

/** Options of `spawn`. */
interface SpawnOptions {
  project?: string;
  agent?: LaunchableAgent;
  prompt?: string;
  runtime?: (typeof SPAWN_RUNTIMES)[number];
  kind?: 'worker' | 'orchestrator';
  baseRef?: string;
  idempotencyKey?: string;
  json?: boolean;
}

/**
 * The `POST /sessions` body of `spawn`: the agent is `command` when an argv follows `--`, else `claude-code`; a
 * `command` agent needs that argv. Throws UsageError on a contradiction.
 */
export const spawnBody = (projectId: string, argv: string[], options: SpawnOptions): Record<string, unknown> => {
  const agent = options.agent ?? (argv.length ? 'command' : 'claude-code');
  if (agent === 'command' && argv.length === 0) throw new UsageError('a command agent needs its argv after --, e.g. runledger spawn -- sh -c "make test"');
  if (agent !== 'command' && argv.length) throw new UsageError(`an argv after -- is for --agent command, not ${agent}`);
  return {
    projectId,
    agent,
    ...(argv.length ? { command: argv } : {}),
    ...(options.prompt !== undefined ? { prompt: options.prompt } : {}),
    ...(options.runtime ? { runtime: options.runtime } : {}),
    ...(options.kind ? { kind: options.kind } : {}),
    ...(options.baseRef ? { baseRef: options.baseRef } : {}),
  };
};

/** Human lines of a session snapshot: status, agent, runtime, worktrees, tool calls. */
export const describeSession = (s: SessionView, verb = 'session'): void => {
  printLine(`${verb} ${s.id}: ${s.status} (${s.kind}, agent ${s.agent}, project ${s.projectId}, revision ${s.revision})`);
  if (s.runtime) {
    const where = s.runtime.type === 'tmux' ? `tmux ${s.runtime.sessionName ?? '?'}` : `pid ${s.runtime.pid ?? '?'}`;
    printLine(`  runtime: ${s.runtime.type} ${where}${s.runtime.alive === null ? '' : s.runtime.alive ? ', alive' : ', not running'}`);
  }
  for (const w of s.worktrees) {
    printLine(`  worktree ${w.repo}: ${w.state} ${w.path} (branch ${w.branch})${w.preservedRef ? `, work preserved in ${w.preservedRef}` : ''}`);
  }
  printLine(`  tool calls: ${toolCallsCell(s.toolCalls)}`);
};

/** Registers `spawn`, `kill`, `cleanup`, `restore`: the lifecycle of a session (docs/ARCHITECTURE.md §5, worktree safety rules of §3). */
export const registerSessionLifecycleCommands = (program: Command): void => {
  program
    .command('spawn')
    .description('spawn a session: a worktree on runledger/<id> and the agent running in it (argv after -- for a command agent)')
    .argument('[argv...]', 'the command agent\'s argv, after --')
    .option('--project <id>', 'the project (default: the one whose repository holds the current directory, or the only one)')
    .addOption(new Option('--agent <agent>', 'the agent (default: command with an argv, else claude-code)').choices(SPAWN_AGENTS))
    .option('--prompt <text>', 'the prompt (claude-code: claude -p <prompt>)')
    .addOption(new Option('--runtime <runtime>', 'where the agent runs').choices(SPAWN_RUNTIMES))
    .addOption(new Option('--kind <kind>', 'session kind').choices(['worker', 'orchestrator']))
    .option('--base-ref <ref>', 'the commit or branch the worktree starts from')
    .option('--idempotency-key <key>', 'a retry with the same key returns the first session and spawns nothing')
    .option('--json', 'print the session snapshot as JSON')
    .action(
      clientAction(async (client, argv: string[], options: SpawnOptions) => {
        const projectId = await resolveProjectId(client, options.project);
        const headers = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined;
        const session = await client.post<SessionView>('/sessions', spawnBody(projectId, argv, options), headers);
        if (options.json) return printJson(session);
        describeSession(session, 'spawned');
      }),
    );
  program
    .command('kill')
    .description('stop a session\'s agent; clean worktrees are removed, a dirty one is kept')
    .argument('<id>', 'the session id')
    .option('--reason <text>', 'recorded with the kill')
    .option('--json', 'print {freed, session}')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, id: string, options: { reason?: string; json?: boolean }) => {
        const result = await client.post<KillResult>(`/sessions/${encodeURIComponent(id)}/kill`, options.reason ? { reason: options.reason } : {});
        if (options.json) return printJson(result);
        describeSession(result.session, 'killed');
        printLine(result.freed ? '  worktrees freed' : '  a dirty worktree was kept: `runledger cleanup` preserves its work to a ref, then removes it');
      }),
    );
  program
    .command('cleanup')
    .description('preserve uncommitted work to refs/runledger/preserved/<id>, then remove the worktrees')
    .argument('<id>', 'the session id')
    .option('--json', 'print {session, preserved, removed, retryRemove, stranded, skipped}')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, id: string, options: { json?: boolean }) => {
        const result = await client.post<CleanupResult>(`/sessions/${encodeURIComponent(id)}/cleanup`);
        if (options.json) return printJson(result);
        describeSession(result.session, 'cleaned up');
        for (const p of result.preserved) printLine(`  preserved ${p.repo}: ${p.ref} (${p.commit.slice(0, 12)})`);
        for (const repo of result.removed) printLine(`  removed worktree ${repo}`);
        for (const r of result.retryRemove) printLine(`  removal of ${r.repo} failed, the worker retries it: ${r.error}`);
        for (const s of result.stranded) printLine(`  STRANDED ${s.repo}: ${s.reason}`);
        for (const repo of result.skipped) printLine(`  skipped ${repo}`);
      }),
    );
  program
    .command('restore')
    .description('same id: worktrees recreated, preserved work replayed, agent relaunched')
    .argument('<id>', 'the session id')
    .option('--json', 'print the session snapshot as JSON')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, id: string, options: { json?: boolean }) => {
        const session = await client.post<SessionView>(`/sessions/${encodeURIComponent(id)}/restore`);
        if (options.json) return printJson(session);
        describeSession(session, 'restored');
      }),
    );
};
