import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { simpleGit } from 'simple-git';
import {
  BranchCheckedOutError,
  BranchNotFoundError,
  BranchNotMergedError,
  DirtyWorktreeError,
  ForeignNamespaceError,
  GitError,
  InvalidRefNameError,
  NotAGitRepositoryError,
  NotAWorktreeError,
  RelativePathError,
  UnknownRefError,
  UnpreservableChangesError,
  WorktreeBranchMismatchError,
  WorktreePathOccupiedError,
} from './git-errors';

/** Branch namespace runledger owns; only branches under it are ever deleted (invariant 10). */
export const RUNLEDGER_BRANCH_PREFIX = 'runledger/';
/** Ref namespace runledger owns; preservation refs are written and deleted only under it. */
export const RUNLEDGER_REF_PREFIX = 'refs/runledger/';
/** Where uncommitted work of a removed worktree is preserved: `refs/runledger/preserved/<sessionId>[/<repo>]`. */
export const PRESERVED_REF_PREFIX = `${RUNLEDGER_REF_PREFIX}preserved/`;

const REF_COMPONENT = /^(?!\.)(?!.*\.\.)(?!.*\.lock$)[A-Za-z0-9._-]+$/;

/** Builds `refs/runledger/preserved/<sessionId>[/<repo>]`; throws InvalidRefNameError if a component has characters outside [A-Za-z0-9._-]. */
export function preservedRefFor(sessionId: string, repo?: string): string {
  for (const component of repo === undefined ? [sessionId] : [sessionId, repo]) {
    if (!REF_COMPONENT.test(component)) throw new InvalidRefNameError(component);
  }
  return `${PRESERVED_REF_PREFIX}${sessionId}${repo === undefined ? '' : `/${repo}`}`;
}

/** Options of the adapter: git binary, per-command timeout (ms) and the identity written on preservation commits. */
export interface GitWorktreesOptions {
  /** git executable name or absolute path; default `git`. */
  binary?: string;
  /** Kill a git command that produces no output for this many ms; default: no timeout. */
  timeoutMs?: number;
  /** Author/committer of preservation commits; default `runledger <runledger@localhost>`. */
  identity?: { name: string; email: string };
}

/** A created or restored worktree: absolute canonical path, branch checked out, HEAD commit sha. */
export interface WorktreeHandle {
  path: string;
  branch: string;
  head: string;
}

/** Result of `add`: the worktree plus whether the branch was created (false: an existing branch was checked out). */
export interface AddWorktreeResult extends WorktreeHandle {
  createdBranch: boolean;
}

/** Dirtiness of a worktree: `entries` are raw `git status --porcelain` lines; untracked non-ignored files count. */
export interface DirtyStatus {
  dirty: boolean;
  entries: string[];
}

/** A preservation commit and the ref pointing at it; `head` is its parent (null on an unborn branch). */
export interface PreservedWork {
  ref: string;
  commit: string;
  head: string | null;
  entries: string[];
}

/** Outcome of `remove`: `alreadyGone` when the directory had vanished (only pruned); `preserved` when dirty work was saved first. */
export interface RemoveWorktreeResult {
  removed: boolean;
  alreadyGone: boolean;
  preserved: PreservedWork | null;
}

/**
 * Outcome of `restore`. `appliedRef`: preserved work was replayed cleanly and the ref deleted.
 * `conflict`: the preserved work could not be replayed (ref kept, worktree left clean at the branch tip).
 * `movedAside`: where a stray directory found at the path was moved. `preservedRefMissing`: the ref given does not exist.
 */
export interface RestoreWorktreeResult extends WorktreeHandle {
  reused: boolean;
  appliedRef?: string;
  conflict?: string;
  movedAside?: string;
  preservedRefMissing?: boolean;
}

/** One entry of `git worktree list --porcelain`; `path` canonical, `branch` short name or null when detached/bare. */
export interface WorktreeInfo {
  path: string;
  branch: string | null;
  head: string | null;
  prunable: boolean;
  locked: boolean;
  bare: boolean;
  main: boolean;
}

