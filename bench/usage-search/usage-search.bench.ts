/**
 * bench/usage-search: the usage ledger and the full-text search at size (docs/ARCHITECTURE.md §4g). One real
 * `runledger start` (PostgreSQL by default, a fresh database on DATABASE_URL's server; `--pglite` for the embedded one):
 *
 *   npm run bench:usage-search                                  # 200,000 events
 *   BENCH_SEARCH_EVENTS=1000000 npm run bench:usage-search      # the issue's figure
 *
 * While the server is stopped, BENCH_SEARCH_EVENTS events are appended straight into its log: sessions of 50 tool calls
 * (a prompt, then each call's dispatch with a command and its completion with an output, words drawn from a
 * Zipf-distributed vocabulary of 5,000 words) plus one session of 10,000 calls with one UsageRecorded per call (a model
 * call per tool call). The server then starts and its projection builds the read models (timed). Printed:
 * - `search_two_word_p50_ms`: GET /search for two words drawn from the vocabulary's middle ranks (target <= 50), and the
 *   p99, beside `GET /health` (the bare route of the same server, same seconds);
 * - `ratio search_index_over_event_data`: on-disk bytes of rl_rm_search (text, TOAST, primary key, GIN index) over the bytes of the
 *   events' own `data` (target <= 1.0), and over the whole rl_events table;
 * - `ratio usage_over_session`: GET /sessions/:id/usage p50 over GET /sessions/:id p50 on the 10,000-call session,
 *   alternated in the same seconds (target <= 1.2).
 * A script: it asserts nothing.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { toNumber } from '@runledger/infra/database';
import { PostgresEventStore } from '@runledger/infra/event-store/postgres/postgres-event-store';
import { NewEvent } from '@runledger/infra/event-store/event-store.port';
import { num } from '../event-store/harness';
import { benchClient, BenchEngine, closeBenchRun, expectStatus, makeBenchRepo, percentile, runBench, startBenchRun } from '../support/server';

const EVENTS = Math.round(num('BENCH_SEARCH_EVENTS', 200_000));
const QUERIES = Math.round(num('BENCH_QUERIES', 300));
const USAGE_CALLS = 10_000;
const CALLS_PER_SESSION = 50;
const VOCABULARY = 5_000;

/** A deterministic pseudo-random generator (mulberry32), so every run writes the same log. */
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const random = rng(42);
/** Word `k` of the vocabulary (0 = the most frequent). */
const word = (k: number): string => `w${k.toString(36)}x${(k * 7919) % 97}`;
/** Zipf(1) ranks by inverse CDF over the harmonic numbers. */
const harmonic = Array.from({ length: VOCABULARY }, (_, k) => 1 / (k + 1));
const cdf: number[] = [];
harmonic.reduce((s, h, k) => (cdf[k] = s + h), 0);
const zipfWord = (): string => {
  const target = random() * cdf[VOCABULARY - 1];
  let lo = 0;
  let hi = VOCABULARY - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return word(lo);
};
const words = (n: number): string => Array.from({ length: n }, zipfWord).join(' ');
const COMMANDS = ['npm test', 'git status', 'git diff --stat', 'ls -la src', 'cat package.json', 'grep -rn TODO libs', 'npx tsc --noEmit'];

const meta = { actor: 'bench:usage-search', correlationId: randomUUID() };
const ev = (type: string, data: Record<string, unknown>): NewEvent => ({ eventId: randomUUID(), type, data: { ...data, at: new Date().toISOString() }, metadata: meta });

