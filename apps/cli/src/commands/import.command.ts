import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { ApiClient } from '../client/api-client';
import { findSubagentTranscripts } from '@runledger/infra/agents/claude-code/subagent-transcripts';
import { parseTranscriptFile, ParsedTranscript } from '@runledger/infra/agents/claude-code/transcript-parser';
import { parseRolloutFile } from '@runledger/infra/agents/codex/rollout-parser';
import { parseOpencodeEvents } from '@runledger/infra/agents/opencode/event-parser';
import { listOpencodeSessions, opencodeDatabasePath, OpencodeDbError, readOpencodeEvents } from '@runledger/infra/agents/opencode/opencode-db';
import { opencodeExecutable } from '@runledger/application/agents/opencode/opencode.adapter';
import { geminiChatCwd, parseGeminiChatFile } from '@runledger/infra/agents/gemini-cli/chat-parser';
import { ClaudeCodeImportRequest, ClaudeCodeImportResponse } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { UsageError } from '../client/client-errors';
import { printJson, printLine } from '../client/output';
import { isInside, listProjectViews } from '../client/projects';
import { claudeConfigDir } from '../claude/install-hooks';
import { codexHomeDir } from '../codex/codex-hooks-file';

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
  const transcriptPath = await readableFile(file);
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

