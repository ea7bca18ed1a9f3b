import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { Command } from 'commander';
import { findSubagentTranscripts, parseTranscriptFile, ParsedTranscript } from '@runledger/infra/claude-code/transcript-parser';
import { ClaudeCodeImportRequest, ClaudeCodeImportResponse } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { UsageError } from '../client/client-errors';
import { printJson, printLine } from '../client/output';

/** A transcript parsed on the client: the main one and its `subagents/` transcripts (absolute paths). */
export interface LocalTranscripts {
  transcriptPath: string;
  transcript: ParsedTranscript;
  subagents: { path: string; transcript: ParsedTranscript }[];
}

/**
 * Streams `file` and every `<file without .jsonl>/subagents/*.jsonl` through the transcript parser (line by line, so
 * MB files are fine; bad lines land in `skippedLines`, never fatal). Throws UsageError when `file` is not a readable file.
 */
export const parseLocalTranscripts = async (file: string): Promise<LocalTranscripts> => {
  const transcriptPath = path.resolve(file);
  try {
    if (!(await stat(transcriptPath)).isFile()) throw new UsageError(`${file} is not a file`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const transcript = await parseTranscriptFile(transcriptPath);
  const subagents = [];
  for (const sub of await findSubagentTranscripts(transcriptPath)) subagents.push({ path: sub, transcript: await parseTranscriptFile(sub) });
  return { transcriptPath, transcript, subagents };
};

/** The human report of an import: counts, sub-agent counts and every skipped line (file, line number, reason). */
const report = (local: LocalTranscripts, result: ClaudeCodeImportResponse): void => {
  printLine(`imported ${local.transcriptPath} into session ${result.sessionId}`);
  printLine(`  tool calls: ${result.toolCalls} (${result.completed} completed, ${result.failed} failed)`);
  printLine(`  sub-agent tool calls: ${result.subagentToolCalls} (from ${local.subagents.length} sub-agent transcript(s))`);
  if (result.appended !== undefined) printLine(`  events appended: ${result.appended}`);
  const skipped = [
    ...local.transcript.skippedLines.map((s) => ({ file: local.transcriptPath, ...s })),
    ...local.subagents.flatMap((sub) => sub.transcript.skippedLines.map((s) => ({ file: sub.path, ...s }))),
  ];
  printLine(`  skipped lines: ${skipped.length}${skipped.length ? ' (not fatal)' : ''}`);
  for (const s of skipped) printLine(`    ${path.relative(path.dirname(local.transcriptPath), s.file)}:${s.line} ${s.reason}`);
};

/**
 * `runledger import claude-code <transcript.jsonl> [--project <id>] [--json]`: parses the transcript (and sub-agents)
 * locally, then `POST /imports/claude-code`. `--json` prints exactly `{sessionId, toolCalls, completed, failed,
 * skippedLines, subagentToolCalls}` (DESIGN §6).
 */
export const registerImportCommand = (program: Command): void => {
  const imports = program.command('import').description('import the work of an agent that ran outside runledger');
  imports
    .command('claude-code')
    .description('import a Claude Code transcript (.jsonl) and its subagents/ folder as a session')
    .argument('<transcript>', 'the session transcript, e.g. ~/.claude/projects/<dir>/<session-id>.jsonl')
    .option('--project <id>', 'the project to import into')
    .option('--json', 'print {sessionId, toolCalls, completed, failed, skippedLines, subagentToolCalls}')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, file: string, options: { project?: string; json?: boolean }) => {
        const local = await parseLocalTranscripts(file);
        const body: ClaudeCodeImportRequest = { ...(options.project ? { projectId: options.project } : {}), ...local };
        const result = await client.post<ClaudeCodeImportResponse>('/imports/claude-code', body);
        if (!options.json) return report(local, result);
        const { sessionId, toolCalls, completed, failed, skippedLines, subagentToolCalls } = result;
        printJson({ sessionId, toolCalls, completed, failed, skippedLines, subagentToolCalls });
      }),
    );
};