/** Appends the searchable sessions (about `events` events) and returns how many were written. */
const seedSearch = async (store: PostgresEventStore, events: number): Promise<number> => {
  let written = 0;
  for (let s = 0; written < events; s++) {
    const sessionId = `seed-${s}`;
    const batch: NewEvent[] = [
      ev('SessionStarted', { sessionId, projectId: 'bench', kind: 'worker', agent: 'external', branch: `b${s}`, baseRef: 'main' }),
      ev('AgentRunStarted', { runId: `r${s}`, prompt: `please ${words(12)}` }),
    ];
    for (let c = 0; c < CALLS_PER_SESSION && written + batch.length < events; c++) {
      const callId = `c${s}_${c}`;
      batch.push(
        ev('ToolCallDispatched', { callId, tool: 'Bash', input: { command: `${COMMANDS[c % COMMANDS.length]} ${words(4)}`, description: words(6) }, mode: 'observed', attempt: 1, runId: `r${s}` }),
        ev('ToolCallCompleted', { callId, attempt: 1, output: { stdout: words(30), stderr: '', interrupted: false }, source: 'hook' }),
      );
    }
    await store.appendToStream(`session-${sessionId}`, batch, 'no_stream');
    written += batch.length;
  }
  return written;
};

/** Appends a 10,000-call session with one UsageRecorded per call to `sessionId`'s stream. */
const seedUsage = async (store: PostgresEventStore, sessionId: string): Promise<void> => {
  const stream = `session-${sessionId}`;
  let revision = await store.streamRevision(stream);
  for (let start = 0; start < USAGE_CALLS; start += 250) {
    const batch: NewEvent[] = [];
    for (let i = start; i < start + 250; i++) {
      const callId = `toolu_usage_${i}`;
      batch.push(
        ev('ToolCallDispatched', { callId, tool: 'Bash', input: { command: `npm test -- --shard ${i}` }, mode: 'observed', attempt: 1 }),
        ev('ToolCallCompleted', { callId, attempt: 1, output: { stdout: `PASS shard ${i}\n` }, source: 'hook' }),
        ev('UsageRecorded', {
          key: `msg_${i}`, model: i % 10 === 0 ? 'claude-haiku-4-5' : 'claude-sonnet-4-5', inputTokens: 3 + (i % 7), outputTokens: 100 + (i % 50),
          cacheReadTokens: 20_000 + i, cacheCreationTokens: 500 + (i % 13), source: 'transcript', ...(i % 5 === 0 ? { runId: 'subagent:agent-x', subagent: 'agent-x.jsonl' } : { runId: `run-${Math.floor(i / 100)}` }),
        }),
      );
    }
    revision = (await store.appendToStream(stream, batch, revision)).nextRevision;
  }
};

const fmt = (ms: number): string => ms.toFixed(2);

