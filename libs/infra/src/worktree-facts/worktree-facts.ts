import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { LandState } from '@runledger/domain';
import { GitWorktrees, RUNLEDGER_BRANCH_PREFIX } from '../git/git-worktrees';

/** A path in runledger's namespace found on disk: in its worktree root, or a git worktree on a `runledger/` branch. */
export interface DiskCandidate {
  /** Canonical absolute path. */
  path: string;
  /** Holds a `.git` entry (a linked worktree, or the remains of one). */
  isWorktree: boolean;
  /** Number of directory entries (for a directory that is not a worktree). */
  entries: number;
  /** Main repository, when found through `git worktree list`. */
  repoPath?: string;
  branch?: string;
}

/** Options of one gathering: the worktree root (`<dataDir>/worktrees`) and the repositories of every project. */
export interface GatherInput {
  root: string;
  repoPaths: readonly string[];
}

/** Result of the disk side of a sweep: candidates by canonical path, and repositories that could not be listed (with the error). */
export interface DiskScan {
  candidates: Map<string, DiskCandidate>;
  unreadableRepos: { repoPath: string; error: string }[];
}

const isDir = async (p: string): Promise<boolean> => (await fsp.stat(p).catch(() => null))?.isDirectory() ?? false;
const readdirSafe = async (p: string): Promise<string[]> => fsp.readdir(p).catch(() => []);

/**
 * Gathers the disk and git facts the reaper policy decides on (docs/ARCHITECTURE.md §4b): walks the worktree root
 * (`<root>/<projectId>/<entry>[/<child>]`: an entry holding `.git` is a candidate, else its children holding `.git` are,
 * else the entry itself is), lists the `runledger/` worktrees of each repository (`git worktree list --porcelain`), and
 * reads a candidate's land state (dirty? commits ahead of the default branch?) through git. Only reads; never writes.
 */
export class WorktreeFacts {
  constructor(private readonly git: GitWorktrees) {}

  /** Canonical form of `p` (symlinks resolved for the longest existing prefix). */
  static async canonical(p: string): Promise<string> {
    const abs = path.resolve(p);
    try {
      return await fsp.realpath(abs);
    } catch {
      const parent = path.dirname(abs);
      return parent === abs ? abs : path.join(await WorktreeFacts.canonical(parent), path.basename(abs));
    }
  }

  /** Every candidate in the root and on `runledger/` branches of the given repositories. */
  async scan(input: GatherInput): Promise<DiskScan> {
    const candidates = new Map<string, DiskCandidate>();
    const root = await WorktreeFacts.canonical(input.root);
    for (const project of await readdirSafe(root)) {
      const projectDir = path.join(root, project);
      if (!(await isDir(projectDir))) continue;
      for (const entry of await readdirSafe(projectDir)) {
        const dir = path.join(projectDir, entry);
        if (!(await isDir(dir))) continue;
        const children = await readdirSafe(dir);
        if (children.includes('.git')) {
          candidates.set(dir, { path: dir, isWorktree: true, entries: children.length });
          continue;
        }
        let nested = 0;
        for (const child of children) {
          const sub = path.join(dir, child);
          const inner = await readdirSafe(sub);
          if (!inner.includes('.git')) continue;
          nested += 1;
          candidates.set(sub, { path: sub, isWorktree: true, entries: inner.length });
        }
        if (nested === 0) candidates.set(dir, { path: dir, isWorktree: false, entries: children.length });
      }
    }
    const unreadableRepos: DiskScan['unreadableRepos'] = [];
    for (const repoPath of new Set(input.repoPaths)) {
      try {
        const top = await WorktreeFacts.canonical(repoPath);
        for (const info of await this.git.listWorktrees(top)) {
          if (info.main || info.bare || info.prunable) continue;
          const inRoot = info.path.startsWith(`${root}${path.sep}`);
          const onOwnBranch = info.branch?.startsWith(RUNLEDGER_BRANCH_PREFIX) === true;
          if (!inRoot && !onOwnBranch) continue; // a user's own worktree: never ours
          const known = candidates.get(info.path);
          candidates.set(info.path, { ...(known ?? { path: info.path, isWorktree: true, entries: -1 }), repoPath: top, ...(info.branch ? { branch: info.branch } : {}) });
        }
      } catch (error) {
        unreadableRepos.push({ repoPath, error: (error as Error).message });
      }
    }
    return { candidates, unreadableRepos };
  }

  /** True when `p` exists (a stat; no git). */
  async exists(p: string): Promise<boolean> {
    return (await fsp.stat(p).catch(() => null)) !== null;
  }

  /** The main repository of a worktree candidate, or undefined when git cannot tell (a broken `.git`). */
  async repositoryOf(candidate: DiskCandidate): Promise<string | undefined> {
    if (candidate.repoPath) return candidate.repoPath;
    if (!candidate.isWorktree) return undefined;
    return this.git.commonRepository(candidate.path).catch(() => undefined);
  }

  /** The branch checked out in a worktree, or undefined (detached or unreadable). */
  async branchOf(candidate: DiskCandidate): Promise<string | undefined> {
    if (candidate.branch) return candidate.branch;
    if (!candidate.isWorktree) return undefined;
    const repo = await this.repositoryOf(candidate);
    if (!repo) return undefined;
    const info = (await this.git.listWorktrees(repo).catch(() => [])).find((w) => w.path === candidate.path);
    return info?.branch ?? undefined;
  }

  /**
   * What would be lost by removing the candidate: dirty entries, else commits ahead of `defaultBranch` (the project's,
   * else the repository's HEAD branch). Any git failure is `unknown` with its message (the policy strands it).
   */
  async landState(candidate: DiskCandidate, defaultBranch: string | undefined): Promise<LandState> {
    if (!candidate.isWorktree) return candidate.entries === 0 ? { kind: 'empty-directory' } : { kind: 'not-a-worktree', entries: candidate.entries };
    try {
      const status = await this.git.isDirty(candidate.path);
      if (status.dirty) return { kind: 'dirty', entries: status.entries.length };
      const repo = await this.repositoryOf(candidate);
      const base = defaultBranch ?? (repo ? await this.git.defaultBranch(repo) : undefined);
      if (!base) return { kind: 'unknown', reason: 'no default branch to compare with' };
      const ahead = await this.git.hasUnlandedCommits(candidate.path, base);
      return { kind: 'clean', ahead, defaultBranch: base };
    } catch (error) {
      return { kind: 'unknown', reason: (error as Error).message.split('\n')[0] };
    }
  }
}
