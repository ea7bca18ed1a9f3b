import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import Table from 'cli-table3';
import { HookRunner, hookRunner, hookRunnerOf } from '@runledger/application/agents/hook-runner';
import { ApiClient } from '../client/api-client';
import { EventsPage, SessionListResponse, SessionView } from '../client/api-types';
import { clientAction } from '../client/client-command';
import { UsageError } from '../client/client-errors';
import { printError, printJson, printLine } from '../client/output';
import { listProjectViews, projectHolding, ProjectView, repositoryTop } from '../client/projects';
import { ClaudeSettingsFile, hasInstalledHooks, isInstalledHook, MatcherGroup } from '../claude/claude-settings';
import { InstalledHookTarget, installHooks, SettingsChange, uninstallHooks } from '../claude/install-hooks';
import { RecordsInto, recordsInto, remoteClientConfig, RemoteOptions, remoteRecording, requireRemoteRunner } from '../claude/remote-recorder';
import { shortTime, toolCallsCell } from './sessions.command';

/**
 * What `runledger <agent> install-hooks|uninstall-hooks|status` needs to know of one agent's hooks files (flight-recorder
 * mode, docs/ARCHITECTURE.md §4a, §4d): its scopes and where each one's file is, what to install (`T`: the hooks of a
 * JSON settings file, or OpenCode's plugin text), how a file is changed, and which recorded sessions are its own.
 */
export interface AgentHooksFiles<T = Record<string, MatcherGroup[]>> {
  /** The CLI command: `claude`, `codex`. */
  command: string;
  /** The agent's name for people. */
  label: string;
  /** The executable a person starts (`claude`, `codex`): the status hint. */
  executable: string;
  scopes: readonly string[];
  defaultScope: string;
  /** `--scope` help: which file each scope is. */
  scopeHelp: string;
  /** The hooks file of `scope` (repo: the repository for the repository scopes); throws UsageError. */
  fileOf(scope: string, repo: string | undefined): string;
  /** The hooks to install for `target`. */
  hooksFor(target: InstalledHookTarget): T;
  /** Merges `ours` into `file` (backup, idempotent); throws UsageError naming what is wrong, nothing changed then. */
  install(file: string, ours: T, scope: string, repo: string | undefined, telemetry?: InstalledHookTarget): SettingsChange;
  /** Whether `file` holds runledger's hooks, and their runner; undefined: read as a JSON settings file with command hooks. */
  inspect?(file: string): { installed: boolean; runner?: keyof typeof RUNNER_TEXT };
  /** Whether install-hooks offers `--telemetry` (the agent sends its own OTLP logs to runledger, docs/ARCHITECTURE.md §4g). */
  telemetry?: boolean;
  /** Removes exactly what install added (byte for byte when nothing else changed); throws UsageError. */
  uninstall(file: string): SettingsChange;
  /** True for a session this agent's hooks record. */
  ownsSession(session: SessionView): boolean;
  /** Whether install-hooks offers `--server` (a remote flight recorder: the hooks post to a team server and ship the transcript, docs/ARCHITECTURE.md §4f). */
  remote?: boolean;
}

/** How an agent whose hooks live in a Claude-shaped settings.json (`{hooks: {<Event>: [group…]}}`: Claude Code, Gemini CLI) has them merged and removed. */
export const SETTINGS_JSON_HOOKS: Pick<AgentHooksFiles, 'install' | 'uninstall'> = {
  install: (file, ours) => installHooks(file, ours),
  uninstall: (file) => uninstallHooks(file),
};

/** Options of install-hooks and uninstall-hooks (`server`, `tokenFile`: a remote flight recorder, the CA from the CLI's `--ca-file`). */
interface HookOptions extends RemoteOptions {
  scope: string;
  telemetry?: boolean;
  project?: string;
  json?: boolean;
}

/** A hooks file to change, the repositories whose agent sessions its hooks record, the repository it belongs to (repository scopes), and the project whose hook settings apply (one project only). */
interface HookPlacement {
  file: string;
  roots: string[];
  repo?: string;
  project?: ProjectView;
}

/**
 * Where the hooks go: `user` scope writes the user's settings once, recording the repositories of `--project` (or of
 * every project); `project`/`local` write into each repository of `--project`, or into the repository of the current
 * directory, which a project must hold. Throws UsageError when there is nothing to record.
 */
