/**
 * bench/snapshots: the cost of file effects (docs/ARCHITECTURE.md §4e), each figure beside a baseline of the same run.
 *
 * 1. One snapshot (GitSnapshotStore.snapshot, in process) of a BENCH_SNAPSHOT_FILES-file worktree (default 10,000)
 *    with one file changed, and with nothing changed, each interleaved with `git status --porcelain` on the same tree.
 *    Targets: changed p50 ≤ 50 ms and ≤ 1.5× git status; unchanged ≤ 1.0× git status.
 * 2. A PreToolUse + PostToolUse pair over HTTP (`/hooks/claude-code`, a tool that changes one line of one file between
 *    them) on a BENCH_SNAPSHOT_HOOK_FILES-file repository (default 1,000): one `runledger start` with snapshots on,
 *    one with RUNLEDGER_SNAPSHOTS=off, pairs alternated. Target: ratio ≤ 2.
 * 3. Store growth: BENCH_SNAPSHOT_GROWTH_CALLS (default 1,000) snapshots that each follow a one-line change of one
 *    file, against git itself storing the same changes as that many commits (a plain repository, `git add` + `git
 *    commit`, loose objects, as a snapshot's are). Bytes on disk of the snapshot store vs the commits' objects. Target ≤ 2.
 *
 *   npm run bench:snapshots
 *
 * A script, not a test: it asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GitSnapshotStore } from '@runledger/infra/file-snapshots';
import { num } from '../event-store/harness';
import { benchClient, benchInstallation, expectStatus, percentile, runBench, tempDir } from '../support/server';

const FILES = Math.round(num('BENCH_SNAPSHOT_FILES', 10_000));
const SAMPLES = Math.round(num('BENCH_SNAPSHOT_SAMPLES', 30));
const HOOK_FILES = Math.round(num('BENCH_SNAPSHOT_HOOK_FILES', 1_000));
const HOOK_PAIRS = Math.round(num('BENCH_SNAPSHOT_HOOK_PAIRS', 60));
const GROWTH_CALLS = Math.round(num('BENCH_SNAPSHOT_GROWTH_CALLS', 1_000));

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });

/** A repository of `files` small text files in folders of 100, committed. */
const makeTree = (dir: string, files: number): string => {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  for (let i = 0; i < files; i += 1) {
    const folder = join(dir, `src${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `file${i}.ts`), `export const value${i} = ${i};\n// line two\n`);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'tree');
  return dir;
};

/** Bytes of every file under `dir`. */
const bytesUnder = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((total, entry) => {
    const full = join(dir, entry.name);
    return total + (entry.isDirectory() ? bytesUnder(full) : entry.isFile() ? statSync(full).size : 0);
  }, 0);

const timed = async (work: () => unknown): Promise<number> => {
  const started = performance.now();
  await work();
  return performance.now() - started;
};

const fmt = (ms: number): string => ms.toFixed(1).padStart(8);
const ratioLine = (name: string, ratio: number, target: string): void => console.log(`ratio ${name} ${ratio.toFixed(2)} (target ${target})`);

const snapshotVsStatus = async (root: string): Promise<void> => {
  const repo = makeTree(join(root, 'big'), FILES);
  const store = new GitSnapshotStore({ dir: join(root, 'store') });
  const target = (await store.rootOf(repo))!;
  let tree = (await store.snapshot('bench', target, undefined)).tree; // the first pass fills the index's stat data
  const times = { changed: [] as number[], unchanged: [] as number[], status: [] as number[] };
  for (let i = 0; i < SAMPLES; i += 1) {
    writeFileSync(join(repo, 'src0', 'file0.ts'), `export const value0 = ${i};\n`);
    times.status.push(await timed(() => git(repo, 'status', '--porcelain')));
    times.changed.push(await timed(async () => (tree = (await store.snapshot('bench', target, tree)).tree)));
    times.unchanged.push(await timed(() => store.snapshot('bench', target, tree)));
    times.status.push(await timed(() => git(repo, 'status', '--porcelain')));
  }
  const status = percentile(times.status, 50);
  console.log(`\n1. one snapshot of a ${FILES}-file worktree, ${SAMPLES} samples each (ms)`);
  console.log('                  p50      p99');
  for (const [name, values] of Object.entries(times)) console.log(`${name.padEnd(12)}${fmt(percentile(values, 50))} ${fmt(percentile(values, 99))}`);
  console.log(`snapshot_changed p50 ${percentile(times.changed, 50).toFixed(1)} ms (target <= 50)`);
  ratioLine('snapshot_changed_over_git_status p50', percentile(times.changed, 50) / status, '<= 1.5');
  ratioLine('snapshot_unchanged_over_git_status p50', percentile(times.unchanged, 50) / status, '<= 1.0');
};

const hookPairs = async (root: string): Promise<void> => {
  const repo = makeTree(join(root, 'hooks-repo'), HOOK_FILES);
  process.env.RUNLEDGER_SNAPSHOTS = 'on';
  const on = await benchInstallation('pglite');
  const onServer = await on.start();
  process.env.RUNLEDGER_SNAPSHOTS = 'off';
  const off = await benchInstallation('pglite');
  const offServer = await off.start();
  delete process.env.RUNLEDGER_SNAPSHOTS;
  const arms = [
    { name: 'with_snapshots', api: benchClient(onServer.url), times: [] as number[] },
    { name: 'without', api: benchClient(offServer.url), times: [] as number[] },
  ];
  try {
    for (const arm of arms) expectStatus('register', await arm.api.post('/projects', { id: 'bench', name: 'bench', repoPath: repo }), 201);
    for (let i = 0; i < HOOK_PAIRS + 5; i += 1) {
      for (const arm of i % 2 === 0 ? arms : [...arms].reverse()) {
        const common = { session_id: `bench-${arm.name}`, cwd: repo, tool_name: 'Bash', tool_use_id: `toolu_${arm.name}_${i}`, tool_input: { command: `edit ${i}` } };
        const ms = await timed(async () => {
          expectStatus('PreToolUse', await arm.api.post('/hooks/claude-code', { ...common, hook_event_name: 'PreToolUse' }), 200);
          writeFileSync(join(repo, 'src1', 'file100.ts'), `export const value100 = ${arm.name}${i};\n`);
          expectStatus('PostToolUse', await arm.api.post('/hooks/claude-code', { ...common, hook_event_name: 'PostToolUse', tool_response: { stdout: '' } }), 200);
        });
        if (i >= 5) arm.times.push(ms); // the first pairs warm up (the first snapshot fills its index)
      }
    }
  } finally {
    for (const arm of arms) arm.api.close();
    await onServer.stop();
    await offServer.stop();
    await on.destroy();
    await off.destroy();
  }
  console.log(`\n2. a PreToolUse + PostToolUse pair over HTTP on a ${HOOK_FILES}-file repository, one file changed per call, ${HOOK_PAIRS} pairs each (ms)`);
  console.log('                    p50      p99');
  for (const arm of arms) console.log(`${arm.name.padEnd(14)}${fmt(percentile(arm.times, 50))} ${fmt(percentile(arm.times, 99))}`);
  ratioLine('hook_pair_with_over_without p50', percentile(arms[0].times, 50) / percentile(arms[1].times, 50), '<= 2');
};

const storeGrowth = async (root: string): Promise<void> => {
  const snapshotted = makeTree(join(root, 'growth'), 100);
  const committed = join(root, 'growth-git');
  execFileSync('cp', ['-a', snapshotted, committed]);
  const baseline = bytesUnder(join(committed, '.git', 'objects'));
  const store = new GitSnapshotStore({ dir: join(root, 'growth-store') });
  const target = (await store.rootOf(snapshotted))!;
  let tree: string | undefined;
  for (let i = 0; i < GROWTH_CALLS; i += 1) {
    const line = `export const value${i % 100} = ${i + 1_000_000};\n// line two\n`;
    writeFileSync(join(snapshotted, `src0`, `file${i % 100}.ts`), line);
    tree = (await store.snapshot('growth', target, tree)).tree;
    writeFileSync(join(committed, `src0`, `file${i % 100}.ts`), line);
    git(committed, 'commit', '-q', '-a', '-m', `call ${i}`);
  }
  const ours = bytesUnder(store.repositoryOf('growth')) - bytesUnder(join(store.repositoryOf('growth'), 'indexes')) - bytesUnder(join(store.repositoryOf('growth'), 'hooks'));
  const theirs = bytesUnder(join(committed, '.git', 'objects')) - baseline;
  console.log(`\n3. store growth over ${GROWTH_CALLS} calls that each change one line of one file (bytes on disk)`);
  console.log(`snapshot_store ${ours}   git_commits ${theirs}`);
  ratioLine('store_growth_over_git', ours / theirs, '<= 2');
};

runBench(async () => {
  const root = tempDir('rl-bench-snapshots-');
  try {
    await snapshotVsStatus(root);
    await hookPairs(root);
    await storeGrowth(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
