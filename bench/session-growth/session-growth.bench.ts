/**
 * bench/session-growth: does a tool call cost more as its session grows? One real `runledger start` (PGlite by
 * default; `--postgres` for a fresh database on DATABASE_URL's server) and Claude Code sessions fed over the HTTP hooks
 * (PreToolUse then PostToolUse per call, as the agent does).
 *
 *   npm run bench:session-growth                 # PGlite
 *   npm run bench:session-growth -- --postgres   # PostgreSQL (DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test)
 *
 * Two sessions are grown to revision ~BENCH_BIG_REVISION (default 10,000) and ~2,000 (1,000 calls): their events are
 * appended straight into the store while the server is stopped, then the server starts on them. The calls measured
 * then alternate, in the same seconds, between the big session, the 1,000-call session and small sessions kept under
 * revision 100 (a new one every 45 calls), so a busy machine weighs on all three alike; each round starts with the next
 * kind (BENCH_ORDER=fixed: always small first) and ends with a `GET /health`, and the p50 of each kind by its place in
 * the round is printed. Prints
 * `ratio call_at_10000_over_call_at_100` (target <= 1.3) and the PreToolUse round trip p50/p99 on the 1,000-call
 * session (target p50 <= 5 ms) beside a bare route (`GET /health`) of the same server. A script: it asserts nothing.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { NewEvent } from '@runledger/infra/event-store/event-store.port';
import { num } from '../event-store/harness';
import { benchClient, BenchEngine, closeBenchRun, expectStatus, makeBenchRepo, percentile, runBench, startBenchRun } from '../support/server';

const BIG_REVISION = Math.round(num('BENCH_BIG_REVISION', 10_000));
const MID_CALLS = 1000;
/** Measured calls per session kind. */
const MEASURED = Math.round(num('BENCH_MEASURED_CALLS', 300));
/** A small session takes this many calls (revision ≤ ~95), then a new one opens. */
const SMALL_CALLS = 45;
const WARMUP_CALLS = Math.round(num('BENCH_WARMUP_CALLS', 100));

/**
 * `rotate` (default): each round starts with the next kind, so every kind is measured as often first after the round's
 * `GET /health` (which waits for the projection: the server is quiet) as after another call (the projection of the
 * previous call's events runs beside it). `fixed`: small, big, 1k-call in every round (the order of the figures up to 24d2175).
 */
const ORDER = process.env.BENCH_ORDER === 'fixed' ? 'fixed' : 'rotate';
type Kind = 'small' | 'big' | 'mid';
const KINDS: readonly Kind[] = ['small', 'big', 'mid'];

type Client = ReturnType<typeof benchClient>;

interface Session {
  id: string;
  agentSessionId: string;
  next: number;
}

/** Opens a session through SessionStart (an external session of the project holding `repo`) and returns its runledger id. */
const openSession = async (api: Client, agentSessionId: string, repo: string): Promise<Session> => {
  expectStatus('SessionStart', await api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: agentSessionId, cwd: repo }), 200);
  const listed = expectStatus('GET /sessions', await api.get(`/sessions?agentSessionId=${agentSessionId}`), 200);
  const sessions = (listed.body.sessions ?? listed.body) as { id: string }[];
  if (sessions.length !== 1) throw new Error(`expected one session for ${agentSessionId}, got ${JSON.stringify(listed.body)}`);
  return { id: sessions[0].id, agentSessionId, next: 1 };
};

/** One call through both hooks; returns [PreToolUse ms, PostToolUse ms]. */
const call = async (api: Client, session: Session, repo: string): Promise<[number, number]> => {
  const i = session.next++;
  const common = { session_id: session.agentSessionId, cwd: repo, tool_name: 'Bash', tool_use_id: `toolu_${session.agentSessionId}_${i}` };
  const input = { command: `npm test -- --shard ${i}`, description: 'run one shard of the tests' };
  const headers = { 'x-runledger-session': session.id };
  const pre = expectStatus(`PreToolUse ${common.tool_use_id}`, await api.post('/hooks/claude-code', { ...common, hook_event_name: 'PreToolUse', tool_input: input }, headers), 200);
  if (pre.body?.hookSpecificOutput?.permissionDecision !== 'allow') throw new Error(`PreToolUse did not allow: ${JSON.stringify(pre.body)}`);
  const post = expectStatus(
    `PostToolUse ${common.tool_use_id}`,
    await api.post('/hooks/claude-code', { ...common, hook_event_name: 'PostToolUse', tool_input: input, tool_response: { stdout: `PASS shard ${i}\n`, stderr: '', interrupted: false } }, headers),
    200,
  );
  return [pre.ms, post.ms];
};

/** Appends `calls` observed calls (dispatched, completed) to the session's stream, as the hooks would have, in chunks. */
const grow = async (store: PostgresEventStore, session: Session, calls: number): Promise<void> => {
  const stream = `session-${session.id}`;
  let revision = await store.streamRevision(stream);
  const at = () => new Date().toISOString();
  const meta = { actor: 'bench:session-growth', correlationId: randomUUID() };
  for (let start = 0; start < calls; start += 250) {
    const events: NewEvent[] = [];
    for (let i = start; i < Math.min(calls, start + 250); i++) {
      const callId = `toolu_seed_${session.agentSessionId}_${i}`;
      const input = { command: `npm test -- --shard ${i}`, description: 'run one shard of the tests' };
      events.push(
        { eventId: randomUUID(), type: 'ToolCallDispatched', data: { callId, tool: 'Bash', input, mode: 'observed', attempt: 1, at: at() }, metadata: meta },
        { eventId: randomUUID(), type: 'ToolCallCompleted', data: { callId, attempt: 1, output: { stdout: `PASS shard ${i}\n`, stderr: '', interrupted: false }, source: 'hook', at: at() }, metadata: meta },
      );
    }
    revision = (await store.appendToStream(stream, events, revision)).nextRevision;
  }
};

