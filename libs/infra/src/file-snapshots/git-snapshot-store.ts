import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ChangedFile, FILE_CHANGES_LISTED, FileChangeStatus, SkippedFile } from '@runledger/domain';

/** A repository work tree a snapshot covers: its absolute top-level folder, and the tree of its HEAD when the folder was first looked up (the empty tree before a first commit; a snapshot without a previous tree reads HEAD again). */
export interface SnapshotRoot {
  root: string;
  headTree: string;
}

/** One snapshot: the tree the files make, and what changed against `previousTree` (at most `limit` entries listed, all counted). */
export interface SnapshotTaken {
  root: string;
  tree: string;
  previousTree: string;
  changed: ChangedFile[];
  changedCount: number;
  skipped: SkippedFile[];
}

/** A diff between two snapshot trees: the changed paths with their line counts, and a unified patch (at most `maxPatchBytes`, `truncated` when cut). */
export interface TreeDiff {
  files: ChangedFile[];
  patch: string;
  truncated: boolean;
}

/** One entry of a snapshot tree listing (git's mode and object type; `bytes` for a blob). */
export interface SnapshotEntry {
  path: string;
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  bytes?: number;
}


/** git's empty tree: the previous tree of a repository without a commit. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** Default RUNLEDGER_SNAPSHOT_MAX_FILE_BYTES: files larger than this (bytes) are skipped, and recorded as skipped. */
export const DEFAULT_SNAPSHOT_MAX_FILE_BYTES = 5 * 1024 * 1024;

/** Most ignored paths a run-start snapshot lists as skipped (git collapses an ignored folder into one path). */
export const IGNORED_LISTED = 100;

/** Most bytes of a unified patch a diff returns (`truncated` says when it was cut). */
export const MAX_PATCH_BYTES = 1024 * 1024;

/** Options of the store: its folder, the per-file size limit (bytes) and the git binary. */
export interface GitSnapshotStoreOptions {
  dir: string;
  maxFileBytes?: number;
  binary?: string;
}

interface GitRun {
  cwd?: string;
  env?: Record<string, string>;
}

/** A chain of promises per key: work queued under one key runs one at a time (one session's index is never written twice at once). */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return next;
  }
}

const STATUS: Record<string, FileChangeStatus> = { A: 'added', M: 'modified', D: 'deleted', T: 'type_changed' };

/** Parses `git diff-tree -r -z --raw --numstat` output into changed files (raw entries give the status, numstat the counts). */
export const parseRawNumstat = (output: string): ChangedFile[] => {
  const tokens = output.split('\0');
  const byPath = new Map<string, ChangedFile>();
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i];
    if (token === '') {
      i += 1;
    } else if (token.startsWith(':')) {
      const status = STATUS[token.slice(-1)] ?? 'modified';
      const file = tokens[i + 1];
      byPath.set(file, { path: file, status, additions: null, deletions: null });
      i += 2;
    } else {
      const [added, deleted, inline] = token.split('\t');
      // With -z, numstat puts the path after a tab, or (for a rename, which --no-renames rules out) in the next tokens.
      const file = inline ?? tokens[i + 1];
      const entry = byPath.get(file);
      if (entry) {
        entry.additions = added === '-' ? null : Number(added);
        entry.deletions = deleted === '-' ? null : Number(deleted);
      }
      i += 1;
    }
  }
  return [...byPath.values()];
};

/**
 * The snapshot store of file effects (docs/ARCHITECTURE.md §4e), on git plumbing; it never writes into the user's repository (no object, ref or index change). Per session, a bare repository `<dir>/<sessionId>.git`
 * whose `objects/info/alternates` names the project's object folder, so blobs the project has are never copied; per
 * snapshotted root, an index file `indexes/<hash of root>` of its own, started from a copy of the work tree's index
 * (its stat data makes the next pass a stat pass). A snapshot is `ls-files -m -o` (the only git process when nothing
 * changed), then `add -A` of the changed paths (files over the limit left out), `write-tree` and `diff-tree`.
 * git runs with GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE of the store, so the user's repository is only read.
 */
export class GitSnapshotStore {
  private readonly maxFileBytes: number;
  private readonly binary: string;
  private readonly queue = new KeyedQueue();
  private readonly roots = new Map<string, Promise<SnapshotRoot | undefined>>();
  private readonly commonDirs = new Map<string, string>();
  /** The tree this process last wrote per session index (so an unchanged pass needs no write-tree). */
  private readonly lastTrees = new Map<string, string>();

  constructor(private readonly options: GitSnapshotStoreOptions) {
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_SNAPSHOT_MAX_FILE_BYTES;
    this.binary = options.binary ?? 'git';
  }

