import { Command } from 'commander';
import type { CallDiff, FileListing, RangeDiff, RewindResult } from '@runledger/application';
import { SessionView } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { UsageError } from '../client/client-errors';
import { printJson, printLine } from '../client/output';
import { describeSession } from './session-lifecycle.command';

/** A non-negative integer option (a revision); throws UsageError naming the option. */
const revisionOption = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} expects a revision (an integer ≥ 0), got ${JSON.stringify(value)}`);
  return n;
};

/** Human lines of a diff: one line per changed path (`+a −d status path`), then the unified patch. */
const printDiff = (diff: CallDiff | RangeDiff): void => {
  for (const f of diff.files) printLine(`${f.status.padEnd(12)} +${f.additions ?? '-'} −${f.deletions ?? '-'}  ${f.path}`);
  if (diff.files.length === 0) printLine('no file changed');
  if (diff.patch) process.stdout.write(`\n${diff.patch}`);
  if (diff.truncated) printLine('(patch truncated at 1 MiB)');
};

/** Registers `diff`, `files`, `rewind` and `fork`: what each call did to the files, and going back to any call (docs/ARCHITECTURE.md §4e). */
export const registerFileEffectsCommands = (program: Command): void => {
  program
    .command('diff')
    .description('what a call did to the files (--call), or how they changed between two revisions (--from, --to)')
    .argument('<sessionId>', 'the session id')
    .option('--call <callId>', 'the tool call')
    .option('--from <revision>', 'the first revision (default 0)', revisionOption('--from'))
    .option('--to <revision>', 'the last revision (default the head)', revisionOption('--to'))
    .option('--json', 'print the diff as JSON')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, id: string, options: { call?: string; from?: number; to?: number; json?: boolean }) => {
        if (options.call !== undefined && (options.from !== undefined || options.to !== undefined)) throw new UsageError('--call and --from/--to are exclusive');
        const session = encodeURIComponent(id);
        const diff = options.call !== undefined
          ? await client.get<CallDiff>(`/sessions/${session}/tool-calls/${encodeURIComponent(options.call)}/diff`)
          : await client.get<RangeDiff>(`/sessions/${session}/diff`, { from: options.from ?? 0, to: options.to });
        if (options.json) return printJson(diff);
        printDiff(diff);
      }),
    );
  program
    .command('files')
    .description('the files at a revision: a listing, or one file\'s bytes')
    .argument('<sessionId>', 'the session id')
    .argument('[path]', 'a folder to list, or a file to print')
    .option('--at <revision>', 'the revision (default the head)', revisionOption('--at'))
    .option('--json', 'print the listing as JSON')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, id: string, path: string | undefined, options: { at?: number; json?: boolean }) => {
        const response = await client.request('GET', `/sessions/${encodeURIComponent(id)}/files`, { query: { at: options.at, path } });
        if (response.headers.get('content-type')?.includes('application/octet-stream')) {
          process.stdout.write(Buffer.from(await response.arrayBuffer()));
          return;
        }
        const listing = (await response.json()) as FileListing;
        if (options.json) return printJson(listing);
        printLine(`files of ${id} at revision ${listing.at} (tree ${listing.tree.slice(0, 12)}, ${listing.root})`);
        for (const entry of listing.entries) printLine(`${entry.mode} ${String(entry.bytes ?? '-').padStart(10)}  ${entry.path}`);
      }),
    );
  program
    .command('rewind')
    .description('put the session\'s files back to their state after (or --before) a call; the current state is kept on a ref')
    .argument('<sessionId>', 'the session id')
    .requiredOption('--to-call <callId>', 'the tool call')
    .option('--before', 'the state before the call (default: after it)')
    .option('--json', 'print {preservedRef, preservedTree, tree, session}')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, id: string, options: { toCall: string; before?: boolean; json?: boolean }) => {
        const phase = options.before ? 'before' : 'after';
        const result = await client.post<RewindResult>(`/sessions/${encodeURIComponent(id)}/rewind`, { callId: options.toCall, phase });
        if (options.json) return printJson(result);
        printLine(`files of ${id} back to ${phase} ${options.toCall} (tree ${result.tree.slice(0, 12)})`);
        printLine(`  the state they had is kept in ${result.preservedRef} (tree ${result.preservedTree.slice(0, 12)}) of the snapshot repository`);
      }),
    );
  program
    .command('fork')
    .description('a new session (new id, new worktree) whose files are the state after (or --before) a call')
    .argument('<sessionId>', 'the session id')
    .requiredOption('--at-call <callId>', 'the tool call')
    .option('--before', 'the state before the call (default: after it)')
    .option('--prompt <text>', 'the prompt the forked agent starts with (default: the original prompt)')
    .option('--json', 'print the new session snapshot as JSON')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, id: string, options: { atCall: string; before?: boolean; prompt?: string; json?: boolean }) => {
        const body = { callId: options.atCall, phase: options.before ? 'before' : 'after', ...(options.prompt ? { prompt: options.prompt } : {}) };
        const session = await client.post<SessionView>(`/sessions/${encodeURIComponent(id)}/fork`, body);
        if (options.json) return printJson(session);
        describeSession(session, 'forked');
      }),
    );
};