const main = async (): Promise<void> => {
  const engine: BenchEngine = process.argv.includes('--pglite') || process.env.BENCH_ENGINE === 'pglite' ? 'pglite' : 'postgres';
  const run = await startBenchRun(engine);
  const { installation } = run;
  let { api } = run;
  try {
    const repo = makeBenchRepo(join(installation.root, 'repo'));
    expectStatus('register project', await api.post('/projects', { id: 'bench', name: 'bench', repoPath: repo }), 201);
    expectStatus('SessionStart', await api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: `cc-usage-${randomUUID()}`, cwd: repo }), 200);
    const big = (expectStatus('GET /sessions', await api.get('/sessions?projectId=bench'), 200).body.sessions as { id: string }[])[0].id;
    api.close();
    await run.server.stop();

    const seedStart = Date.now();
    const db = await installation.open();
    const store = new PostgresEventStore(db);
    const written = await seedSearch(store, EVENTS);
    await seedUsage(store, big);
    const head = toNumber((await db.query<{ n: string }>('SELECT max(global_position) AS n FROM rl_events')).rows[0].n);
    await db.close();
    process.stdout.write(`usage-search on ${engine}: ${written} searchable events + ${USAGE_CALLS * 3} in ${big} appended in ${((Date.now() - seedStart) / 1000).toFixed(0)} s\n`);

    const projectStart = Date.now();
    run.server = await installation.start();
    api = run.api = benchClient(run.server.url);
    for (;;) {
      const health = expectStatus('GET /health', await api.get('/health'), 200);
      const session = expectStatus('GET session', await api.get(`/sessions/${big}`), 200).body;
      const probe = expectStatus('GET /search', await api.get(`/search?q=${word(0)}&limit=1`), 200).body;
      if (session.revision >= 3 * USAGE_CALLS && probe.hits.length > 0 && probe.hits[0].globalPosition >= head - 3 * USAGE_CALLS - 10 && health.status === 200) {
        const caught = await api.get(`/search?q=please&limit=1`);
        if (caught.body.hits?.[0]) break;
      }
      if (Date.now() - projectStart > 3_600_000) throw new Error('the projection did not catch up in an hour');
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    // The projection may still be finishing its last page: wait until the usage is complete.
    for (;;) {
      const usage = expectStatus('GET usage', await api.get(`/sessions/${big}/usage`), 200).body;
      if (usage.calls === USAGE_CALLS) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    process.stdout.write(`projection of the log: ${((Date.now() - projectStart) / 1000).toFixed(0)} s (server start included)\n`);

    const sizes = await installation.open().then(async (dbx) => {
      try {
        const q = async (sql: string) => toNumber((await dbx.query<{ n: string }>(sql)).rows[0].n);
        return {
          index: await q(`SELECT pg_total_relation_size('rl_rm_search') AS n`),
          gin: await q(`SELECT pg_relation_size($$rl_rm_search_document$$) AS n`),
          indexes: await q(`SELECT pg_indexes_size('rl_rm_search') AS n`),
          data: await q(`SELECT sum(pg_column_size(data)) AS n FROM rl_events`),
          events: await q(`SELECT pg_total_relation_size('rl_events') AS n`),
          rows: await q(`SELECT count(*) AS n FROM rl_rm_search`),
          eventCount: await q(`SELECT count(*) AS n FROM rl_events`),
        };
      } finally {
        await dbx.close();
      }
    });

    // Two-word queries from the vocabulary's middle ranks (common enough to match many events, not stop words).
    const search: number[] = [];
    const health: number[] = [];
    const hits: number[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const q = `${word(20 + Math.floor(random() * 400))} ${word(20 + Math.floor(random() * 400))}`;
      const r = expectStatus('GET /search', await api.get(`/search?q=${encodeURIComponent(q)}`), 200);
      search.push(r.ms);
      hits.push(r.body.hits.length);
      health.push(expectStatus('GET /health', await api.get('/health'), 200).ms);
    }

    const usage: number[] = [];
    const session: number[] = [];
    for (let i = 0; i < 50; i++) (await api.get(`/sessions/${big}/usage`), await api.get(`/sessions/${big}`)); // warm-up
    for (let i = 0; i < QUERIES; i++) {
      const pair = i % 2 === 0 ? ['usage', 'session'] : ['session', 'usage'];
      for (const kind of pair) {
        if (kind === 'usage') usage.push(expectStatus('GET usage', await api.get(`/sessions/${big}/usage`), 200).ms);
        else session.push(expectStatus('GET session', await api.get(`/sessions/${big}`), 200).ms);
      }
    }

    process.stdout.write(`\nlog: ${sizes.eventCount} events; search index: ${sizes.rows} documents\n`);
    process.stdout.write(`search_two_word_p50_ms: ${fmt(percentile(search, 50))} (target <= 50), p99 ${fmt(percentile(search, 99))}; hits per query p50 ${percentile(hits, 50)}\n`);
    process.stdout.write(`bare_route_p50_ms (GET /health, same seconds): ${fmt(percentile(health, 50))}\n`);
    process.stdout.write(`search index bytes: ${sizes.index} (GIN ${sizes.gin}, all its indexes ${sizes.indexes}); events' data bytes: ${sizes.data}; rl_events total bytes: ${sizes.events}\n`);
    process.stdout.write(`ratio search_index_over_event_data: ${(sizes.index / sizes.data).toFixed(2)} (target <= 1.0); over the whole rl_events table: ${(sizes.index / sizes.events).toFixed(2)}\n`);
    process.stdout.write(`GET /sessions/:id/usage p50 ${fmt(percentile(usage, 50))} ms, GET /sessions/:id p50 ${fmt(percentile(session, 50))} ms (${USAGE_CALLS}-call session)\n`);
    process.stdout.write(`ratio usage_over_session: ${(percentile(usage, 50) / percentile(session, 50)).toFixed(2)} (target <= 1.2)\n`);
  } finally {
    await closeBenchRun(run);
  }
};

runBench(main);
