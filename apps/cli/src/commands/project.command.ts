import * as path from 'node:path';
import { Command } from 'commander';
import Table from 'cli-table3';
import { clientAction } from '../client/client-command';
import { UsageError } from '../client/client-errors';
import { printJson, printLine } from '../client/output';
import { ProjectSummary, ProjectView, repositoryTop } from '../client/projects';

/** Options of `project add`. */
interface AddOptions {
  name?: string;
  id?: string;
  prefix?: string;
  defaultBranch?: string;
  repo?: string[];
  json?: boolean;
}

/** `name=path` of `--repo` as a workspace repository (path made absolute). Throws UsageError on another shape. */
export const parseRepoOption = (value: string, cwd: string = process.cwd()): { name: string; path: string } => {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) throw new UsageError(`--repo expects name=path, got "${value}"`);
  return { name: value.slice(0, at), path: path.resolve(cwd, value.slice(at + 1)) };
};

/**
 * The `POST /projects` body of `project add`: `--repo name=path` (repeatable) registers a workspace; otherwise the
 * repository holding `dir` (default: the current directory) is registered, named after its folder unless `--name`.
 */
export const projectAddBody = (dir: string | undefined, options: AddOptions, cwd: string = process.cwd()): Record<string, unknown> => {
  const common = {
    ...(options.id ? { id: options.id } : {}),
    ...(options.prefix ? { sessionPrefix: options.prefix } : {}),
    ...(options.defaultBranch ? { defaultBranch: options.defaultBranch } : {}),
  };
  if (options.repo?.length) {
    if (dir) throw new UsageError('give either a path or --repo name=path options, not both');
    if (!options.name) throw new UsageError('a workspace project (--repo) needs --name');
    return { name: options.name, repos: options.repo.map((r) => parseRepoOption(r, cwd)), ...common };
  }
  const top = repositoryTop(path.resolve(cwd, dir ?? '.'));
  return { name: options.name ?? path.basename(top), repoPath: top, ...common };
};

/** Human lines of one project: identity, repositories, masked env. */
const describeProject = (p: ProjectView): void => {
  printLine(`project ${p.id} (${p.kind}): ${p.name}`);
  printLine(`  session prefix: ${p.sessionPrefix}, next session ${p.sessionPrefix}-${p.nextSessionNumber}`);
  if (p.defaultBranch) printLine(`  default branch: ${p.defaultBranch}`);
  if (p.orchestratorAgent) printLine(`  orchestrator agent: ${p.orchestratorAgent}`);
  if (p.activeOrchestrator) printLine(`  orchestrator: ${p.activeOrchestrator}`);
  for (const repo of p.repos) printLine(`  repo ${repo.name}: ${repo.path}`);
  const env = Object.entries(p.env ?? {});
  const live = env.filter(([, shown]) => shown !== '[forgotten]').map(([name]) => name);
  const forgotten = env.filter(([, shown]) => shown === '[forgotten]').map(([name]) => name);
  if (live.length) printLine(`  env: ${live.join(', ')} (values masked)`);
  if (forgotten.length) printLine(`  env forgotten: ${forgotten.join(', ')}`);
  printLine(`  registered ${p.registeredAt}`);
};

/** Renders project summaries as a plain table: id, name, kind, session prefix, orchestrator agent. */
export const projectsTable = (projects: ProjectSummary[]): string => {
  const table = new Table({ head: ['id', 'name', 'kind', 'prefix', 'orchestrator agent'], style: { head: [], border: [] } });
  for (const p of projects) table.push([p.id, p.name, p.kind, p.sessionPrefix, p.orchestratorAgent ?? '']);
  return table.toString();
};

/** `runledger project add|list|show`: register and read projects (`POST /projects`, `GET /projects[/:id]`). */
export const registerProjectCommand = (program: Command): void => {
  const project = program.command('project').description('register and read projects');
  project
    .command('add')
    .description('register a project: the git repository holding [path] (default: the current directory), or a workspace of --repo name=path')
    .argument('[path]', 'a folder inside the repository (default: the current directory)')
    .option('--name <name>', 'display name (default: the repository folder\'s name)')
    .option('--id <id>', 'project id, a slug (default: a slug of the name)')
    .option('--prefix <prefix>', 'session id prefix (default: the id)')
    .option('--default-branch <branch>', 'branch new worktrees start from (default: the repository\'s HEAD)')
    .option('--repo <name=path>', 'a repository of a workspace project (repeat for each)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--json', 'print the server\'s JSON')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, dir: string | undefined, options: AddOptions) => {
        const created = await client.post<ProjectView>('/projects', projectAddBody(dir, options));
        if (options.json) return printJson(created);
        describeProject(created);
      }),
    );
  project
    .command('list')
    .description('every project: id, name, kind, session prefix')
    .option('--json', 'print the server\'s JSON ({projects: [...]})')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, options: { json?: boolean }) => {
        const body = await client.get<{ projects: ProjectSummary[] }>('/projects');
        if (options.json) return printJson(body);
        printLine(body.projects.length ? projectsTable(body.projects) : 'no projects: register one with `runledger project add [path]`');
      }),
    );
  project
    .command('show')
    .description('one project: repositories, session prefix, env names (values masked)')
    .argument('<id>', 'the project id')
    .option('--json', 'print the server\'s JSON')
    .allowExcessArguments(false)
    .action(
      clientAction(async (client, id: string, options: { json?: boolean }) => {
        const body = await client.get<ProjectView>(`/projects/${encodeURIComponent(id)}`);
        if (options.json) return printJson(body);
        describeProject(body);
      }),
    );
  project
    .command('forget-env')
    .description('forget env values for good (crypto-shredding): the named variables, or every one with --all; the log keeps names only')
    .argument('<id>', 'the project id')
    .argument('[names...]', 'env variable names to forget')
    .option('--all', 'forget every env value of the project')
    .option('--json', 'print the server\'s JSON')
    .action(
      clientAction(async (client, id: string, names: string[], options: { all?: boolean; json?: boolean }) => {
        if (options.all === (names.length > 0)) throw new UsageError('name the variables to forget, or give --all (not both)');
        const body = await client.post<ProjectView>(`/projects/${encodeURIComponent(id)}/env/forget`, options.all ? {} : { names });
        if (options.json) return printJson(body);
        describeProject(body);
      }),
    );
};