  private git(args: string[], run: GitRun = {}, encoding: 'utf8' | 'buffer' = 'utf8'): Promise<string | Buffer> {
    return new Promise((resolve, reject) => {
      execFile(
        this.binary,
        args,
        { cwd: run.cwd, env: { ...process.env, ...run.env }, encoding, maxBuffer: 512 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`git ${args[0]} failed: ${String(stderr).trim() || error.message}`));
          else resolve(stdout);
        },
      );
    });
  }

  private async text(args: string[], run?: GitRun): Promise<string> {
    return (await this.git(args, run)) as string;
  }

  /** The session's snapshot repository folder. */
  repositoryOf(sessionId: string): string {
    return path.join(this.options.dir, `${sessionId}.git`);
  }

  private indexOf(sessionId: string, root: string): string {
    return path.join(this.repositoryOf(sessionId), 'indexes', createHash('sha1').update(root).digest('hex').slice(0, 16));
  }

  private envOf(sessionId: string, root?: string): Record<string, string> {
    const env: Record<string, string> = { GIT_DIR: this.repositoryOf(sessionId), GIT_OPTIONAL_LOCKS: '0' };
    if (root !== undefined) {
      env.GIT_WORK_TREE = root;
      env.GIT_INDEX_FILE = this.indexOf(sessionId, root);
    }
    return env;
  }

  /** The repository top level holding `cwd` and its HEAD tree, or undefined when `cwd` is in no git work tree (cached per cwd). */
  rootOf(cwd: string): Promise<SnapshotRoot | undefined> {
    let found = this.roots.get(cwd);
    if (!found) {
      found = this.findRoot(cwd);
      this.roots.set(cwd, found);
    }
    return found;
  }

  private async findRoot(cwd: string): Promise<SnapshotRoot | undefined> {
    if (!existsSync(cwd)) return undefined;
    let lines: string[];
    try {
      lines = (await this.text(['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir'], { cwd })).trim().split('\n');
    } catch {
      return undefined; // not inside a git work tree (or a bare repository)
    }
    const [root, commonDir] = lines;
    if (!root || !commonDir) return undefined;
    this.commonDirs.set(root, commonDir);
    return { root, headTree: await this.headTreeOf(root) };
  }

  /** The tree of `root`'s HEAD now (the empty tree before a first commit). */
  private async headTreeOf(root: string): Promise<string> {
    try {
      return (await this.text(['rev-parse', '-q', '--verify', 'HEAD^{tree}'], { cwd: root })).trim() || EMPTY_TREE;
    } catch {
      return EMPTY_TREE; // no commit yet
    }
  }

  /** Creates the session's repository (alternates to the project's objects) if absent. */
  private async ensureRepository(sessionId: string, root: string): Promise<void> {
    const repository = this.repositoryOf(sessionId);
    const alternates = path.join(repository, 'objects', 'info', 'alternates');
    if (existsSync(alternates)) return;
    await fsp.mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    await this.text(['init', '--bare', '-q', repository], { env: { GIT_DIR: repository } });
    await this.text(['config', 'gc.auto', '0'], { env: { GIT_DIR: repository } });
    await this.text(['config', 'core.bigFileThreshold', String(this.maxFileBytes + 1)], { env: { GIT_DIR: repository } });
    await fsp.mkdir(path.join(repository, 'indexes'), { recursive: true });
    const commonDir = this.commonDirs.get(root) ?? (await this.text(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: root })).trim();
    // The project's own ignore list applies as in the project (its info/exclude is per repository, so it is copied).
    const exclude = path.join(commonDir, 'info', 'exclude');
    if (existsSync(exclude)) await fsp.copyFile(exclude, path.join(repository, 'info', 'exclude'));
    await fsp.writeFile(alternates, `${path.join(commonDir, 'objects')}\n`);
  }

  /** Starts the root's index from the work tree's own index (read, never written), else from `headTree`. */
  private async ensureIndex(sessionId: string, root: SnapshotRoot, headTree: string): Promise<void> {
    const index = this.indexOf(sessionId, root.root);
    if (existsSync(index)) return;
    const own = (await this.text(['rev-parse', '--path-format=absolute', '--git-path', 'index'], { cwd: root.root })).trim();
    if (existsSync(own)) await fsp.copyFile(own, index);
    else await this.text(['read-tree', headTree], { env: this.envOf(sessionId, root.root), cwd: root.root });
  }

  /**
   * Snapshots the files under `root` for `sessionId` against `previousTree` (the log's last tree of that root, else its
   * HEAD tree read now, so a session's first snapshot never counts commits made since the folder was first seen);
   * `listIgnored` also lists the ignored paths as skipped (a run's start). One session's calls run one at a time.
   * Throws Error with git's message.
   */
  snapshot(sessionId: string, root: SnapshotRoot, previousTree: string | undefined, options: { listIgnored?: boolean } = {}): Promise<SnapshotTaken> {
    return this.queue.run(`${sessionId}\0${root.root}`, async () => {
      const base = previousTree ?? (await this.headTreeOf(root.root));
      return this.take(sessionId, root, base, options.listIgnored === true);
    });
  }

  private async take(sessionId: string, root: SnapshotRoot, previousTree: string, listIgnored: boolean): Promise<SnapshotTaken> {
    await this.ensureRepository(sessionId, root.root);
    await this.ensureIndex(sessionId, root, previousTree);
    const run = { cwd: root.root, env: this.envOf(sessionId, root.root) };
    const key = this.indexOf(sessionId, root.root);
    // One shell process runs `git add -A -v` (the stat pass with git's parallel preload as `git status` does, the new
    // blobs, the list of what changed), then `write-tree` and `diff-tree` only if something changed: one child process
    // for Node to wait on (on the embedded store, the event loop is busy with the database between callbacks).
    const pass = await this.addAll(run, this.lastTrees.get(key), previousTree).catch(() => undefined);
    const skipped: SkippedFile[] = [];
    let tree: string;
    let changedOutput: string | undefined;
    if (pass && !(await this.anyTooLarge(root.root, pass.added))) {
      tree = pass.tree;
      changedOutput = pass.diff;
    } else {
      // New files over the size limit (taken back out), or a nested repository without a commit (which `git add -A`
      // refuses: the changes are listed and added one by one instead); then the tree is written again.
      if (pass) skipped.push(...(await this.unstageTooLarge(sessionId, root.root, previousTree, pass.added, run)));
      else skipped.push(...(await this.addListed(root, run)).skipped);
      tree = (await this.text(['write-tree'], run)).trim();
    }
    this.lastTrees.set(key, tree);
    if (listIgnored) {
      const ignored = (await this.text(['ls-files', '-z', '-o', '-i', '--exclude-standard', '--directory'], run)).split('\0').filter(Boolean);
      for (const file of ignored.slice(0, IGNORED_LISTED)) skipped.push({ path: file.replace(/\/$/, ''), reason: 'ignored' });
    }
    if (tree !== previousTree && changedOutput === undefined) {
      changedOutput = await this.text(['diff-tree', '-r', '-z', '--no-renames', '--raw', '--numstat', previousTree, tree], run);
    }
    const changed = tree === previousTree ? [] : parseRawNumstat(changedOutput ?? '');
    return { root: root.root, tree, previousTree, changed: changed.slice(0, FILE_CHANGES_LISTED), changedCount: changed.length, skipped };
  }

  /** Whether one of `files` (relative to `root`) is a file over the size limit. */
  private async anyTooLarge(root: string, files: string[]): Promise<boolean> {
    for (const file of files) {
      const stat = await fsp.lstat(path.join(root, file)).catch(() => undefined);
      if (stat?.isFile() && stat.size > this.maxFileBytes) return true;
    }
    return false;
  }

  /**
   * The snapshot pass in one `sh` process: `git add -A -v`, then `write-tree` (when something changed or no tree is
   * known) and `diff-tree` against `previousTree` (when the tree differs). `added` lists the paths git added (to check
   * against the size limit: when any, `tree` and `diff` are to be taken again once they are out). Rejects when git does.
   */
  private addAll(run: GitRun, lastTree: string | undefined, previousTree: string): Promise<{ added: string[]; tree: string; diff: string }> {
    const script = [
      'set -e',
      'added=$("$RL_GIT" -c core.quotePath=false add -A -v)',
      "printf '%s\\036' \"$added\"",
      'tree=$RL_LAST_TREE',
      'if [ -n "$added" ] || [ -z "$tree" ]; then tree=$("$RL_GIT" write-tree); fi',
      "printf '%s\\036' \"$tree\"",
      'if [ "$tree" != "$RL_PREVIOUS_TREE" ]; then "$RL_GIT" diff-tree -r -z --no-renames --raw --numstat "$RL_PREVIOUS_TREE" "$tree"; fi',
    ].join('\n');
    const env = { ...run.env, RL_GIT: this.binary, RL_LAST_TREE: lastTree ?? '', RL_PREVIOUS_TREE: previousTree };
    return new Promise((resolve, reject) => {
      execFile('/bin/sh', ['-c', script], { cwd: run.cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) return reject(new Error(`git add -A failed: ${String(stderr).trim() || error.message}`));
        const [addedText, tree, diff] = stdout.split('\x1e');
        const added = addedText.split('\n').filter((line) => line.startsWith("add '") && line.endsWith("'")).map((line) => line.slice(5, -1));
        resolve({ added, tree: tree.trim(), diff: diff ?? '' });
      });
    });
  }

  /** The slow path: `ls-files -m -o` lists the changes, files over the limit and nested repositories are left out, the rest added. */
  private async addListed(root: SnapshotRoot, run: GitRun): Promise<{ changed: boolean; skipped: SkippedFile[] }> {
    const listed = (await this.text(['ls-files', '-z', '-m', '-o', '--exclude-standard'], run)).split('\0').filter(Boolean);
    const skipped: SkippedFile[] = [];
    const toAdd: string[] = [];
    for (const file of new Set(listed)) {
      if (file.endsWith('/')) {
        skipped.push({ path: file.slice(0, -1), reason: 'nested_repository' });
        continue;
      }
      const stat = await fsp.lstat(path.join(root.root, file)).catch(() => undefined);
      if (stat?.isFile() && stat.size > this.maxFileBytes) skipped.push({ path: file, reason: 'too_large', bytes: stat.size });
      else toAdd.push(file);
    }
    for (let i = 0; i < toAdd.length; i += 500) await this.text(['--literal-pathspecs', 'add', '-A', '--', ...toAdd.slice(i, i + 500)], run);
    return { changed: toAdd.length > 0, skipped };
  }

  /**
   * Takes files over the size limit that `git add -A` just added back out of the snapshot: a path the previous tree
   * had keeps its previous blob, a new one leaves the index and the repository's exclude list (so later passes skip it
   * unread), and its blob is deleted. Returns them as skipped.
   */
  private async unstageTooLarge(sessionId: string, root: string, previousTree: string, added: string[], run: GitRun): Promise<SkippedFile[]> {
    const large: SkippedFile[] = [];
    for (const file of added) {
      const stat = await fsp.lstat(path.join(root, file)).catch(() => undefined);
      if (stat?.isFile() && stat.size > this.maxFileBytes) large.push({ path: file, reason: 'too_large', bytes: stat.size });
    }
    if (large.length === 0) return [];
    const paths = large.map((f) => f.path);
    const staged = (await this.text(['--literal-pathspecs', 'ls-files', '-s', '-z', '--', ...paths], run)).split('\0').filter(Boolean);
    const before = new Map(
      (await this.text(['--literal-pathspecs', 'ls-tree', '-z', previousTree, '--', ...paths], run))
        .split('\0')
        .filter(Boolean)
        .map((line) => {
          const [meta, file] = line.split('\t');
          const [mode, , sha] = meta.split(' ');
          return [file, { mode, sha }] as const;
        }),
    );
    for (const file of paths) {
      const old = before.get(file);
      await this.text(old ? ['update-index', '--cacheinfo', `${old.mode},${old.sha},${file}`] : ['update-index', '--force-remove', '--', file], run);
    }
    const fresh = paths.filter((file) => !before.has(file));
    if (fresh.length > 0) {
      const escaped = fresh.map((file) => `/${file.replace(/[\\*?[\]!#]/g, (c) => `\\${c}`)}`).join('\n');
      await fsp.appendFile(path.join(this.repositoryOf(sessionId), 'info', 'exclude'), `\n${escaped}\n`);
    }
    for (const line of staged) {
      const sha = line.split(' ')[1];
      if (sha) await fsp.rm(path.join(this.repositoryOf(sessionId), 'objects', sha.slice(0, 2), sha.slice(2)), { force: true });
    }
    return large;
  }

  /** The diff from tree `from` to tree `to` in the session's snapshot repository (`only` limits it to one path); throws Error with git's message. */
  async diff(sessionId: string, from: string, to: string, only?: string): Promise<TreeDiff> {
    const env = this.envOf(sessionId);
    const limit = only === undefined ? [] : ['--', only];
    const files = parseRawNumstat(await this.text(['diff-tree', '-r', '-z', '--no-renames', '--raw', '--numstat', from, to, ...limit], { env }));
    const patch = (await this.git(['diff-tree', '-r', '-p', '--no-renames', '--no-color', '--full-index', '--binary', from, to, ...limit], { env }, 'buffer')) as Buffer;
    const truncated = patch.length > MAX_PATCH_BYTES;
    return { files, patch: patch.subarray(0, MAX_PATCH_BYTES).toString('utf8'), truncated };
  }

  /** The entries of `tree`, recursively (under `under` when given). */
  async list(sessionId: string, tree: string, under?: string): Promise<SnapshotEntry[]> {
    const env = this.envOf(sessionId);
    const output = await this.text(['ls-tree', '-r', '-z', '--long', '--full-tree', tree, ...(under ? ['--', under] : [])], { env });
    return output
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const [meta, file] = line.split('\t');
        const [mode, type, , size] = meta.split(/\s+/);
        return { path: file, mode, type: type as SnapshotEntry['type'], ...(size && size !== '-' ? { bytes: Number(size) } : {}) };
      });
  }

  /** The bytes of `file` in `tree`, or undefined when the tree holds no file there. */
  async read(sessionId: string, tree: string, file: string): Promise<Buffer | undefined> {
    const env = this.envOf(sessionId);
    const entries = await this.list(sessionId, tree, file);
    const entry = entries.find((e) => e.path === file && e.type === 'blob');
    if (!entry) return undefined;
    return (await this.git(['cat-file', 'blob', `${tree}:${file}`], { env }, 'buffer')) as Buffer;
  }

  /** Keeps `tree` reachable from a new ref `refs/runledger/rewinds/<n>` of the session's snapshot repository and returns the ref's name. */
  async preserve(sessionId: string, tree: string, message: string): Promise<string> {
    const env = {
      ...this.envOf(sessionId),
      GIT_AUTHOR_NAME: 'runledger',
      GIT_AUTHOR_EMAIL: 'runledger@localhost',
      GIT_COMMITTER_NAME: 'runledger',
      GIT_COMMITTER_EMAIL: 'runledger@localhost',
    };
    const commit = (await this.text(['commit-tree', tree, '-m', message], { env })).trim();
    const existing = (await this.text(['for-each-ref', '--format=%(refname)', 'refs/runledger/rewinds/'], { env })).split('\n').filter(Boolean);
    const ref = `refs/runledger/rewinds/${existing.length + 1}`;
    await this.text(['update-ref', ref, commit, ''], { env });
    return ref;
  }

  /**
   * Makes the files under `root` equal `tree` (snapshot first: the index must hold the current state). Files of the
   * current snapshot that `tree` lacks are removed; skipped and ignored files are left as they are.
   */
  restore(sessionId: string, root: SnapshotRoot, tree: string): Promise<void> {
    return this.queue.run(`${sessionId}\0${root.root}`, async () => {
      const run = { cwd: root.root, env: this.envOf(sessionId, root.root) };
      await this.text(['read-tree', '--reset', '-u', tree], run);
      this.lastTrees.set(this.indexOf(sessionId, root.root), tree);
    });
  }

  /**
   * Makes the fresh worktree `root` equal `tree` of session `fromSessionId` (a fork), reading the source's repository
   * through a throwaway index started from the worktree's own: the new session's snapshots then copy what they need
   * into its own repository, so pruning the source never breaks them.
   */
  async materialize(root: SnapshotRoot, fromSessionId: string, tree: string): Promise<void> {
    const scratch = path.join(this.repositoryOf(fromSessionId), 'indexes', `fork-${createHash('sha1').update(root.root).digest('hex').slice(0, 16)}`);
    const own = (await this.text(['rev-parse', '--path-format=absolute', '--git-path', 'index'], { cwd: root.root })).trim();
    if (existsSync(own)) await fsp.copyFile(own, scratch);
    try {
      const env = { GIT_DIR: this.repositoryOf(fromSessionId), GIT_WORK_TREE: root.root, GIT_INDEX_FILE: scratch, GIT_OPTIONAL_LOCKS: '0' };
      await this.text(['read-tree', '--reset', '-u', tree], { cwd: root.root, env });
    } finally {
      await fsp.rm(scratch, { force: true });
    }
  }

  /** Deletes the session's snapshot repository: its objects, indexes and refs. */
  async prune(sessionId: string): Promise<void> {
    const repository = this.repositoryOf(sessionId);
    for (const key of [...this.lastTrees.keys()]) if (key.startsWith(`${repository}${path.sep}`)) this.lastTrees.delete(key);
    await fsp.rm(repository, { recursive: true, force: true });
  }

  /** Bytes the snapshot store holds on disk, every session. */
  async sizeBytes(): Promise<number> {
    const walk = async (dir: string): Promise<number> => {
      const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
      let total = 0;
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) total += await walk(full);
        else if (entry.isFile()) total += (await fsp.stat(full).catch(() => ({ size: 0 }))).size;
      }
      return total;
    };
    return walk(this.options.dir);
  }
}
