/** Base class of every error thrown by the git worktree adapter. */
export class GitWorktreeError extends Error {
  constructor(message?: string) {
    super(message);
    // Every subclass is named after itself (`UnknownRefError`, …), so no class has to spell its name again.
    this.name = new.target.name;
  }
}

/** A git command exited non-zero (or could not run); carries the command line, cwd, exit code and stderr. */
export class GitError extends GitWorktreeError {
  /** The full command line, e.g. `git worktree add -b runledger/s-1 /tmp/wt HEAD`. */
  readonly command: string;

  constructor(
    readonly args: readonly string[],
    readonly cwd: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout = '',
  ) {
    const command = ['git', ...args].join(' ');
    super(`${command} (in ${cwd}) failed with exit code ${exitCode ?? 'n/a'}: ${stderr.trim() || stdout.trim() || 'no output'}`);
    this.command = command;
  }
}

/** A path argument was relative; every path given to the adapter must be absolute. */
export class RelativePathError extends GitWorktreeError {
  constructor(readonly path: string, what = 'path') {
    super(`${what} must be absolute, got "${path}"`);
  }
}

/** The path does not exist or is not inside a git work tree. */
export class NotAGitRepositoryError extends GitWorktreeError {
  constructor(readonly path: string, readonly reason: string) {
    super(`${path} is not inside a git work tree: ${reason}`);
  }
}

/** Refused to remove a worktree that has uncommitted or untracked work (invariant 10); lists `git status --porcelain` entries. */
export class DirtyWorktreeError extends GitWorktreeError {
  constructor(readonly worktreePath: string, readonly entries: readonly string[]) {
    super(`worktree ${worktreePath} has ${entries.length} uncommitted change(s): ${entries.slice(0, 10).join(', ')}${entries.length > 10 ? ', ...' : ''}`);
  }
}

/** The path exists but is not a linked worktree registered in the repository (or is its main worktree), so it is never removed. */
export class NotAWorktreeError extends GitWorktreeError {
  constructor(readonly repoPath: string, readonly worktreePath: string, readonly reason: string) {
    super(`${worktreePath} is not a removable worktree of ${repoPath}: ${reason}`);
  }
}

/** `add` was asked to create a worktree at a path that already holds files. */
export class WorktreePathOccupiedError extends GitWorktreeError {
  constructor(readonly worktreePath: string) {
    super(`cannot create a worktree at ${worktreePath}: the path exists and is not an empty directory`);
  }
}

/** A registered worktree already exists at the path but has another branch checked out. */
export class WorktreeBranchMismatchError extends GitWorktreeError {
  constructor(readonly worktreePath: string, readonly expected: string, readonly actual: string | null) {
    super(`worktree ${worktreePath} has ${actual ?? 'a detached HEAD'} checked out, expected ${expected}`);
  }
}

/** A branch or ref outside runledger's own namespace (`runledger/*`, `refs/runledger/*`) was to be written or deleted (invariant 10). */
export class ForeignNamespaceError extends GitWorktreeError {
  constructor(readonly refName: string, readonly namespace: string) {
    super(`refusing to touch "${refName}": only names under "${namespace}" belong to runledger`);
  }
}

/** A branch or ref name is not well formed (`git check-ref-format`) or starts with "-". */
export class InvalidRefNameError extends GitWorktreeError {
  constructor(readonly refName: string) {
    super(`invalid ref or branch name "${refName}"`);
  }
}

/** A ref or revision does not resolve to a commit. */
export class UnknownRefError extends GitWorktreeError {
  constructor(readonly ref: string, readonly repoPath: string) {
    super(`"${ref}" does not name a commit in ${repoPath}`);
  }
}

/** The branch to check out or delete does not exist. */
export class BranchNotFoundError extends GitWorktreeError {
  constructor(readonly branch: string, readonly repoPath: string) {
    super(`branch ${branch} does not exist in ${repoPath}`);
  }
}

/** `git branch -d` refused: the branch holds commits not merged into HEAD or its upstream. */
export class BranchNotMergedError extends GitWorktreeError {
  constructor(readonly branch: string) {
    super(`branch ${branch} is not fully merged; refusing to delete it without force`);
  }
}

/** The branch is checked out in a worktree, so it cannot be deleted. */
export class BranchCheckedOutError extends GitWorktreeError {
  constructor(readonly branch: string, readonly worktreePath: string) {
    super(`branch ${branch} is checked out in ${worktreePath}`);
  }
}

/** The worktree is dirty but its changes cannot be captured in a commit (e.g. only changes inside a submodule), so it must not be force-removed. */
export class UnpreservableChangesError extends GitWorktreeError {
  constructor(readonly worktreePath: string, readonly entries: readonly string[]) {
    super(`worktree ${worktreePath} is dirty but a preservation commit would record no change (${entries.join(', ')})`);
  }
}