/** The absolute path of `file`; throws UsageError when it is not a readable file. */
const readableFile = async (file: string): Promise<string> => {
  const absolute = path.resolve(file);
  try {
    if (!(await stat(absolute)).isFile()) throw new UsageError(`${file} is not a file`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  return absolute;
};

/** Streams a Codex rollout through the rollout parser (no sub-agent files); throws UsageError when `file` is not a readable file. */
export const parseLocalRollout = async (file: string): Promise<LocalTranscripts> => {
  const transcriptPath = await readableFile(file);
  return { transcriptPath, transcript: await parseRolloutFile(transcriptPath), subagents: [] };
};

/** OpenCode's database as this CLI's environment places it: `$XDG_DATA_HOME/opencode/opencode.db` (default ~/.local/share). */
export const opencodeDatabase = (env: NodeJS.ProcessEnv = process.env): string =>
  opencodeDatabasePath(env.XDG_DATA_HOME || path.join(env.HOME || '', '.local', 'share'));

/**
 * Reads OpenCode session `sessionId`'s rows of the `event` table (through `opencode db`) into a transcript whose path is
 * the database; throws UsageError when the database cannot be read or holds no such session.
 */
export const parseLocalOpencodeSession = async (sessionId: string): Promise<LocalTranscripts> => {
  const database = opencodeDatabase();
  if (!existsSync(database)) throw new UsageError(`no OpenCode database at ${database} (XDG_DATA_HOME decides where it is)`);
  try {
    const rows = await readOpencodeEvents(opencodeExecutable(), database, sessionId);
    if (rows.length === 0) throw new UsageError(`OpenCode session ${sessionId} is not in ${database} (\`opencode session list\` shows them)`);
    return { transcriptPath: database, transcript: parseOpencodeEvents(rows, sessionId), subagents: [] };
  } catch (error) {
    if (error instanceof OpencodeDbError) throw new UsageError(error.message);
    throw error;
  }
};

/** Every OpenCode session of the database that ran in (or below) one of `repos`, with its project; oldest first. */
export const findProjectOpencodeSessions = async (database: string, repos: { projectId: string; path: string }[]): Promise<FoundTranscript[]> => {
  if (!existsSync(database)) return [];
  const found: FoundTranscript[] = [];
  for (const session of await listOpencodeSessions(opencodeExecutable(), database)) {
    const owner = repos.filter((r) => isInside(r.path, session.directory)).sort((a, b) => b.path.length - a.path.length)[0];
    if (owner) found.push({ file: session.id, projectId: owner.projectId });
  }
  return found;
};

/** Reads a Gemini CLI chat file (no sub-agent files), its cwd from the chat folder's `.project_root`; throws UsageError when `file` is not a readable file. */
export const parseLocalGeminiChat = async (file: string): Promise<LocalTranscripts> => {
  const transcriptPath = await readableFile(file);
  const transcript = await parseGeminiChatFile(transcriptPath);
  return { transcriptPath, transcript: { ...transcript, cwd: geminiChatCwd(transcriptPath) ?? null }, subagents: [] };
};

/** The agents `runledger import` reads, and how each one's record is parsed on the client (a file; an OpenCode session id). */
const IMPORTERS = { 'claude-code': parseLocalTranscripts, codex: parseLocalRollout, opencode: parseLocalOpencodeSession, 'gemini-cli': parseLocalGeminiChat } as const;


/** Imports one local transcript (and its sub-agents) of `agent` into `projectId`: `POST /imports/<agent>`. */
const importOne = async (
  client: ApiClient, file: string, projectId: string | undefined, agent: keyof typeof IMPORTERS = 'claude-code',
): Promise<{ local: LocalTranscripts; result: ClaudeCodeImportResponse }> => {
  const local = await IMPORTERS[agent](file);
  const body: ClaudeCodeImportRequest = { ...(projectId ? { projectId } : {}), ...local };
  return { local, result: await client.post<ClaudeCodeImportResponse>(`/imports/${agent}`, body) };
};

/** Every rollout under `<codex home>/sessions` (any depth) whose `session_meta` cwd is in (or below) one of `repos`, with its project; sorted by path. */
export const findProjectRollouts = async (home: string, repos: { projectId: string; path: string }[]): Promise<FoundTranscript[]> => {
  const root = path.join(home, 'sessions');
  if (!existsSync(root)) return [];
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.startsWith('rollout-') && d.name.endsWith('.jsonl'))
    .map((d) => path.join(d.parentPath, d.name))
    .sort();
  const found: FoundTranscript[] = [];
  for (const file of files) {
    const { cwd } = await parseRolloutFile(file);
    const owner = cwd ? repos.filter((r) => isInside(r.path, cwd)).sort((a, b) => b.path.length - a.path.length)[0] : undefined;
    if (owner) found.push({ file, projectId: owner.projectId });
  }
  return found;
};

/** Where `import <agent> --all` looks (the JSON key naming it, the folder or database) and what it finds there for `repos`; Gemini CLI has none (one chat file at a time). */
const SOURCES: Partial<Record<keyof typeof IMPORTERS, { key: string; where: () => string; shown: (where: string) => string; find: (where: string, repos: { projectId: string; path: string }[]) => Promise<FoundTranscript[]> }>> = {
  'claude-code': { key: 'claudeDir', where: () => claudeConfigDir(), shown: (dir) => path.join(dir, 'projects'), find: findProjectTranscripts },
  codex: { key: 'codexHome', where: () => codexHomeDir(), shown: (dir) => path.join(dir, 'sessions'), find: findProjectRollouts },
  opencode: { key: 'database', where: () => opencodeDatabase(), shown: (db) => db, find: findProjectOpencodeSessions },
};

/**
 * `import claude-code --all [--project <id>]`: every transcript of the project's (or every project's) repositories
 * under CLAUDE_CONFIG_DIR or ~/.claude, with a progress bar on stderr; importing again appends nothing.
 */
const importAll = async (client: ApiClient, options: { project?: string; json?: boolean }, agent: keyof typeof IMPORTERS = 'claude-code'): Promise<void> => {
  const projects = (await listProjectViews(client)).filter((p) => !options.project || p.id === options.project);
  if (options.project && projects.length === 0) throw new UsageError(`no project ${options.project} (runledger project list shows them)`);
  const repos = projects.flatMap((p) => p.repos.map((r) => ({ projectId: p.id, path: r.path })));
  const source = SOURCES[agent];
  if (!source) throw new UsageError(`import ${agent} takes one record at a time (--all is not built for it)`);
  const where = source.where();
  const found = await source.find(where, repos);
  const bar = new SingleBar({ format: 'importing transcripts [{bar}] {value}/{total} {file}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  bar.start(found.length, 0, { file: '' });
  const imported = [];
  try {
    for (const { file, projectId } of found) {
      bar.update({ file: path.basename(file) });
      const { result } = await importOne(client, file, projectId, agent);
      imported.push({ transcriptPath: file, projectId, ...result });
      bar.increment();
    }
  } finally {
    bar.stop();
  }
  if (options.json) return printJson({ [source.key]: where, imported });
  if (found.length === 0) return printLine(`no transcript in ${source.shown(where)} was written in ${projects.map((p) => p.id).join(', ') || 'a registered project'}`);
  for (const i of imported) {
    printLine(`${i.sessionId}  ${i.toolCalls} tool calls (${i.completed} completed, ${i.failed} failed), ${i.appended ?? '?'} events appended  ${i.transcriptPath}`);
  }
  const appended = imported.reduce((sum, i) => sum + (i.appended ?? 0), 0);
  printLine(`imported ${imported.length} transcript(s) into ${new Set(imported.map((i) => i.projectId)).size} project(s); ${appended} events appended${appended === 0 ? ' (all already imported)' : ''}`);
};

/**
 * `runledger import claude-code <transcript.jsonl> | --all [--project <id>] [--json]` (and `import codex <rollout>`,
 * `import opencode <session id>`):
 * parses the transcript (and sub-agents) locally, then `POST /imports/<agent>`. `--json` prints exactly `{sessionId, toolCalls, completed,
 * failed, skippedLines, subagentToolCalls}` (docs/ARCHITECTURE.md §6); with `--all`, `{claudeDir, imported: [...]}`.
 */
export const registerImportCommand = (program: Command): void => {
  const imports = program.command('import').description('import the work of an agent that ran outside runledger');
  const kinds: Array<{ agent: keyof typeof IMPORTERS; noun: string; description: string; example: string; where: string; alias?: string }> = [
    {
      agent: 'claude-code', noun: 'transcript', example: 'the session transcript, e.g. ~/.claude/projects/<dir>/<session-id>.jsonl', where: '',
      description: 'import a Claude Code transcript (.jsonl) and its subagents/ folder as a session, or --all of a project\'s',
    },
    {
      agent: 'codex', noun: 'rollout', example: 'the rollout, e.g. ~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl', where: ', under CODEX_HOME or ~/.codex',
      description: 'import a Codex rollout (.jsonl) as a session, or --all of a project\'s',
    },
    {
      agent: 'opencode', noun: 'session', example: 'the OpenCode session id (ses_…), read from $XDG_DATA_HOME/opencode/opencode.db', where: ', in $XDG_DATA_HOME/opencode/opencode.db',
      description: 'import an OpenCode session (its rows of the event table) as a session, or --all of a project\'s',
    },
    {
      agent: 'gemini-cli', alias: 'gemini', noun: 'chat', example: 'the chat file, e.g. ~/.gemini/tmp/<project>/chats/session-<time>-<id>.jsonl', where: '',
      description: 'import a Gemini CLI chat file (.jsonl) as a session',
    },
  ];
  for (const { agent, noun, description, example, where, alias } of kinds) {
    const command = imports.command(agent);
    if (alias) command.alias(alias);
    command
      .description(description)
      .argument(`[${noun}]`, example)
      .option('--all', `every ${noun} written in the project's repositories (every project's without --project)${where}`)
      .option('--project <id>', 'the project to import into')
      .option('--json', 'print {sessionId, toolCalls, completed, failed, skippedLines, subagentToolCalls}')
      .allowExcessArguments(false)
      .action(
        clientAction(async (client, file: string | undefined, options: { project?: string; json?: boolean; all?: boolean }) => {
          if (options.all && file) throw new UsageError(`give a ${noun} or --all, not both`);
          if (options.all && agent === 'gemini-cli') throw new UsageError('import gemini-cli takes one chat file (--all is not built for Gemini CLI)');
          if (options.all) return importAll(client, options, agent);
          if (!file) throw new UsageError(`give a ${noun}${agent === 'opencode' ? ' id' : ' file'}, or --all`);
          const { local, result } = await importOne(client, file, options.project, agent);
          if (!options.json) return report(local, result);
          const { sessionId, toolCalls, completed, failed, skippedLines, subagentToolCalls } = result;
          printJson({ sessionId, toolCalls, completed, failed, skippedLines, subagentToolCalls });
        }),
      );
  }
};
