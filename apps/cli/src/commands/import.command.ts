import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { ApiClient } from '../client/api-client';
import { findSubagentTranscripts } from '@runledger/infra/agents/claude-code/subagent-transcripts';
import { parseTranscriptFile, ParsedTranscript } from '@runledger/infra/agents/claude-code/transcript-parser';
import { ClaudeCodeImportRequest, ClaudeCodeImportResponse } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { UsageError } from '../client/client-errors';
import { printJson, printLine } from '../client/output';
import { isInside, listProjectViews } from '../client/projects';
import { claudeConfigDir } from '../claude/install-hooks';

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

/** Claude Code's folder name for a working directory: every character but ASCII letters and digits becomes `-`. */
export const claudeProjectDirName = (cwd: string): string => cwd.replace(/[^a-zA-Z0-9]/g, '-');

/** The `cwd` a transcript was written in: the first line that names one; undefined when none does. */
export const transcriptCwd = async (file: string): Promise<string | undefined> => {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      try {
        const cwd = (JSON.parse(line) as { cwd?: unknown }).cwd;
        if (typeof cwd === 'string') return cwd;
      } catch {
        /* a bad line: the parser counts it at import */
      }
    }
    return undefined;
  } finally {
    lines.close();
  }
};

/** One transcript found for `import --all`, and the project it belongs to. */
export interface FoundTranscript {
  file: string;
  projectId: string;
}

/**
 * Every main transcript under `<claude dir>/projects` written in (or below) one of the repositories of `repos`
 * (project id → repository paths): folders are picked by name, then each transcript's own `cwd` decides. Sorted by path.
 */
export const findProjectTranscripts = async (claudeDir: string, repos: { projectId: string; path: string }[]): Promise<FoundTranscript[]> => {
  const root = path.join(claudeDir, 'projects');
  if (!existsSync(root)) return [];
  const found: FoundTranscript[] = [];
  for (const dir of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    const candidates = repos.filter((r) => dir.startsWith(claudeProjectDirName(r.path)));
    if (candidates.length === 0) continue;
    for (const name of readdirSync(path.join(root, dir)).filter((n) => n.endsWith('.jsonl')).sort()) {
      const file = path.join(root, dir, name);
      const cwd = await transcriptCwd(file);
      const owner = cwd ? candidates.filter((r) => isInside(r.path, cwd)).sort((a, b) => b.path.length - a.path.length)[0] : undefined;
      if (owner) found.push({ file, projectId: owner.projectId });
    }
  }
  return found;
};

/** Imports one local transcript (and its sub-agents) into `projectId`. */
const importOne = async (client: ApiClient, file: string, projectId: string | undefined): Promise<{ local: LocalTranscripts; result: ClaudeCodeImportResponse }> => {
  const local = await parseLocalTranscripts(file);
  const body: ClaudeCodeImportRequest = { ...(projectId ? { projectId } : {}), ...local };
  return { local, result: await client.post<ClaudeCodeImportResponse>('/imports/claude-code', body) };
};

/**
 * `import claude-code --all [--project <id>]`: every transcript of the project's (or every project's) repositories
 * under CLAUDE_CONFIG_DIR or ~/.claude, with a progress bar on stderr; importing again appends nothing.
 */
const importAll = async (client: ApiClient, options: { project?: string; json?: boolean }): Promise<void> => {
  const projects = (await listProjectViews(client)).filter((p) => !options.project || p.id === options.project);
  if (options.project && projects.length === 0) throw new UsageError(`no project ${options.project} (runledger project list shows them)`);
  const claudeDir = claudeConfigDir();
  const found = await findProjectTranscripts(claudeDir, projects.flatMap((p) => p.repos.map((r) => ({ projectId: p.id, path: r.path }))));
  const bar = new SingleBar({ format: 'importing transcripts [{bar}] {value}/{total} {file}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  bar.start(found.length, 0, { file: '' });
  const imported = [];
  try {
    for (const { file, projectId } of found) {
      bar.update({ file: path.basename(file) });
      const { result } = await importOne(client, file, projectId);
      imported.push({ transcriptPath: file, projectId, ...result });
      bar.increment();
    }
  } finally {
    bar.stop();
  }
  if (options.json) return printJson({ claudeDir, imported });
  if (found.length === 0) return printLine(`no transcript under ${path.join(claudeDir, 'projects')} was written in ${projects.map((p) => p.id).join(', ') || 'a registered project'}`);
  for (const i of imported) {
    printLine(`${i.sessionId}  ${i.toolCalls} tool calls (${i.completed} completed, ${i.failed} failed), ${i.appended ?? '?'} events appended  ${i.transcriptPath}`);
  }
  const appended = imported.reduce((sum, i) => sum + (i.appended ?? 0), 0);
  printLine(`imported ${imported.length} transcript(s) into ${new Set(imported.map((i) => i.projectId)).size} project(s); ${appended} events appended${appended === 0 ? ' (all already imported)' : ''}`);
};

/**
 * `runledger import claude-code <transcript.jsonl> | --all [--project <id>] [--json]`: parses the transcript (and
 * sub-agents) locally, then `POST /imports/claude-code`. `--json` prints exactly `{sessionId, toolCalls, completed,
 * failed, skippedLines, subagentToolCalls}` (docs/ARCHITECTURE.md §6); with `--all`, `{claudeDir, imported: [...]}`.
 */
export const registerImportCommand = (program: Command): void => {
  const imports = program.command('import').description('import the work of an agent that ran outside runledger');
  imports
    .command('claude-code')
    .description('import a Claude Code transcript (.jsonl) and its subagents/ folder as a session, or --all of a project\'s')
    .argument('[transcript]', 'the session transcript, e.g. ~/.claude/projects/<dir>/<session-id>.jsonl')
    .option('--all', 'every transcript written in the project\'s repositories (every project\'s without --project)')
    .option('--project <id>', 'the project to import into')
    .option('--json', 'print {sessionId, toolCalls, completed, failed, skippedLines, subagentToolCalls}')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, file: string | undefined, options: { project?: string; json?: boolean; all?: boolean }) => {
        if (options.all && file) throw new UsageError('give a transcript or --all, not both');
        if (options.all) return importAll(client, options);
        if (!file) throw new UsageError('give a transcript file, or --all');
        const { local, result } = await importOne(client, file, options.project);
        if (!options.json) return report(local, result);
        const { sessionId, toolCalls, completed, failed, skippedLines, subagentToolCalls } = result;
        printJson({ sessionId, toolCalls, completed, failed, skippedLines, subagentToolCalls });
      }),
    );
};