const placements = async <T>(files: AgentHooksFiles<T>, client: ApiClient, options: HookOptions, cwd: string = process.cwd()): Promise<HookPlacement[]> => {
  const projects = await listProjectViews(client);
  const chosen: ProjectView[] = options.project ? projects.filter((p) => p.id === options.project) : projects;
  if (options.project && chosen.length === 0) throw new UsageError(`no project ${options.project} (runledger project list shows them)`);
  if (options.scope === 'user') {
    const roots = chosen.flatMap((p) => p.repos.map((r) => r.path));
    if (roots.length === 0) throw new UsageError('no project is registered: run `runledger project add [path]` first');
    return [{ file: files.fileOf('user', undefined), roots, project: chosen.length === 1 ? chosen[0] : undefined }];
  }
  if (options.project) return chosen[0].repos.map((r) => ({ file: files.fileOf(options.scope, r.path), roots: [r.path], repo: r.path, project: chosen[0] }));
  const repo = repositoryTop(cwd);
  const project = projectHolding(projects, repo);
  if (!project) throw new UsageError(`no project holds ${repo}: run \`runledger project add\` there first, or pass --project <id>`);
  return [{ file: files.fileOf(options.scope, repo), roots: [repo], repo, project }];
};

/**
 * Where a remote flight recorder's hooks go (docs/ARCHITECTURE.md §4f): the hooks file of the scope, recording the
 * repository of the current directory on this machine into `--project` of the team server (or its only project). The
 * server's own repository paths mean nothing here. Throws UsageError when the project is unknown or not chosen.
 */
const remotePlacement = async <T>(files: AgentHooksFiles<T>, client: ApiClient, options: HookOptions, cwd: string = process.cwd()): Promise<HookPlacement> => {
  const projects = await listProjectViews(client);
  const project = options.project ? projects.find((p) => p.id === options.project) : projects.length === 1 ? projects[0] : undefined;
  if (options.project && !project) throw new UsageError(`no project ${options.project} on ${client.config.baseUrl} (runledger project list there shows them)`);
  if (!project) {
    throw new UsageError(`--server ${client.config.baseUrl} has ${projects.length} projects: name the one to record into with --project <id> (${projects.map((p) => p.id).join(', ') || 'register one there first'})`);
  }
  const repo = repositoryTop(cwd);
  return { file: files.fileOf(options.scope, options.scope === 'user' ? undefined : repo), roots: [repo], ...(options.scope === 'user' ? {} : { repo }), project };
};

const CHANGE_TEXT: Record<SettingsChange['action'], string> = {
  installed: 'hooks installed',
  updated: 'hooks updated',
  unchanged: 'hooks already installed, nothing changed',
  restored: 'hooks removed, the file restored exactly as it was before install-hooks',
  'removed-file': 'hooks removed; the file did not exist before install-hooks and is deleted',
  'removed-hooks': 'hooks removed; the file changed since install-hooks, so your other changes were kept',
  'not-installed': 'no runledger hooks there, nothing changed',
};

const report = (changes: SettingsChange[], json: boolean | undefined, extra: Record<string, unknown> = {}): void => {
  if (json) return printJson({ ...extra, changes });
  for (const c of changes) printLine(`${c.file}: ${CHANGE_TEXT[c.action]}${c.backup ? ` (backup: ${c.backup})` : ''}`);
};

/** The last event of a session: one page of one event at its snapshot's revision. */
const lastEvent = async (client: ApiClient, session: SessionView): Promise<{ type: string; at?: string } | undefined> => {
  const page = await client.get<EventsPage>(`/sessions/${encodeURIComponent(session.id)}/events`, { from: session.revision, limit: 1 });
  const event = page.events[0];
  return event ? { type: event.type, at: event.metadata?.recordedAt } : undefined;
};

/** How `claude status` names each hook runner. */
const RUNNER_TEXT: Record<HookRunner['kind'] | 'plugin' | 'mixed' | 'unknown', string> = {
  plugin: 'plugin: runledger\'s plugin, run inside the agent',
  shim: 'shim: bin/runledger-hook run by bash, no Node start',
  node: 'node: runledger hook, where the shim could not run',
  mixed: 'mixed runners: run install-hooks again',
  unknown: 'runner not recognised: run install-hooks again',
};