const fmt = (ms: number): string => ms.toFixed(2);

const main = async (): Promise<void> => {
  const engine: BenchEngine = process.argv.includes('--postgres') || process.env.BENCH_ENGINE === 'postgres' ? 'postgres' : 'pglite';
  const run = await startBenchRun(engine);
  const { installation } = run;
  let { api } = run;
  try {
    const repo = makeBenchRepo(join(installation.root, 'repo'));
    expectStatus('register project', await api.post('/projects', { name: 'bench', repoPath: repo }), 201);
    const big = await openSession(api, `cc-big-${randomUUID()}`, repo);
    const mid = await openSession(api, `cc-mid-${randomUUID()}`, repo);
    api.close();
    await run.server.stop();

    const bigCalls = Math.max(0, Math.floor((BIG_REVISION - 2) / 2) - MEASURED);
    process.stdout.write(`session-growth on ${engine}: seeding ${bigCalls} calls into ${big.id} and ${MID_CALLS} into ${mid.id} while the server is stopped\n`);
    const db = await installation.open();
    const store = new PostgresEventStore(db);
    await grow(store, big, bigCalls);
    await grow(store, mid, MID_CALLS);
    await db.close();

    run.server = await installation.start();
    api = run.api = benchClient(run.server.url);
    const head = async (s: Session) => expectStatus('GET session', await api.get(`/sessions/${s.id}`), 200).body.revision as number;
    for (let waited = 0; (await head(big)) < 2 * bigCalls; waited += 200) {
      if (waited > 600_000) throw new Error('the projection did not catch up with the seeded events in 10 minutes');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    // Warm-up: JIT, caches, and each big session's one full fold after the restart.
    let small = await openSession(api, `cc-small-${randomUUID()}`, repo);
    for (let i = 0; i < WARMUP_CALLS; i++) {
      await call(api, small, repo);
      if (i < 3) (await call(api, big, repo), await call(api, mid, repo));
    }
    const startRevision = { big: await head(big), mid: await head(mid) };

    const timings = { small: [] as [number, number][], big: [] as [number, number][], mid: [] as [number, number][], health: [] as number[] };
    /** Each kind's call times by its place in the round (0: first after the GET /health, which waits for the projection). */
    const byPlace = { small: [[], [], []], big: [[], [], []], mid: [[], [], []] } as Record<Kind, number[][]>;
    for (let i = 0; i < MEASURED; i++) {
      if (small.next > SMALL_CALLS) small = await openSession(api, `cc-small-${randomUUID()}`, repo);
      const sessions: Record<Kind, Session> = { small, big, mid };
      const order = ORDER === 'fixed' ? KINDS : KINDS.map((_, k) => KINDS[(k + i) % KINDS.length]);
      for (const [place, kind] of order.entries()) {
        const timing = await call(api, sessions[kind], repo);
        timings[kind].push(timing);
        byPlace[kind][place].push(timing[0] + timing[1]);
      }
      timings.health.push(expectStatus('GET /health', await api.get('/health'), 200).ms);
    }
    const p50 = (t: [number, number][]) => percentile(t.map(([a, b]) => a + b), 50);
    const row = (name: string, revisions: string, t: [number, number][]) =>
      `${name.padEnd(8)} ${revisions.padEnd(15)} ${fmt(p50(t)).padStart(13)} ${fmt(percentile(t.map(([a]) => a), 50)).padStart(15)} ${fmt(percentile(t.map(([, b]) => b), 50)).padStart(16)}\n`;
    process.stdout.write(`\nsession  revisions       call p50 (ms)  PreToolUse p50  PostToolUse p50\n`);
    process.stdout.write(row('small', `< 100`, timings.small));
    process.stdout.write(row('1k-call', `${startRevision.mid}-${await head(mid)}`, timings.mid));
    process.stdout.write(row('big', `${startRevision.big}-${await head(big)}`, timings.big));
    process.stdout.write(`\ncall p50 (ms) by place in the round (order ${ORDER}):     first   second    third\n`);
    for (const kind of KINDS) {
      const cells = byPlace[kind].map((t) => (t.length > 0 ? fmt(percentile(t, 50)) : '-').padStart(9));
      process.stdout.write(`  ${kind.padEnd(44)} ${cells.join('')}\n`);
    }
    process.stdout.write(`\nratio call_at_${BIG_REVISION}_over_call_at_100: ${(p50(timings.big) / p50(timings.small)).toFixed(2)} (target <= 1.3)\n`);
    process.stdout.write(`hook_round_trip_p50_ms (PreToolUse, 1,000-call session): ${fmt(percentile(timings.mid.map(([a]) => a), 50))} (target <= 5)\n`);
    process.stdout.write(`hook_round_trip_p99_ms (PreToolUse, 1,000-call session): ${fmt(percentile(timings.mid.map(([a]) => a), 99))}\n`);
    process.stdout.write(`bare_route_p50_ms (GET /health, same server, same seconds): ${fmt(percentile(timings.health, 50))}\n`);
  } finally {
    await closeBenchRun(run);
  }
};

runBench(main);
