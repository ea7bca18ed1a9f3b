/**
 * bench/worktree-reaper: one orphan-worktree reaper sweep (POST /worktrees/sweep) over 1,000 session worktree records
 * whose directories are real git worktrees on disk (`git worktree add --no-checkout`), plus a few orphans, as a ratio to
 * a baseline measured in the same run on the same tree: one `git worktree list --porcelain` and a stat of every
 * worktree directory (the least any disk ⇄ log comparison must do).
 *
 *   npm run bench:reaper                          # DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test
 *   BENCH_WORKTREES=200 BENCH_ORPHANS=5 npm run bench:reaper
 *
 * Ends with `ratio sweep_over_list_stat: x.xx` (median sweep ms as the server measured it / median baseline ms).
 * A script, not a test: it asserts nothing about time, only that repeated sweeps record nothing new.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ALL_MIGRATIONS } from '@runledger/infra/database/all-migrations';
import { migrate } from '@runledger/infra/database/migrations';
import { NewEvent } from '@runledger/infra/event-store/event-store.port';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { num, openBenchDatabase } from '../event-store/harness';
import { runBench } from '../support/server';

const WORKTREES = Math.round(num('BENCH_WORKTREES', 1000));
const ORPHANS = Math.round(num('BENCH_ORPHANS', 20));
const SWEEPS = Math.max(3, Math.round(num('BENCH_SWEEPS', 5)));
const PROJECT = 'bench';
const TOKEN = 'bench-reaper-token-0123456789';
const BIN = join(__dirname, '..', '..', '..', 'bin', 'runledger.js');

const at = () => new Date().toISOString();
const event = (type: string, data: object): NewEvent => ({ eventId: randomUUID(), type, data, metadata: { actor: 'bench:reaper', correlationId: randomUUID() } });
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' } });
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value: number) => `${value.toFixed(1)} ms`;

/** Session streams: started, its worktree, a runtime (running); the directories exist on disk. */
const seed = async (store: PostgresEventStore, repo: string, dataDir: string): Promise<string[]> => {
  await store.appendToStream(`project-${PROJECT}`, [
    event('ProjectRegistered', { projectId: PROJECT, name: PROJECT, kind: 'single-repo', repos: [{ name: 'main', path: repo }], sessionPrefix: PROJECT, defaultBranch: 'main', at: at() }),
  ], 'no_stream');
  const pid = spawnSync('true').pid ?? 2 ** 22 - 1;
  const paths: string[] = [];
  for (let n = 1; n <= WORKTREES; n++) {
    const sessionId = `${PROJECT}-${n}`;
    const branch = `runledger/${sessionId}`;
    const path = join(dataDir, 'worktrees', PROJECT, sessionId);
    git(repo, 'worktree', 'add', '-q', '--no-checkout', '-b', branch, path, 'main');
    paths.push(path);
    const command = ['sh', '-c', 'exec sleep 600'];
    await store.appendToStream(`session-${sessionId}`, [
      event('SessionStarted', { sessionId, projectId: PROJECT, kind: 'worker', agent: 'command', command, branch, baseRef: 'main', at: at() }),
      event('WorktreeCreated', { repo: 'main', path, branch, baseRef: 'main', at: at() }),
      event('SessionRuntimeLaunched', { runtime: { type: 'process', pid, startTime: '0', command, logPath: join(dataDir, 'logs', `${sessionId}.log`) }, at: at() }),
    ], 'no_stream');
  }
  for (let n = 1; n <= ORPHANS; n++) {
    const path = join(dataDir, 'worktrees', PROJECT, `orphan-${n}`);
    git(repo, 'worktree', 'add', '-q', '-b', `runledger/orphan-${n}`, path, 'main');
    paths.push(path);
  }
  return paths;
};

/** The baseline: `git worktree list --porcelain` of the repository and a stat of every worktree directory; ms. */
const listAndStat = (repo: string, paths: string[]): number => {
  const t0 = performance.now();
  const listed = git(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length;
  for (const p of paths) statSync(p);
  const elapsed = performance.now() - t0;
  if (listed !== paths.length + 1) throw new Error(`git listed ${listed} worktrees, expected ${paths.length + 1}`);
  return elapsed;
};

const startServer = (env: Record<string, string>): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start'], { env: { ...process.env, PORT: '0', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const onData = (c: Buffer) => {
      output = (output + c.toString()).slice(-8000);
      const match = /listening on (http:\/\/\S+)\/api\/v1/.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve({ url: match[1], child, stop: async () => { child.kill('SIGTERM'); await exited; } });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-8000)));
    void exited.then(() => reject(new Error(`runledger start exited before listening:\n${output}`)));
  });

interface Report { ms: number; scanned: number; changed: number; skipped?: string }

const sweep = async (url: string): Promise<Report> => {
  const response = await fetch(`${url}/api/v1/worktrees/sweep`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
  const body = (await response.json()) as Report;
  if (response.status !== 200 || body.skipped) throw new Error(`sweep answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
};

const main = async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing`);
  const bench = await openBenchDatabase(false, 4);
  const root = mkdtempSync(join(tmpdir(), 'rl-bench-reaper-'));
  process.once('SIGINT', () => void bench.close().finally(() => process.exit(130)));
  try {
    const repo = join(root, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'commit', '-q', '--allow-empty', '-m', 'initial');
    const dataDir = join(root, 'data');
    await migrate(bench.db, ALL_MIGRATIONS);
    const store = new PostgresEventStore(bench.db);
    process.stderr.write(`bench/worktree-reaper on ${bench.target}: ${WORKTREES} recorded worktrees + ${ORPHANS} orphans\n`);
    const t0 = performance.now();
    const paths = await seed(store, repo, dataDir);
    process.stderr.write(`  seeded in ${ms(performance.now() - t0)}; starting runledger start\n`);

    const server = await startServer({ DATABASE_URL: bench.url, RUNLEDGER_DATA_DIR: dataDir, RUNLEDGER_TOKEN: TOKEN, RUNLEDGER_REAPER_INTERVAL_MS: '86400000' });
    try {
      const first = await sweep(server.url); // decides the orphans once (found, kept within the grace window)
      listAndStat(repo, paths); // warm-up
      const sweeps: Report[] = [];
      const baselines: number[] = [];
      for (let i = 0; i < SWEEPS; i++) {
        baselines.push(listAndStat(repo, paths));
        sweeps.push(await sweep(server.url));
      }
      const changed = sweeps.reduce((sum, r) => sum + r.changed, 0);
      const sweepMs = median(sweeps.map((r) => r.ms));
      const baseline = median(baselines);
      console.log([
        '',
        `worktree records ${WORKTREES} (live sessions, real git worktrees without checkout) + ${ORPHANS} orphan worktrees, one repository`,
        `first sweep (records the ${ORPHANS} orphans): ${ms(first.ms)}, ${first.changed} decisions recorded, ${first.scanned} paths`,
        `sweep (server-measured, median of ${SWEEPS}): ${ms(sweepMs)} [${sweeps.map((r) => ms(r.ms)).join(', ')}]; decisions recorded by them: ${changed}`,
        `baseline git worktree list + stat of ${paths.length} directories (median of ${SWEEPS}): ${ms(baseline)}`,
        '',
        `ratio sweep_over_list_stat: ${(sweepMs / baseline).toFixed(2)}`,
      ].join('\n'));
      if (changed !== 0) console.log(`warning: repeated sweeps recorded ${changed} decisions (expected none)`);
    } finally {
      await server.stop();
    }
  } finally {
    await bench.close();
    rmSync(root, { recursive: true, force: true });
  }
};

runBench(main);
