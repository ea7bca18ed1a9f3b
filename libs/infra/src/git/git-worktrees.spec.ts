import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BranchCheckedOutError,
  BranchNotMergedError,
  DirtyWorktreeError,
  ForeignNamespaceError,
  GitError,
  NotAGitRepositoryError,
  NotAWorktreeError,
  RelativePathError,
  UnknownRefError,
  WorktreeBranchMismatchError,
  WorktreePathOccupiedError,
} from './git-errors';
import { GitWorktrees, preservedRefFor, serializedPerRepository } from './git-worktrees';

const tempDirs: string[] = [];

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
}

/** A real repository on branch main with one commit (a.txt, .gitignore ignoring `*.log`). */
function makeRepo(): { root: string; repo: string } {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rl-git-')));
  tempDirs.push(root);
  const repo = path.join(root, 'repo');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(repo, 'a.txt'), 'line 1\n');
  writeFileSync(path.join(repo, '.gitignore'), '*.log\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'initial');
  return { root, repo };
}

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('GitWorktrees (real git repositories)', () => {
  const gw = new GitWorktrees();

  it('assertRepository requires an absolute path inside a work tree and returns the top level', async () => {
    const { root, repo } = makeRepo();
    mkdirSync(path.join(repo, 'sub'));
    await expect(gw.assertRepository('relative/path')).rejects.toBeInstanceOf(RelativePathError);
    await expect(gw.assertRepository(path.join(root, 'missing'))).rejects.toBeInstanceOf(NotAGitRepositoryError);
    const plain = path.join(root, 'plain');
    mkdirSync(plain);
    await expect(gw.assertRepository(plain)).rejects.toBeInstanceOf(NotAGitRepositoryError);
    expect(await gw.assertRepository(path.join(repo, 'sub'))).toBe(repo);
    expect(await gw.defaultBranch(repo)).toBe('main');
  });

  it('ignores an ambient GIT_DIR (e.g. when running inside a git hook)', async () => {
    const { repo } = makeRepo();
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = '/nonexistent/.git';
    try {
      expect(await gw.isDirty(repo)).toEqual({ dirty: false, entries: [] });
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
  });

  it('adds a worktree on a new branch (creating parent dirs) and lists it', async () => {
    const { root, repo } = makeRepo();
    const mainHead = git(repo, 'rev-parse', 'HEAD').trim();
    const wtPath = path.join(root, 'worktrees', 'nested', 's-1');
    const added = await gw.add({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-1', baseRef: 'main' });
    expect(added).toEqual({ path: wtPath, branch: 'runledger/s-1', head: mainHead, createdBranch: true });
    expect(readFileSync(path.join(wtPath, 'a.txt'), 'utf8')).toBe('line 1\n');

    const list = await gw.listWorktrees(repo);
    expect(list.map((w) => [w.path, w.branch, w.main, w.prunable])).toEqual([
      [repo, 'main', true, false],
      [wtPath, 'runledger/s-1', false, false],
    ]);
    expect(await gw.hasUnlandedCommits(wtPath, 'main')).toBe(0);
    writeFileSync(path.join(wtPath, 'b.txt'), 'b\n');
    git(wtPath, 'add', 'b.txt');
    git(wtPath, 'commit', '-q', '-m', 'work');
    expect(await gw.hasUnlandedCommits(wtPath, 'main')).toBe(1);
    await expect(gw.hasUnlandedCommits(wtPath, 'no-such-ref')).rejects.toBeInstanceOf(UnknownRefError);

    // Existing branch (restore case): checked out again, not re-created.
    await gw.remove({ repoPath: repo, worktreePath: wtPath });
    const again = await gw.add({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-1', baseRef: 'main' });
    expect(again.createdBranch).toBe(false);
    expect(again.head).not.toBe(mainHead);
  });

  it('refuses to add over an occupied path and reports git failures as GitError with command and stderr', async () => {
    const { root, repo } = makeRepo();
    const occupied = path.join(root, 'occupied');
    mkdirSync(occupied);
    writeFileSync(path.join(occupied, 'keep.txt'), 'mine');
    await expect(gw.add({ repoPath: repo, worktreePath: occupied, branch: 'runledger/x' })).rejects.toBeInstanceOf(WorktreePathOccupiedError);
    expect(readFileSync(path.join(occupied, 'keep.txt'), 'utf8')).toBe('mine');

    // `main` is already checked out in the main worktree: git itself refuses.
    const error = await gw.add({ repoPath: repo, worktreePath: path.join(root, 'wt-main'), branch: 'main' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).command).toContain('git worktree add');
    expect((error as GitError).stderr).toMatch(/already/);
    expect((error as GitError).exitCode).not.toBe(0);
  });

  it('preserves dirty work without touching files, index or stash; refuses dirty removal; restores the work', async () => {
    const { root, repo } = makeRepo();
    const wtPath = path.join(root, 'wt', 's-2');
    const ref = preservedRefFor('s-2');
    expect(ref).toBe('refs/runledger/preserved/s-2');
    await gw.add({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-2', baseRef: 'main' });

    writeFileSync(path.join(wtPath, 'a.txt'), 'line 1\nedited by agent\n');
    writeFileSync(path.join(wtPath, 'new.txt'), 'brand new\n');
    writeFileSync(path.join(wtPath, 'debug.log'), 'ignored\n');

    const dirty = await gw.isDirty(wtPath);
    expect(dirty.dirty).toBe(true);
    expect(dirty.entries.sort()).toEqual([' M a.txt', '?? new.txt']);

    const indexPath = path.resolve(wtPath, git(wtPath, 'rev-parse', '--git-path', 'index').trim());
    const indexBefore = readFileSync(indexPath);
    const statusBefore = git(wtPath, 'status', '--porcelain');

    const preserved = await gw.preserve({ worktreePath: wtPath, ref });
    expect(preserved).not.toBeNull();
    expect(preserved!.ref).toBe(ref);
    expect(preserved!.head).toBe(git(wtPath, 'rev-parse', 'HEAD').trim());

    // Worktree, real index and stash untouched.
    expect(readFileSync(path.join(wtPath, 'a.txt'), 'utf8')).toBe('line 1\nedited by agent\n');
    expect(readFileSync(path.join(wtPath, 'new.txt'), 'utf8')).toBe('brand new\n');
    expect(readFileSync(path.join(wtPath, 'debug.log'), 'utf8')).toBe('ignored\n');
    expect(readFileSync(indexPath).equals(indexBefore)).toBe(true);
    expect(git(wtPath, 'stash', 'list')).toBe('');
    expect(git(wtPath, 'status', '--porcelain')).toBe(statusBefore);

    // The ref is shared with the main repository and holds tracked + untracked, not ignored, files.
    expect(await gw.refExists(repo, ref)).toBe(true);
    expect(git(repo, 'rev-parse', ref).trim()).toBe(preserved!.commit);
    expect(git(repo, 'show', `${ref}:a.txt`)).toBe('line 1\nedited by agent\n');
    expect(git(repo, 'show', `${ref}:new.txt`)).toBe('brand new\n');
    expect(git(repo, 'ls-tree', '--name-only', ref).split('\n')).not.toContain('debug.log');
    expect(git(repo, 'rev-parse', `${ref}^`).trim()).toBe(preserved!.head);

    // Kill semantics: a dirty worktree is never removed without force.
    const refused = await gw.remove({ repoPath: repo, worktreePath: wtPath }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DirtyWorktreeError);
    expect([...(refused as DirtyWorktreeError).entries].sort()).toEqual([' M a.txt', '?? new.txt']);
    expect(existsSync(path.join(wtPath, 'new.txt'))).toBe(true);

    const removed = await gw.remove({ repoPath: repo, worktreePath: wtPath, force: true });
    expect(removed).toEqual({ removed: true, alreadyGone: false, preserved: null });
    expect(existsSync(wtPath)).toBe(false);
    expect((await gw.listWorktrees(repo)).map((w) => w.path)).toEqual([repo]);
    expect(await gw.branchExists(repo, 'runledger/s-2')).toBe(true);

    const restored = await gw.restore({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-2', preservedRef: ref });
    expect(restored).toMatchObject({ path: wtPath, branch: 'runledger/s-2', appliedRef: ref, reused: false });
    expect(restored.conflict).toBeUndefined();
    expect(restored.movedAside).toBeUndefined();
    expect(readFileSync(path.join(wtPath, 'a.txt'), 'utf8')).toBe('line 1\nedited by agent\n');
    expect(readFileSync(path.join(wtPath, 'new.txt'), 'utf8')).toBe('brand new\n');
    // Back as uncommitted work: HEAD did not move, edit unstaged, new file untracked.
    expect(restored.head).toBe(preserved!.head);
    expect((await gw.isDirty(wtPath)).entries.sort()).toEqual([' M a.txt', '?? new.txt']);
    expect(existsSync(path.resolve(wtPath, git(wtPath, 'rev-parse', '--git-path', 'MERGE_MSG').trim()))).toBe(false);
    expect(await gw.refExists(repo, ref)).toBe(false);
  });

  it('remove can preserve before a forced removal, and succeeds (pruning) when the directory is already gone', async () => {
    const { root, repo } = makeRepo();
    const wtPath = path.join(root, 'wt', 's-3');
    await gw.add({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-3' });
    writeFileSync(path.join(wtPath, 'untracked.txt'), 'keep me\n');
    const ref = preservedRefFor('s-3', 'backend');
    const removed = await gw.remove({ repoPath: repo, worktreePath: wtPath, force: true, preserveTo: ref });
    expect(removed.preserved?.ref).toBe('refs/runledger/preserved/s-3/backend');
    expect(git(repo, 'show', `${ref}:untracked.txt`)).toBe('keep me\n');

    const gone = path.join(root, 'wt', 's-4');
    await gw.add({ repoPath: repo, worktreePath: gone, branch: 'runledger/s-4' });
    rmSync(gone, { recursive: true, force: true });
    expect((await gw.listWorktrees(repo)).find((w) => w.path === gone)?.prunable).toBe(true);
    expect(await gw.remove({ repoPath: repo, worktreePath: gone })).toEqual({ removed: true, alreadyGone: true, preserved: null });
    expect((await gw.listWorktrees(repo)).map((w) => w.path)).toEqual([repo]);
  });

  it('adds over the stale registration a wiped data directory left (same path, same branch): pruned first', async () => {
    const { root, repo } = makeRepo();
    const wtPath = path.join(root, 'data', 'worktrees', 'p', 'p-1');
    await gw.add({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/p-1' });
    rmSync(path.join(root, 'data'), { recursive: true, force: true }); // the data directory wiped by hand
    const again = await gw.add({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/p-1' });
    expect(again).toMatchObject({ path: wtPath, branch: 'runledger/p-1', createdBranch: false });
    expect((await gw.listWorktrees(repo)).map((w) => w.path)).toEqual([repo, wtPath]);
  });

  it('never removes a directory that is not a registered linked worktree', async () => {
    const { root, repo } = makeRepo();
    const stranger = path.join(root, 'stranger');
    mkdirSync(stranger);
    writeFileSync(path.join(stranger, 'file'), 'x');
    await expect(gw.remove({ repoPath: repo, worktreePath: stranger, force: true })).rejects.toBeInstanceOf(NotAWorktreeError);
    await expect(gw.remove({ repoPath: repo, worktreePath: repo, force: true })).rejects.toBeInstanceOf(NotAWorktreeError);
    expect(existsSync(path.join(stranger, 'file'))).toBe(true);
  });

  it('restore moves a stray directory aside instead of deleting it', async () => {
    const { root, repo } = makeRepo();
    const wtPath = path.join(root, 'wt', 's-5');
    await gw.add({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-5' });
    await gw.remove({ repoPath: repo, worktreePath: wtPath });
    mkdirSync(wtPath, { recursive: true });
    writeFileSync(path.join(wtPath, 'notes.md'), 'someone else put this here');

    const restored = await gw.restore({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-5' });
    expect(restored.movedAside).toMatch(new RegExp(`^${wtPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\.stray-`));
    expect(readFileSync(path.join(restored.movedAside!, 'notes.md'), 'utf8')).toBe('someone else put this here');
    expect(existsSync(path.join(wtPath, 'a.txt'))).toBe(true);
    expect(existsSync(path.join(wtPath, 'notes.md'))).toBe(false);

    // Restoring again reuses the live worktree.
    const again = await gw.restore({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-5' });
    expect(again).toMatchObject({ reused: true, path: wtPath });
    expect(again.movedAside).toBeUndefined();

    // A preserved ref that no longer exists is reported, not fatal.
    const missing = await gw.restore({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-5', preservedRef: preservedRefFor('s-5') });
    expect(missing.preservedRefMissing).toBe(true);

    // Preserved work is never replayed over local changes: reported as a conflict, ref kept.
    writeFileSync(path.join(wtPath, 'local.txt'), 'local');
    const ref = preservedRefFor('s-5');
    await gw.preserve({ worktreePath: wtPath, ref });
    const clash = await gw.restore({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-5', preservedRef: ref });
    expect(clash.conflict).toMatch(/uncommitted changes/);
    expect(await gw.refExists(repo, ref)).toBe(true);
    await expect(gw.restore({ repoPath: repo, worktreePath: wtPath, branch: 'main' })).rejects.toBeInstanceOf(WorktreeBranchMismatchError);
  });

  it('keeps the preserved ref and reports the conflict when the work does not apply cleanly', async () => {
    const { root, repo } = makeRepo();
    const wtPath = path.join(root, 'wt', 's-6');
    const ref = preservedRefFor('s-6');
    await gw.add({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-6' });
    writeFileSync(path.join(wtPath, 'a.txt'), 'preserved edit\n');
    const preserved = await gw.preserve({ worktreePath: wtPath, ref });
    await gw.remove({ repoPath: repo, worktreePath: wtPath, force: true });

    // The branch moves on with a conflicting change in the meantime.
    const other = path.join(root, 'wt', 'other');
    git(repo, 'worktree', 'add', '-q', other, 'runledger/s-6');
    writeFileSync(path.join(other, 'a.txt'), 'conflicting commit\n');
    git(other, 'commit', '-q', '-am', 'conflict');
    git(repo, 'worktree', 'remove', other);

    const restored = await gw.restore({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-6', preservedRef: ref });
    expect(restored.appliedRef).toBeUndefined();
    expect(restored.conflict).toMatch(/a\.txt/);
    expect(await gw.refExists(repo, ref)).toBe(true);
    expect(git(repo, 'rev-parse', ref).trim()).toBe(preserved!.commit);
    // Rolled back to the branch tip, not left half-applied.
    expect(await gw.isDirty(wtPath)).toEqual({ dirty: false, entries: [] });
    expect(readFileSync(path.join(wtPath, 'a.txt'), 'utf8')).toBe('conflicting commit\n');
  });

  it('preserve of a clean worktree returns null and writes no ref; refs outside refs/runledger/ are refused', async () => {
    const { root, repo } = makeRepo();
    const wtPath = path.join(root, 'wt', 's-7');
    await gw.add({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-7' });
    const ref = preservedRefFor('s-7');
    expect(await gw.preserve({ worktreePath: wtPath, ref })).toBeNull();
    expect(await gw.refExists(repo, ref)).toBe(false);
    writeFileSync(path.join(wtPath, 'x.txt'), 'x');
    await expect(gw.preserve({ worktreePath: wtPath, ref: 'refs/heads/main' })).rejects.toBeInstanceOf(ForeignNamespaceError);
    expect(() => preservedRefFor('bad name')).toThrow();
  });

  it('deleteBranch only touches runledger/ branches and never loses unmerged work silently', async () => {
    const { root, repo } = makeRepo();
    await expect(gw.deleteBranch(repo, 'main')).rejects.toBeInstanceOf(ForeignNamespaceError);
    await expect(gw.deleteBranch(repo, 'feature/x')).rejects.toBeInstanceOf(ForeignNamespaceError);
    expect(await gw.branchExists(repo, 'main')).toBe(true);

    const wtPath = path.join(root, 'wt', 's-8');
    await gw.add({ repoPath: repo, worktreePath: wtPath, branch: 'runledger/s-8' });
    await expect(gw.deleteBranch(repo, 'runledger/s-8')).rejects.toBeInstanceOf(BranchCheckedOutError);
    writeFileSync(path.join(wtPath, 'c.txt'), 'c');
    git(wtPath, 'add', 'c.txt');
    git(wtPath, 'commit', '-q', '-m', 'unlanded');
    await gw.remove({ repoPath: repo, worktreePath: wtPath });
    await expect(gw.deleteBranch(repo, 'runledger/s-8')).rejects.toBeInstanceOf(BranchNotMergedError);
    expect(await gw.deleteBranch(repo, 'runledger/s-8', { force: true })).toBe(true);
    expect(await gw.branchExists(repo, 'runledger/s-8')).toBe(false);
    expect(await gw.deleteBranch(repo, 'runledger/s-8')).toBe(false);
  });
});

describe('git worktree commands on one repository at once', () => {
  it('twelve adds at once all succeed (git does not guard .git/worktrees against concurrent adds: they are queued)', async () => {
    const { root, repo } = makeRepo();
    const gw = new GitWorktrees();
    const added = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => gw.add({ repoPath: repo, worktreePath: path.join(root, 'wt', `s-${i}`), branch: `runledger/s-${i}` })),
    );
    expect(added.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    expect((await gw.listWorktrees(repo)).filter((w) => !w.main)).toHaveLength(12);
  });

  it('serializedPerRepository runs one repository\'s steps in order, a failed step does not stop the next, other repositories run beside', async () => {
    const order: string[] = [];
    const step = (name: string, ms: number, fail = false) => async () => {
      order.push(`${name}:start`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      order.push(`${name}:end`);
      if (fail) throw new Error(name);
      return name;
    };
    const a1 = serializedPerRepository('/r/a', step('a1', 30, true));
    const a2 = serializedPerRepository('/r/a', step('a2', 1));
    const b1 = serializedPerRepository('/r/b', step('b1', 1));
    await expect(a1).rejects.toThrow('a1');
    expect(await a2).toBe('a2');
    expect(await b1).toBe('b1');
    expect(order.indexOf('a2:start')).toBeGreaterThan(order.indexOf('a1:end'));
    expect(order.indexOf('b1:end')).toBeLessThan(order.indexOf('a1:end'));
  });
});
