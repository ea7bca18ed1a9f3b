import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitSnapshotStore } from '@runledger/infra/file-snapshots';
import { git, makeRepo } from '../support/git-repo';

/** What the user's repository holds that runledger must never change: objects, refs and the index's bytes. */
const repositoryPrint = (repo: string) => ({
  objects: git(repo, 'count-objects', '-v'),
  refs: git(repo, 'for-each-ref'),
  index: createHash('sha256').update(readFileSync(join(repo, '.git', 'index'))).digest('hex'),
  status: git(repo, 'status', '--porcelain'),
});

describe('GitSnapshotStore (real git)', () => {
  let root: string;
  let repo: string;
  let store: GitSnapshotStore;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rl-snap-'));
    repo = makeRepo(join(root, 'repo'));
    writeFileSync(join(repo, 'a.txt'), 'one\ntwo\nthree\n');
    writeFileSync(join(repo, '.gitignore'), 'build/\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'files');
    store = new GitSnapshotStore({ dir: join(root, 'snapshots'), maxFileBytes: 1024 });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('records tracked and untracked changes with line counts, skips ignored and oversized files, and leaves the repository untouched', async () => {
    writeFileSync(join(repo, 'dirty.txt'), 'uncommitted\n');
    const before = repositoryPrint(repo);
    const target = await store.rootOf(repo);
    expect(target).toBeDefined();
    const first = await store.snapshot('s-1', target!, undefined, { listIgnored: true });
    expect(first.previousTree).toBe(target!.headTree);
    expect(first.changed).toEqual([{ path: 'dirty.txt', status: 'added', additions: 1, deletions: 0 }]);

    writeFileSync(join(repo, 'a.txt'), 'one\nTWO\nthree\nfour\n');
    rmSync(join(repo, 'README.md'));
    writeFileSync(join(repo, 'big.bin'), Buffer.alloc(4096, 1));
    const second = await store.snapshot('s-1', target!, first.tree);
    expect(second.changed).toEqual([
      { path: 'README.md', status: 'deleted', additions: 0, deletions: 1 },
      { path: 'a.txt', status: 'modified', additions: 2, deletions: 1 },
    ]);
    expect(second.skipped).toEqual([{ path: 'big.bin', reason: 'too_large', bytes: 4096 }]);

    const unchanged = await store.snapshot('s-1', target!, second.tree);
    expect(unchanged.tree).toBe(second.tree);
    expect(unchanged.changed).toEqual([]);

    // The user's repository: no object, ref or index change; its status is what the files make it.
    const after = repositoryPrint(repo);
    expect(after.objects).toBe(before.objects);
    expect(after.refs).toBe(before.refs);
    expect(after.index).toBe(before.index);

    const diff = await store.diff('s-1', first.tree, second.tree, 'a.txt');
    expect(diff.files).toEqual([{ path: 'a.txt', status: 'modified', additions: 2, deletions: 1 }]);
    expect(diff.patch).toContain('-two\n+TWO\n');
    expect((await store.read('s-1', first.tree, 'README.md'))?.toString()).toBe('# test repo\n');
    expect(await store.read('s-1', second.tree, 'README.md')).toBeUndefined();
    expect((await store.list('s-1', second.tree)).map((e) => e.path)).toEqual(['.gitignore', 'a.txt', 'dirty.txt']);
  });

  it('lists ignored folders as skipped at a run start', async () => {
    writeFileSync(join(repo, 'keep.txt'), 'x\n');
    mkdirSync(join(repo, 'build'));
    writeFileSync(join(repo, 'build', 'out.txt'), 'generated\n');
    const target = (await store.rootOf(repo))!;
    const taken = await store.snapshot('s-2', target, undefined, { listIgnored: true });
    expect(taken.skipped).toEqual([{ path: 'build', reason: 'ignored' }]);
    expect(taken.changed.map((c) => c.path)).toEqual(['keep.txt']);
  });

  it('restores a previous state byte for byte (removing what came later) and keeps the current state on a ref', async () => {
    const target = (await store.rootOf(repo))!;
    const start = await store.snapshot('s-3', target, undefined);
    writeFileSync(join(repo, 'a.txt'), 'changed by sed\n');
    renameSync(join(repo, 'README.md'), join(repo, 'MOVED.md'));
    writeFileSync(join(repo, 'new.txt'), 'new\n');
    const later = await store.snapshot('s-3', target, start.tree);
    const ref = await store.preserve('s-3', later.tree, 'before rewind');
    expect(ref).toBe('refs/runledger/rewinds/1');
    await store.restore('s-3', target, start.tree);
    expect(readFileSync(join(repo, 'a.txt'), 'utf8')).toBe('one\ntwo\nthree\n');
    expect(readFileSync(join(repo, 'README.md'), 'utf8')).toBe('# test repo\n');
    expect(() => readFileSync(join(repo, 'MOVED.md'))).toThrow();
    expect(() => readFileSync(join(repo, 'new.txt'))).toThrow();
    expect(git(repo, 'status', '--porcelain')).toBe('');
    // The preserved state is still readable from the store.
    expect((await store.read('s-3', later.tree, 'new.txt'))?.toString()).toBe('new\n');
    const again = await store.snapshot('s-3', target, start.tree);
    expect(again.tree).toBe(start.tree);
  });

  it('compares a later session\'s first snapshot with HEAD as it is then, not as it was when the folder was first seen', async () => {
    const target = (await store.rootOf(repo))!;
    await store.snapshot('s-4', target, undefined);
    writeFileSync(join(repo, 'committed.txt'), 'by hand\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'between sessions');
    writeFileSync(join(repo, 'mine.txt'), 'session five\n');
    const first = await store.snapshot('s-5', (await store.rootOf(repo))!, undefined);
    expect(first.previousTree).toBe(git(repo, 'rev-parse', 'HEAD^{tree}').trim());
    expect(first.changed).toEqual([{ path: 'mine.txt', status: 'added', additions: 1, deletions: 0 }]);
  });

  it('is not a repository: no root', async () => {
    expect(await store.rootOf(root)).toBeUndefined();
  });
});