/** The runner of the hooks install-hooks wrote into `settings` (hookRunnerOf of each): one kind, `mixed` or `unknown`. */
const installedRunner = (settings: ClaudeSettingsFile): keyof typeof RUNNER_TEXT => {
  const kinds = new Set(
    Object.values(settings.hooks ?? {}).flatMap((groups) =>
      (Array.isArray(groups) ? groups : []).flatMap((g) => (Array.isArray(g?.hooks) ? g.hooks : []).filter(isInstalledHook).map((h) => hookRunnerOf(String(h.command)) ?? 'unknown')),
    ),
  );
  return kinds.size === 1 ? [...kinds][0] : kinds.size === 0 ? 'unknown' : 'mixed';
};

/** Where the hooks install-hooks wrote into `settings` record (recordsInto of the first one), if they name a URL. */
const installedRecordsInto = (settings: ClaudeSettingsFile): RecordsInto | undefined => {
  const command = Object.values(settings.hooks ?? {})
    .flatMap((groups) => (Array.isArray(groups) ? groups : []).flatMap((g) => (Array.isArray(g?.hooks) ? g.hooks : []).filter(isInstalledHook)))
    .map((h) => String(h.command))[0];
  return command ? recordsInto(command) : undefined;
};

/** `runledger <agent> install-hooks|uninstall-hooks|status`: flight-recorder mode for the agent sessions people start by hand. */
export const registerAgentHooksCommand = <T>(program: Command, files: AgentHooksFiles<T>): void => {
  const agent = program.command(files.command).description(`record the ${files.label} sessions people start by hand (flight-recorder mode)`);
  const scope = () => new Option('--scope <scope>', files.scopeHelp).choices([...files.scopes]).default(files.defaultScope);
  const install = agent
    .command('install-hooks')
    .description(`merge runledger's hooks into a ${files.label} hooks file (your hooks kept, the old file backed up, idempotent)`)
    .addOption(scope())
    .option('--project <id>', 'record this project\'s repositories (default: the repository of the current directory; with --scope user: every project)')
    .option('--json', 'print {changes: [{file, action, backup?}], roots}');
  if (files.telemetry) {
    install.option('--telemetry', `also send ${files.label}'s own telemetry (OTLP logs) to runledger: the third source of each call`);
  }
  if (files.remote) {
    install
      .option('--server <url>', 'a remote flight recorder: record this repository\'s sessions into the team server at <url>, shipping the transcripts (a private CA: the CLI\'s --ca-file)')
      .option('--token-file <file>', 'with --server: the file (mode 0600) holding your personal token; the hooks read it at each run, it is never written into the settings');
  }
  install
    .allowExcessArguments(false)
    .action(
      clientAction(async (localClient, options: HookOptions) => {
        if (options.tokenFile && !options.server) throw new UsageError('--token-file goes with --server');
        if (options.server) requireRemoteRunner();
        const client = options.server ? new ApiClient(remoteClientConfig({ ...options, server: options.server })) : localClient;
        const where = options.server ? [await remotePlacement(files, client, options)] : await placements(files, client, options);
        const { tokenSource, baseUrl } = client.config;
        const remote = options.server ? remoteRecording(where[0].project!.id, client.config) : undefined;
        const dataDir = !remote && tokenSource !== 'RUNLEDGER_TOKEN' && tokenSource !== 'none' ? path.dirname(tokenSource) : undefined;
        if (!dataDir && !remote?.tokenFile) printError(`runledger: no token file found: the hooks will read RUNLEDGER_TOKEN from the environment ${files.label} runs in`);
        const changes = where.map(({ file, roots, repo, project }) => {
          // The project's hook policy (hold, failure mode) when the hooks serve one project; the defaults otherwise.
          const target: InstalledHookTarget = {
            runner: hookRunner(baseUrl), url: baseUrl, dataDir, roots, hookFailure: project?.hookFailure, hookHoldSeconds: project?.hookHoldSeconds, ...(remote ? { remote } : {}),
          };
          return files.install(file, files.hooksFor(target), options.scope, repo, options.telemetry ? target : undefined);
        });
        report(changes, options.json, { roots: where.flatMap((w) => w.roots), ...(remote ? { server: baseUrl, project: remote.projectId } : {}) });
        if (options.telemetry && options.scope !== 'user') {
          // Measured with Claude Code 2.1.328: run with -p it turned telemetry on from the user's settings only.
          printError(`runledger: ${files.label} run with -p takes its telemetry variables from the user's settings only: for such runs install with --scope user`);
        }
        if (!options.json) {
          printLine(`${files.label} sessions started in ${where.flatMap((w) => w.roots).join(', ')} are now recorded${remote ? ` into ${baseUrl} (project ${remote.projectId}, this machine: ${hostname()})` : ''} (runledger ${files.command} status shows them).`);
        }
      }),
    );
  agent
    .command('uninstall-hooks')
    .description('remove exactly the hooks install-hooks added (the file restored byte for byte when nothing else changed)')
    .addOption(scope())
    .option('--project <id>', 'the project given to install-hooks')
    .option('--json', 'print {changes: [{file, action, backup?}]}')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, options: HookOptions) => {
        // uninstall needs no server for user scope or the current repository; --project is resolved through it.
        const targets = options.scope === 'user'
          ? [files.fileOf('user', undefined)]
          : options.project
            ? (await placements(files, client, options)).map((p) => p.file)
            : [files.fileOf(options.scope, repositoryTop(process.cwd()))];
        report(targets.map((file) => files.uninstall(file)), options.json);
      }),
    );
  const status = agent
    .command('status')
    .description(`where runledger's hooks are installed and where they record, and the last event of each ${files.label} session (have the hooks fired?)`)
    .option('--json', 'print {settings: [{scope, file, installed, runner?, records?: {url, project?}}], sessions: [{id, projectId, agent, status, agentSessionId, remote?, lastEvent}]}');
  if (files.remote) status.option('--server <url>', 'list the sessions of this team server (a remote flight recorder)').option('--token-file <file>', 'with --server: your personal token file');
  status
    .allowExcessArguments(false)
    .action(
      clientAction(async (localClient, options: { json?: boolean } & RemoteOptions) => {
        const client = options.server ? new ApiClient(remoteClientConfig({ ...options, server: options.server })) : localClient;
        let repo: string | undefined;
        try {
          repo = repositoryTop(process.cwd());
        } catch {
          repo = undefined; // outside a repository: only the user scope applies
        }
        const settings = files.scopes.filter((s) => s === 'user' || repo).map((s) => {
          const file = files.fileOf(s, repo);
          if (files.inspect) return { scope: s, file, ...files.inspect(file) };
          let installed: ClaudeSettingsFile | undefined;
          try {
            const parsed = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ClaudeSettingsFile) : undefined;
            installed = parsed && hasInstalledHooks(parsed) ? parsed : undefined;
          } catch {
            installed = undefined;
          }
          const records = installed ? installedRecordsInto(installed) : undefined;
          return { scope: s, file, installed: installed !== undefined, ...(installed ? { runner: installedRunner(installed) } : {}), ...(records ? { records } : {}) };
        });
        const { sessions } = await client.get<SessionListResponse>('/sessions');
        const rows = [];
        for (const s of sessions.filter((session) => files.ownsSession(session))) {
          rows.push({ id: s.id, projectId: s.projectId, agent: s.agent, status: s.status, agentSessionId: s.agentSessionId, ...(s.remote ? { remote: s.remote } : {}), toolCalls: s.toolCalls, lastEvent: await lastEvent(client, s) });
        }
        if (options.json) return printJson({ settings, sessions: rows });
        for (const s of settings) {
          const where = 'records' in s && s.records ? `, recording into ${s.records.url}${s.records.project ? ` (remote flight recorder, project ${s.records.project})` : ''}` : '';
          printLine(`${s.scope.padEnd(7)} ${s.file}: ${s.installed ? `runledger hooks installed (${RUNNER_TEXT[s.runner ?? 'unknown']})${where}` : 'no runledger hooks'}`);
        }
        if (rows.length === 0) return printLine(`no ${files.label} session recorded yet: start \`${files.executable}\` in a registered project's repository`);
        const table = new Table({ head: ['session', 'project', 'agent', 'status', `${files.executable} session`, 'machine', 'last event', 'at', 'tool calls'], style: { head: [], border: [] } });
        for (const r of rows) {
          table.push([r.id, r.projectId, r.agent, r.status, r.agentSessionId ?? '', r.remote ? `${r.remote.host} (${r.remote.person})` : '', r.lastEvent?.type ?? '', shortTime(r.lastEvent?.at), toolCallsCell(r.toolCalls)]);
        }
        printLine(table.toString());
      }),
    );
};
