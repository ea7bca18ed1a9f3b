/**
 * bench/session-growth/fold: the session fold alone (`evolveSession` → `evolveCall` → `evolveToolCall`), in process, no
 * store: what boot reconcile, a rebuild, a replay and a state-cache miss pay per event.
 *
 *   npm run bench:fold
 *   BENCH_FOLD_EVENTS=20000 npm run bench:fold
 *
 * Builds one session stream of BENCH_FOLD_EVENTS (default 100,000) events as the hooks write them (SessionStarted, an
 * external session's link, then per tool call ToolCallDispatched (observed) and ToolCallCompleted (source hook), with an
 * AgentActivityChanged every 50 calls), folds it BENCH_FOLD_ROUNDS (default 5) times after one warm-up fold, and prints
 * the best and median events/s, the bytes allocated per event (V8's heap used before each GC minus after the previous
 * one, summed over the fold) and the bytes the final state retains. A script: it asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import { GCProfiler, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { replay, sessionDecider, type SessionEvent } from '@runledger/domain';

/** A positive number from the environment, else `fallback`. */
const num = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const EVENTS = Math.round(num('BENCH_FOLD_EVENTS', 100_000));
const ROUNDS = Math.round(num('BENCH_FOLD_ROUNDS', 5));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A session stream of about `count` events, shaped as the Claude Code hooks append them. */
const stream = (count: number): SessionEvent[] => {
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  const at = (i: number) => new Date(t0 + i * 250).toISOString();
  const sessionId = 'c0ffee00-1234-4abc-8def-0123456789ab';
  const events: SessionEvent[] = [
    { type: 'SessionStarted', data: { sessionId, projectId: 'p-bench', kind: 'worker', agent: 'external', branch: 'main', baseRef: 'main', at: at(0) } },
    { type: 'AgentSessionLinked', data: { agentSessionId: 'cc-bench', transcriptPath: '/tmp/transcript.jsonl', at: at(1) } },
  ];
  for (let call = 0; events.length < count; call++) {
    const callId = `toolu_bench_${call}`;
    const input = { command: `npm test -- --shard ${call}`, description: 'run one shard of the tests' };
    events.push(
      { type: 'ToolCallDispatched', data: { callId, tool: 'Bash', input, mode: 'observed', attempt: 1, at: at(events.length) } },
      { type: 'ToolCallCompleted', data: { callId, attempt: 1, output: { stdout: `PASS shard ${call}\n`, stderr: '', interrupted: false }, source: 'hook', at: at(events.length + 1) } },
    );
    if (call % 50 === 49) events.push({ type: 'AgentActivityChanged', data: { activity: call % 100 === 99 ? 'idle' : 'working', at: at(events.length) } } as SessionEvent);
  }
  return events.slice(0, count);
};

/** Bytes V8 allocated while `run` ran: heap used before each GC minus after the one before, plus the growth since the last. */
const allocatedBy = <T>(run: () => T): { result: T; bytes: number; ms: number } => {
  gc();
  const profiler = new GCProfiler();
  const start = process.memoryUsage().heapUsed;
  profiler.start();
  const t = performance.now();
  const result = run();
  const ms = performance.now() - t;
  const end = process.memoryUsage().heapUsed;
  const { statistics } = profiler.stop();
  let bytes = 0;
  let after = start;
  for (const gcRun of statistics) {
    bytes += gcRun.beforeGC.heapStatistics.usedHeapSize - after;
    after = gcRun.afterGC.heapStatistics.usedHeapSize;
  }
  bytes += end - after;
  return { result, bytes, ms };
};

const main = (): void => {
  const events = stream(EVENTS);
  process.stdout.write(`fold of one session stream: ${events.length} events (${Math.ceil(events.length / 2)} tool calls), ${ROUNDS} rounds after a warm-up\n`);
  replay(sessionDecider, events);
  gc();
  const withoutState = process.memoryUsage().heapUsed;
  const rounds: { ms: number; bytes: number }[] = [];
  let last: unknown;
  for (let r = 0; r < ROUNDS; r++) {
    last = undefined;
    const { result, bytes, ms } = allocatedBy(() => replay(sessionDecider, events));
    rounds.push({ ms, bytes });
    last = result;
    process.stdout.write(`  round ${r + 1}: ${ms.toFixed(1)} ms, ${((events.length / ms) * 1000).toFixed(0)} events/s, ${(bytes / events.length).toFixed(0)} bytes allocated/event\n`);
  }
  gc();
  const retained = process.memoryUsage().heapUsed - withoutState;
  if (last === undefined) throw new Error('no fold');
  const byMs = rounds.map((r) => r.ms).sort((a, b) => a - b);
  const byBytes = rounds.map((r) => r.bytes).sort((a, b) => a - b);
  const median = <T>(xs: T[]) => xs[Math.floor(xs.length / 2)];
  process.stdout.write(`events_per_s best ${((events.length / byMs[0]) * 1000).toFixed(0)}, median ${((events.length / median(byMs)) * 1000).toFixed(0)}\n`);
  process.stdout.write(`us_per_event median ${((median(byMs) * 1000) / events.length).toFixed(2)}\n`);
  process.stdout.write(`bytes_allocated_per_event median ${(median(byBytes) / events.length).toFixed(0)}\n`);
  process.stdout.write(`bytes_retained_by_state ${retained} (${(retained / Math.ceil(events.length / 2)).toFixed(0)} per call)\n`);
};

main();