interface RunOptions {
  /** Extra environment for this command only (e.g. GIT_INDEX_FILE). */
  env?: Record<string, string>;
  /** `-c key=value` settings for this command only. */
  config?: string[];
}

// Environment keys simple-git refuses when passed explicitly (GIT_* plus these): strip them from the
// inherited environment. Ambient GIT_DIR/GIT_WORK_TREE (e.g. inside a git hook) must never leak in.
const GUARDED_ENV_KEYS = new Set(['editor', 'pager', 'prefix', 'ssh_askpass', 'visual']);

function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    if (value === undefined || lower.startsWith('git_') || GUARDED_ENV_KEYS.has(lower)) continue;
    env[key] = value;
  }
  // Stable, parseable messages whatever the host locale.
  env.LC_ALL = 'C';
  return { ...env, ...extra };
}

function requireAbsolute(p: string, what: string): void {
  if (typeof p !== 'string' || !path.isAbsolute(p)) throw new RelativePathError(String(p), what);
}

/** Resolves symlinks of the longest existing prefix, so paths compare equal to what git reports. */
async function canonicalPath(p: string): Promise<string> {
  const abs = path.resolve(p);
  try {
    return await fsp.realpath(abs);
  } catch {
    const parent = path.dirname(abs);
    if (parent === abs) return abs;
    return path.join(await canonicalPath(parent), path.basename(abs));
  }
}

function strayName(target: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let candidate = `${target}.stray-${stamp}`;
  for (let i = 1; existsSync(candidate); i += 1) candidate = `${target}.stray-${stamp}-${i}`;
  return candidate;
}

/**
 * git's answer when a `git worktree` command read the registration of a worktree another git is still adding
 * (`fatal: failed to read .git/worktrees/<name>/commondir: Success`, git 2.39): a race, not a broken repository.
 */
const REGISTRATION_RACE = /failed to read .*\/worktrees\/[^/\s]+\/(commondir|gitdir)/;
/** Times a `git worktree` command that met REGISTRATION_RACE is tried again. */
const WORKTREE_RACE_RETRIES = 3;
/** The last `git worktree` command queued per repository folder in this process (settled, never rejected). */
const worktreeQueues = new Map<string, Promise<void>>();

/**
 * Runs `step` once every earlier step queued for `repository` in this process has settled: git does not guard
 * `.git/worktrees` against two `git worktree add` at once (one reads the other's half-written registration and fails).
 * Resolves or rejects as `step` does.
 */
export const serializedPerRepository = <T>(repository: string, step: () => Promise<T>): Promise<T> => {
  const before = worktreeQueues.get(repository) ?? Promise.resolve();
  const result = before.then(step);
  const settled = result.then(() => undefined, () => undefined);
  worktreeQueues.set(repository, settled);
  void settled.then(() => {
    if (worktreeQueues.get(repository) === settled) worktreeQueues.delete(repository);
  });
  return result;
};

/**
 * Git worktree adapter: creates, inspects, preserves, removes and restores the per-session worktrees.
 * Implements the "no work is lost" rules of invariant 10: dirty worktrees are never removed without
 * force, uncommitted work is preserved to `refs/runledger/preserved/...` through a temporary index,
 * stray directories are moved aside (never deleted), and only `runledger/*` branches are deleted.
 * Every git failure surfaces as a named error (GitError carries command and stderr).
 */
export class GitWorktrees {
  private readonly binary: string;
  private readonly timeoutMs: number | undefined;
  private readonly identity: { name: string; email: string };

  constructor(options: GitWorktreesOptions = {}) {
    this.binary = options.binary ?? 'git';
    this.timeoutMs = options.timeoutMs;
    this.identity = options.identity ?? { name: 'runledger', email: 'runledger@localhost' };
  }

