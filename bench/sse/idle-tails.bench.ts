/**
 * bench/sse: the CPU a `runledger start` spends on idle live tails (`GET /events` as text/event-stream, nothing being
 * appended), with 0 tails (the baseline) and with N tails (default 100), measured in the same run on the same server.
 *
 *   npm run bench:sse                      # PGlite (the embedded default)
 *   npm run bench:sse -- --postgres        # a fresh database on DATABASE_URL's server (default the local one)
 *   BENCH_TAILS=200 BENCH_SSE_SECONDS=20 npm run bench:sse
 *
 * Prints `cpu_idle_pct` (no tails), `cpu_tails_pct` (N tails), both in % of one core from /proc/<pid>/stat, and their
 * difference per 100 tails. A script, not a test: it asserts nothing about time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { num } from '../event-store/harness';
import { BENCH_TOKEN, BenchEngine, benchInstallation, makeBenchRepo, benchClient, expectStatus } from '../support/server';

const TAILS = Math.round(num('BENCH_TAILS', 100));
const SECONDS = num('BENCH_SSE_SECONDS', 10);
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime + stime of `pid` in clock ticks (/proc/<pid>/stat fields 14 and 15). */
const cpuTicks = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
};

/** % of one core `pid` used over `seconds`. */
const cpuPercent = async (pid: number, seconds: number): Promise<number> => {
  const t0 = cpuTicks(pid);
  const started = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return ((cpuTicks(pid) - t0) / CLOCK_TICKS / elapsed) * 100;
};

const main = async () => {
  const engine: BenchEngine = process.argv.includes('--postgres') ? 'postgres' : 'pglite';
  const installation = await benchInstallation(engine);
  const server = await installation.start();
  const api = benchClient(server.url);
  const tails: AbortController[] = [];
  try {
    expectStatus('register project', await api.post('/projects', { name: 'sse', repoPath: makeBenchRepo(join(installation.root, 'repo')) }), 201);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // settle after boot
    const idle = await cpuPercent(server.pid, SECONDS);
    let refused = 0;
    for (let i = 0; i < TAILS; i++) {
      const abort = new AbortController();
      const response = await fetch(`${server.url}/api/v1/events`, { headers: { authorization: `Bearer ${BENCH_TOKEN}`, accept: 'text/event-stream' }, signal: abort.signal });
      if (response.status !== 200) {
        refused += 1;
        await response.text();
        continue;
      }
      tails.push(abort);
      void (async () => {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) void chunk;
      })().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const withTails = await cpuPercent(server.pid, SECONDS);
    process.stdout.write(`engine: ${engine}\ntails: ${tails.length} open, ${refused} refused\n`);
    process.stdout.write(`cpu_idle_pct: ${idle.toFixed(1)}\ncpu_tails_pct: ${withTails.toFixed(1)}\n`);
    process.stdout.write(`cpu_per_100_tails_pct: ${(((withTails - idle) / Math.max(1, tails.length)) * 100).toFixed(1)}\n`);
  } finally {
    for (const abort of tails) abort.abort();
    api.close();
    await server.stop();
    await installation.destroy();
  }
};

void main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
