/**
 * bench/session-growth: does a tool call cost more as its session grows? One real `runledger start` (PGlite by
 * default; `--postgres` for a fresh database on DATABASE_URL's server), one Claude Code session fed over HTTP hooks
 * (PreToolUse then PostToolUse per call, as the agent does) up to revision 2 × BENCH_CALLS (default 10,000).
 *
 *   npm run bench:session-growth                 # PGlite
 *   npm run bench:session-growth -- --postgres   # PostgreSQL (DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test)
 *
 * Prints, per revision window, the p50 of one call (both hooks' round trips), then
 * `ratio call_at_10000_over_call_at_100` (target <= 1.3) and the PreToolUse round trip p50/p99 at call 1,000 (target
 * p50 <= 5 ms) beside a bare route (`GET /health`) of the same server. A script, not a test: it asserts nothing.
 */
import { join } from 'node:path';
import { num } from '../event-store/harness';
import { benchClient, BenchEngine, expectStatus, makeBenchRepo, percentile, startBenchServer } from '../support/server';

const CALLS = Math.round(num('BENCH_CALLS', 5000));
/** Calls per measured window. */
const WINDOW = Math.round(num('BENCH_WINDOW', 50));
/** Calls on a separate session first, so JIT and caches are warm before the measured session's revision 100. */
const WARMUP_CALLS = Math.round(num('BENCH_WARMUP_CALLS', 300));
const HOOK_AT_CALLS = 1000;

type Client = ReturnType<typeof benchClient>;

interface CallTiming {
  call: number;
  pre: number;
  post: number;
}

const toolCall = (agentSessionId: string, repo: string, i: number) => {
  const common = { session_id: agentSessionId, cwd: repo, tool_name: 'Bash', tool_use_id: `toolu_${agentSessionId}_${i}` };
  const input = { command: `npm test -- --shard ${i}`, description: 'run one shard of the tests' };
  return {
    pre: { ...common, hook_event_name: 'PreToolUse', tool_input: input },
    post: { ...common, hook_event_name: 'PostToolUse', tool_input: input, tool_response: { stdout: `PASS shard ${i}\n`.repeat(4), stderr: '', interrupted: false } },
  };
};

/** Opens a session through SessionStart (an external session of the project holding `repo`) and returns its runledger id. */
const openSession = async (api: Client, agentSessionId: string, repo: string): Promise<string> => {
  expectStatus('SessionStart', await api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: agentSessionId, cwd: repo }), 200);
  const listed = expectStatus('GET /sessions', await api.get(`/sessions?agentSessionId=${agentSessionId}`), 200);
  const sessions = (listed.body.sessions ?? listed.body) as { id: string }[];
  if (sessions.length !== 1) throw new Error(`expected one session for ${agentSessionId}, got ${JSON.stringify(listed.body)}`);
  return sessions[0].id;
};

const feed = async (api: Client, sessionId: string, agentSessionId: string, repo: string, calls: number, onCall?: (t: CallTiming) => void) => {
  const headers = { 'x-runledger-session': sessionId };
  for (let i = 1; i <= calls; i++) {
    const { pre, post } = toolCall(agentSessionId, repo, i);
    const a = expectStatus(`PreToolUse #${i}`, await api.post('/hooks/claude-code', pre, headers), 200);
    if (a.body?.hookSpecificOutput?.permissionDecision !== 'allow') throw new Error(`PreToolUse #${i} did not allow: ${JSON.stringify(a.body)}`);
    const b = expectStatus(`PostToolUse #${i}`, await api.post('/hooks/claude-code', post, headers), 200);
    onCall?.({ call: i, pre: a.ms, post: b.ms });
  }
};

const fmt = (ms: number): string => ms.toFixed(2);

const main = async (): Promise<void> => {
  const engine: BenchEngine = process.argv.includes('--postgres') || process.env.BENCH_ENGINE === 'postgres' ? 'postgres' : 'pglite';
  const server = await startBenchServer(engine);
  const api = benchClient(server.url);
  try {
    const repo = makeBenchRepo(join(server.root, 'repo'));
    expectStatus('register project', await api.post('/projects', { name: 'bench', repoPath: repo }), 201);
    process.stdout.write(`session-growth on ${engine}: ${CALLS} calls (revision ~${2 * CALLS}), windows of ${WINDOW} calls, warm-up ${WARMUP_CALLS} calls\n`);

    const warm = await openSession(api, 'cc-warmup', repo);
    await feed(api, warm, 'cc-warmup', repo, WARMUP_CALLS);

    const sessionId = await openSession(api, 'cc-measured', repo);
    const timings: CallTiming[] = [];
    const started = Date.now();
    await feed(api, sessionId, 'cc-measured', repo, CALLS, (t) => {
      timings.push(t);
      if (t.call % 1000 === 0) process.stdout.write(`  ${t.call} calls after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    });
    const head = expectStatus('GET session', await api.get(`/sessions/${sessionId}`), 200).body.revision as number;

    // Revision of call i's PostToolUse: SessionStarted + AgentSessionLinked, then two events per call.
    const revisionOf = (call: number): number => 1 + 2 * call;
    const windowEndingAt = (revision: number): CallTiming[] => {
      const last = Math.min(CALLS, Math.max(WINDOW, Math.floor((revision - 1) / 2)));
      return timings.filter((t) => t.call > last - WINDOW && t.call <= last);
    };
    const callP50 = (window: CallTiming[]) => percentile(window.map((t) => t.pre + t.post), 50);

    process.stdout.write(`\nrevision  call p50 (ms)  PreToolUse p50  PostToolUse p50\n`);
    const marks = [100, 1000, 2000, 4000, 6000, 8000, 10000].filter((r) => r <= revisionOf(CALLS) + 1);
    for (const mark of marks) {
      const w = windowEndingAt(mark);
      process.stdout.write(
        `${String(mark).padStart(8)}  ${fmt(callP50(w)).padStart(13)}  ${fmt(percentile(w.map((t) => t.pre), 50)).padStart(14)}  ${fmt(percentile(w.map((t) => t.post), 50)).padStart(15)}\n`,
      );
    }
    process.stdout.write(`stream head revision: ${head}\n\n`);

    const health: number[] = [];
    for (let i = 0; i < 200; i++) health.push(expectStatus('GET /health', await api.get('/health'), 200).ms);
    const around = timings.filter((t) => t.call > HOOK_AT_CALLS - WINDOW && t.call <= HOOK_AT_CALLS + WINDOW).map((t) => t.pre);

    const top = marks[marks.length - 1];
    process.stdout.write(`ratio call_at_${top}_over_call_at_100: ${(callP50(windowEndingAt(top)) / callP50(windowEndingAt(100))).toFixed(2)} (target <= 1.3)\n`);
    process.stdout.write(`hook_round_trip_p50_ms at ${HOOK_AT_CALLS} calls: ${fmt(percentile(around, 50))} (target <= 5)\n`);
    process.stdout.write(`hook_round_trip_p99_ms at ${HOOK_AT_CALLS} calls: ${fmt(percentile(around, 99))}\n`);
    process.stdout.write(`bare_route_p50_ms (GET /health, same server): ${fmt(percentile(health, 50))}\n`);
  } finally {
    api.close();
    await server.stop();
  }
};

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