  /** Checks `path` is absolute and inside a git work tree; returns the work tree's top level. Throws RelativePathError, NotAGitRepositoryError. */
  async assertRepository(repoPath: string): Promise<string> {
    requireAbsolute(repoPath, 'repository path');
    if (!existsSync(repoPath)) throw new NotAGitRepositoryError(repoPath, 'path does not exist');
    let out: string;
    try {
      out = await this.run(repoPath, ['rev-parse', '--show-toplevel']);
    } catch (error) {
      if (error instanceof GitError) throw new NotAGitRepositoryError(repoPath, error.stderr.trim() || `exit code ${error.exitCode}`);
      throw error;
    }
    const top = out.trim();
    if (!top) throw new NotAGitRepositoryError(repoPath, 'no work tree (bare repository?)');
    return top;
  }

  /** Name of the branch HEAD points at in the repository (e.g. `main`), or the HEAD commit sha when detached. */
  async defaultBranch(repoPath: string): Promise<string> {
    const top = await this.assertRepository(repoPath);
    try {
      return (await this.run(top, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).trim();
    } catch (error) {
      if (error instanceof GitError && error.exitCode === 1) return (await this.run(top, ['rev-parse', '--verify', 'HEAD'])).trim();
      throw error;
    }
  }

  /**
   * Creates a worktree at `worktreePath` (parent dirs created): `git worktree add -b <branch> <path> <baseRef>`,
   * or, when the branch already exists, `git worktree add <path> <branch>`. baseRef defaults to HEAD. Stale
   * registrations (directory gone) are pruned first. Throws WorktreePathOccupiedError, InvalidRefNameError, UnknownRefError, GitError.
   */
  async add(input: { repoPath: string; worktreePath: string; branch: string; baseRef?: string }): Promise<AddWorktreeResult> {
    requireAbsolute(input.worktreePath, 'worktree path');
    const top = await this.assertRepository(input.repoPath);
    await this.assertBranchName(top, input.branch);
    const target = await canonicalPath(input.worktreePath);
    if (existsSync(target)) {
      const stat = await fsp.stat(target);
      if (!stat.isDirectory() || (await fsp.readdir(target)).length > 0) throw new WorktreePathOccupiedError(target);
    }
    await fsp.mkdir(path.dirname(target), { recursive: true });

    // Registrations whose directory is gone (a data directory wiped by hand) would hold the branch or the path.
    await this.run(top, ['worktree', 'prune']);
    const exists = await this.branchExists(top, input.branch);
    if (exists) {
      await this.run(top, ['worktree', 'add', target, input.branch]);
    } else {
      const base = await this.resolveCommit(top, input.baseRef ?? 'HEAD');
      await this.run(top, ['worktree', 'add', '-b', input.branch, target, base]);
    }
    const head = (await this.run(target, ['rev-parse', '--verify', 'HEAD'])).trim();
    return { path: target, branch: input.branch, head, createdBranch: !exists };
  }

  /** `git status --porcelain` of the worktree (without taking the index lock); untracked non-ignored files count as dirty. */
  async isDirty(worktreePath: string): Promise<DirtyStatus> {
    const top = await this.assertRepository(worktreePath);
    const out = await this.run(top, ['--no-optional-locks', 'status', '--porcelain', '--untracked-files=normal', '--ignore-submodules=none']);
    const entries = out.split('\n').filter((line) => line.length > 0);
    return { dirty: entries.length > 0, entries };
  }

  /** Number of commits reachable from the worktree's HEAD but not from `baseRef` (`git rev-list --count <base>..HEAD`). Throws UnknownRefError. */
  async hasUnlandedCommits(worktreePath: string, baseRef: string): Promise<number> {
    const top = await this.assertRepository(worktreePath);
    const base = await this.resolveCommit(top, baseRef);
    const out = await this.run(top, ['rev-list', '--count', `${base}..HEAD`]);
    return Number.parseInt(out.trim(), 10);
  }

  /**
   * Preserves the worktree's tracked and untracked non-ignored files as a commit (parent: HEAD) built through a
   * temporary index, and points `ref` (must be under refs/runledger/) at it with a reflog entry. The worktree files,
   * the real index and the stash are left untouched. Returns null when the worktree is clean.
   * The temporary index is seeded from a copy of the real index (keeps stat cache, sparse-checkout and force-added
   * entries), falling back to `git read-tree HEAD`. Throws ForeignNamespaceError, UnpreservableChangesError, GitError.
   */
  async preserve(input: { worktreePath: string; ref: string; message?: string }): Promise<PreservedWork | null> {
    requireAbsolute(input.worktreePath, 'worktree path');
    const top = await this.assertRepository(input.worktreePath);
    await this.assertOwnRef(top, input.ref);
    const status = await this.isDirty(top);
    if (!status.dirty) return null;

    const head = await this.tryResolveCommit(top, 'HEAD');
    const realIndex = path.resolve(top, (await this.run(top, ['rev-parse', '--git-path', 'index'])).trim());
    const tmpDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'runledger-preserve-'));
    const env = { GIT_INDEX_FILE: path.join(tmpDir, 'index') };
    try {
      const seedFromHead = async (): Promise<void> => {
        await fsp.rm(env.GIT_INDEX_FILE, { force: true });
        if (head) await this.run(top, ['read-tree', head], { env });
      };
      if (existsSync(realIndex)) await fsp.copyFile(realIndex, env.GIT_INDEX_FILE);
      else await seedFromHead();
      try {
        await this.run(top, ['add', '-A'], { env });
      } catch (error) {
        if (!(error instanceof GitError)) throw error;
        await seedFromHead();
        await this.run(top, ['add', '-A'], { env });
      }
      const tree = (await this.run(top, ['write-tree'], { env })).trim();
      if (head) {
        const headTree = (await this.run(top, ['rev-parse', `${head}^{tree}`])).trim();
        if (headTree === tree) throw new UnpreservableChangesError(top, status.entries);
      }
      const message = input.message ?? `runledger: preserved uncommitted work of ${top}`;
      const commit = (
        await this.run(top, ['commit-tree', tree, ...(head ? ['-p', head] : []), '-m', message], { config: this.identityConfig() })
      ).trim();
      await this.run(top, ['update-ref', '--create-reflog', '-m', 'runledger: preserve', input.ref, commit]);
      return { ref: input.ref, commit, head, entries: status.entries };
    } finally {
      await fsp.rm(tmpDir, { recursive: true, force: true });
    }
  }

  /**
   * Removes a registered linked worktree (`git worktree remove [--force]`, then `git worktree prune`).
   * Dirty and not forced: throws DirtyWorktreeError. Dirty, forced and `preserveTo` given: preserves to that ref first.
   * Directory already gone: prunes and succeeds. A path that is not a registered linked worktree: NotAWorktreeError.
   */
  async remove(input: { repoPath: string; worktreePath: string; force?: boolean; preserveTo?: string }): Promise<RemoveWorktreeResult> {
    requireAbsolute(input.worktreePath, 'worktree path');
    const top = await this.assertRepository(input.repoPath);
    const target = await canonicalPath(input.worktreePath);
    if (!existsSync(target)) {
      await this.run(top, ['worktree', 'prune']);
      return { removed: true, alreadyGone: true, preserved: null };
    }
    const entry = (await this.listWorktrees(top)).find((w) => w.path === target);
    if (!entry) throw new NotAWorktreeError(top, target, 'not registered in `git worktree list`');
    if (entry.main || entry.bare) throw new NotAWorktreeError(top, target, 'it is the main worktree');
    if (entry.prunable) throw new NotAWorktreeError(top, target, 'registration is stale (prunable) yet a directory exists there');

    const status = await this.isDirty(target);
    let preserved: PreservedWork | null = null;
    if (status.dirty) {
      if (!input.force) throw new DirtyWorktreeError(target, status.entries);
      if (input.preserveTo) preserved = await this.preserve({ worktreePath: target, ref: input.preserveTo });
    }
    await this.run(top, ['worktree', 'remove', ...(input.force ? ['--force'] : []), target]);
    await this.run(top, ['worktree', 'prune']);
    return { removed: true, alreadyGone: false, preserved };
  }

  /**
   * Brings a session's worktree back on its existing branch. A directory at the path that is not a live registered
   * worktree is moved aside to `<path>.stray-<timestamp>` (never deleted); a live registered worktree on the same
   * branch is reused. With `preservedRef`, replays it with `git cherry-pick --no-commit` then `git reset`, so the work is
   * back as uncommitted changes; the ref is deleted only after a clean apply, otherwise kept and the conflict reported
   * (the worktree is rolled back to the branch tip). Throws BranchNotFoundError, WorktreeBranchMismatchError, GitError.
   */
  async restore(input: { repoPath: string; worktreePath: string; branch: string; preservedRef?: string }): Promise<RestoreWorktreeResult> {
    requireAbsolute(input.worktreePath, 'worktree path');
    const top = await this.assertRepository(input.repoPath);
    await this.assertBranchName(top, input.branch);
    if (input.preservedRef !== undefined) await this.assertOwnRef(top, input.preservedRef);
    const target = await canonicalPath(input.worktreePath);

    const entry = (await this.listWorktrees(top)).find((w) => w.path === target);
    let movedAside: string | undefined;
    let reused = false;
    if (entry && !entry.prunable && existsSync(target)) {
      if (entry.main || entry.bare) throw new NotAWorktreeError(top, target, 'it is the main worktree');
      if (entry.branch !== input.branch) throw new WorktreeBranchMismatchError(target, input.branch, entry.branch);
      reused = true;
    } else if (existsSync(target)) {
      movedAside = strayName(target);
      await fsp.rename(target, movedAside);
    }

    if (!reused) {
      await this.run(top, ['worktree', 'prune']);
      if (!(await this.branchExists(top, input.branch))) throw new BranchNotFoundError(input.branch, top);
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await this.run(top, ['worktree', 'add', target, input.branch]);
    }

    const result: RestoreWorktreeResult = { path: target, branch: input.branch, head: '', reused };
    if (movedAside) result.movedAside = movedAside;
    if (input.preservedRef !== undefined) Object.assign(result, await this.applyPreserved(top, target, input.preservedRef));
    result.head = (await this.run(target, ['rev-parse', '--verify', 'HEAD'])).trim();
    return result;
  }

  /** Parses `git worktree list --porcelain`; paths are canonicalised, `main` marks the repository's main worktree. */
  async listWorktrees(repoPath: string): Promise<WorktreeInfo[]> {
    const top = await this.assertRepository(repoPath);
    const out = await this.run(top, ['worktree', 'list', '--porcelain']);
    const infos: WorktreeInfo[] = [];
    let current: WorktreeInfo | undefined;
    for (const line of out.split('\n')) {
      if (line.startsWith('worktree ')) {
        current = { path: line.slice('worktree '.length), branch: null, head: null, prunable: false, locked: false, bare: false, main: infos.length === 0 };
        infos.push(current);
      } else if (!current) {
        continue;
      } else if (line.startsWith('HEAD ')) {
        current.head = line.slice('HEAD '.length);
      } else if (line.startsWith('branch ')) {
        current.branch = line.slice('branch '.length).replace(/^refs\/heads\//, '');
      } else if (line === 'bare') {
        current.bare = true;
      } else if (line === 'locked' || line.startsWith('locked ')) {
        current.locked = true;
      } else if (line === 'prunable' || line.startsWith('prunable ')) {
        current.prunable = true;
      }
    }
    for (const info of infos) info.path = await canonicalPath(info.path);
    return infos;
  }

  /**
   * Deletes a branch under `runledger/` (`git branch -d`, or `-D` with force); any other branch throws
   * ForeignNamespaceError (invariant 10). Returns false when it did not exist. Throws BranchCheckedOutError, BranchNotMergedError.
   */
  async deleteBranch(repoPath: string, branch: string, options: { force?: boolean } = {}): Promise<boolean> {
    if (!branch.startsWith(RUNLEDGER_BRANCH_PREFIX)) throw new ForeignNamespaceError(branch, RUNLEDGER_BRANCH_PREFIX);
    const top = await this.assertRepository(repoPath);
    await this.assertBranchName(top, branch);
    if (!(await this.branchExists(top, branch))) return false;
    const holder = (await this.listWorktrees(top)).find((w) => w.branch === branch);
    if (holder) throw new BranchCheckedOutError(branch, holder.path);
    try {
      await this.run(top, ['branch', options.force ? '-D' : '-d', branch]);
    } catch (error) {
      if (error instanceof GitError && /not fully merged/i.test(error.stderr)) throw new BranchNotMergedError(branch);
      throw error;
    }
    return true;
  }

  /**
   * The main repository a linked worktree belongs to (top level of the directory holding its common git dir), canonical.
   * Throws RelativePathError, NotAGitRepositoryError (e.g. a worktree whose registration was pruned).
   */
  async commonRepository(worktreePath: string): Promise<string> {
    const top = await this.assertRepository(worktreePath);
    const common = (await this.run(top, ['rev-parse', '--path-format=absolute', '--git-common-dir'])).trim();
    return canonicalPath(path.basename(common) === '.git' ? path.dirname(common) : common);
  }

  /**
   * Points `ref` (under refs/runledger/) at the worktree's HEAD commit, with a reflog entry, so its commits stay reachable
   * whatever happens to the branch; returns the commit, or null on an unborn HEAD. Throws ForeignNamespaceError, GitError.
   */
  async pinHead(worktreePath: string, ref: string): Promise<string | null> {
    const top = await this.assertRepository(worktreePath);
    await this.assertOwnRef(top, ref);
    const head = await this.tryResolveCommit(top, 'HEAD');
    if (!head) return null;
    await this.run(top, ['update-ref', '--create-reflog', '-m', 'runledger: work kept before a reaper removal', ref, head]);
    return head;
  }

  /** True when `ref` (a full ref like refs/runledger/preserved/s-1, or any revision) resolves in the repository. */
  async refExists(repoPath: string, ref: string): Promise<boolean> {
    const top = await this.assertRepository(repoPath);
    if (ref.startsWith('-')) throw new InvalidRefNameError(ref);
    try {
      await this.run(top, ['rev-parse', '--verify', '--quiet', '--end-of-options', ref]);
      return true;
    } catch (error) {
      if (error instanceof GitError && error.exitCode === 1) return false;
      throw error;
    }
  }

  /** True when local branch `refs/heads/<branch>` exists. */
  async branchExists(repoPath: string, branch: string): Promise<boolean> {
    return this.refExists(repoPath, `refs/heads/${branch}`);
  }

  private async applyPreserved(top: string, target: string, ref: string): Promise<Partial<RestoreWorktreeResult>> {
    const commit = await this.tryResolveCommit(target, ref);
    if (!commit) return { preservedRefMissing: true };
    const status = await this.isDirty(target);
    if (status.dirty) {
      return { conflict: `worktree already has uncommitted changes (${status.entries.join(', ')}); preserved work left at ${ref}` };
    }
    try {
      await this.run(target, ['cherry-pick', '--no-commit', commit], { config: this.identityConfig() });
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      const conflicted = await this.run(target, ['diff', '--name-only', '--diff-filter=U']).catch(() => '');
      // Roll back to the branch tip; the ref still holds the work for a manual `git cherry-pick --no-commit`.
      await this.run(target, ['reset', '--merge']);
      const files = conflicted.split('\n').filter(Boolean);
      return {
        conflict: `could not replay ${ref} (${commit.slice(0, 12)}) onto ${target}: ${files.length ? `conflicts in ${files.join(', ')}` : error.stderr.trim()}; ref kept`,
      };
    }
    // Unstage: modified files become unstaged edits again and new files untracked again; also clears MERGE_MSG.
    await this.run(target, ['reset', '-q']);
    // Delete only if the ref still points at what was applied (a newer preservation is never lost).
    await this.run(top, ['update-ref', '-d', ref, commit]);
    return { appliedRef: ref };
  }

  private identityConfig(): string[] {
    return [`user.name=${this.identity.name}`, `user.email=${this.identity.email}`];
  }

  private async assertBranchName(top: string, branch: string): Promise<void> {
    if (typeof branch !== 'string' || branch.length === 0 || branch.startsWith('-')) throw new InvalidRefNameError(String(branch));
    try {
      await this.run(top, ['check-ref-format', '--branch', branch]);
    } catch (error) {
      if (error instanceof GitError) throw new InvalidRefNameError(branch);
      throw error;
    }
  }

  private async assertOwnRef(top: string, ref: string): Promise<void> {
    if (!ref.startsWith(RUNLEDGER_REF_PREFIX)) throw new ForeignNamespaceError(ref, RUNLEDGER_REF_PREFIX);
    try {
      await this.run(top, ['check-ref-format', ref]);
    } catch (error) {
      if (error instanceof GitError) throw new InvalidRefNameError(ref);
      throw error;
    }
  }

  private async tryResolveCommit(cwd: string, ref: string): Promise<string | null> {
    if (ref.startsWith('-')) throw new InvalidRefNameError(ref);
    try {
      return (await this.run(cwd, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`])).trim();
    } catch (error) {
      // Exit 1: no such object; 128: a revision git cannot resolve at all (`HEAD@{999}` past the reflog, bad syntax).
      if (error instanceof GitError && (error.exitCode === 1 || error.exitCode === 128)) return null;
      throw error;
    }
  }

  /** The commit sha `ref` names in the repository at `cwd`; throws UnknownRefError. */
  async resolveCommit(cwd: string, ref: string): Promise<string> {
    const sha = await this.tryResolveCommit(cwd, ref);
    if (!sha) throw new UnknownRefError(ref, cwd);
    return sha;
  }

  /** Runs one git command through simple-git; any non-zero exit (even with empty stderr) becomes a GitError. */
  /**
   * Runs git in `cwd`. A `git worktree …` command waits for every earlier one of this process on the same repository
   * (serializedPerRepository), and is tried again, up to WORKTREE_RACE_RETRIES times 50 ms apart, when git read another
   * worktree's half-written registration (another process adding one). Throws GitError, NotAGitRepositoryError.
   */
  private async run(cwd: string, args: string[], options: RunOptions = {}): Promise<string> {
    if (args[0] !== 'worktree') return this.runOnce(cwd, args, options);
    return serializedPerRepository(cwd, async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.runOnce(cwd, args, options);
        } catch (error) {
          if (!(error instanceof GitError) || !REGISTRATION_RACE.test(error.stderr ?? '') || attempt >= WORKTREE_RACE_RETRIES) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    });
  }

  private async runOnce(cwd: string, args: string[], options: RunOptions = {}): Promise<string> {
    const extra = options.env ?? {};
    let failure: { exitCode: number; stderr: string; stdout: string } | undefined;
    let git;
    try {
      git = simpleGit({
        baseDir: cwd,
        binary: this.binary,
        config: options.config ?? [],
        allowEnvironment: Object.keys(extra),
        ...(this.timeoutMs ? { timeout: { block: this.timeoutMs } } : {}),
        errors: (error, result) => {
          if (result.exitCode === 0 && !error) return undefined;
          failure = {
            exitCode: result.exitCode,
            stderr: Buffer.concat(result.stdErr).toString('utf8'),
            stdout: Buffer.concat(result.stdOut).toString('utf8'),
          };
          return error ?? new Error(`exit code ${result.exitCode}`);
        },
      }).env(baseEnv(extra));
    } catch (error) {
      throw new NotAGitRepositoryError(cwd, error instanceof Error ? error.message : String(error));
    }
    try {
      return await git.raw(args);
    } catch (error) {
      if (failure) throw new GitError(args, cwd, failure.exitCode, failure.stderr, failure.stdout);
      throw new GitError(args, cwd, null, error instanceof Error ? error.message : String(error));
    }
  }
}
