import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { ProjectSummary, ProjectView } from '@runledger/domain';
import { ApiClient } from './api-client';
import { UsageError } from './client-errors';

export type { ProjectSummary, ProjectView };

/** The top folder of the git repository holding `dir` (absolute). Throws UsageError when `dir` is in no repository. */
export const repositoryTop = (dir: string): string => {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    const reason = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new UsageError(`${dir} is not in a git repository (${reason.split('\n')[0]})`);
  }
};

/** True when `target` is `root` or inside it (both absolute; no symlink resolution). */
export const isInside = (root: string, target: string): boolean => {
  const relative = path.relative(root, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
};

/** Every registered project with its repositories: `GET /projects`, then `GET /projects/:id` for each. */
export const listProjectViews = async (client: ApiClient): Promise<ProjectView[]> => {
  const { projects } = await client.get<{ projects: ProjectSummary[] }>('/projects');
  return Promise.all(projects.map((p) => client.get<ProjectView>(`/projects/${encodeURIComponent(p.id)}`)));
};

/** The project one of whose repositories holds `dir` (the deepest repository wins); undefined when none. */
export const projectHolding = (projects: ProjectView[], dir: string): ProjectView | undefined => {
  let best: { project: ProjectView; depth: number } | undefined;
  for (const project of projects) {
    for (const repo of project.repos) {
      if (isInside(repo.path, dir) && (!best || repo.path.length > best.depth)) best = { project, depth: repo.path.length };
    }
  }
  return best?.project;
};

/**
 * The project a command acts on: `explicit` when given, else the project whose repository holds `cwd`, else the only
 * registered project. Throws UsageError naming the choices when none of these decides.
 */
export const resolveProjectId = async (client: ApiClient, explicit: string | undefined, cwd: string = process.cwd()): Promise<string> => {
  if (explicit) return explicit;
  const projects = await listProjectViews(client);
  const holding = projectHolding(projects, cwd);
  if (holding) return holding.id;
  if (projects.length === 1) return projects[0].id;
  if (projects.length === 0) throw new UsageError('no project is registered: run `runledger project add [path]` first');
  throw new UsageError(`no project holds ${cwd}: pass --project <id> (one of ${projects.map((p) => p.id).join(', ')})`);
};
