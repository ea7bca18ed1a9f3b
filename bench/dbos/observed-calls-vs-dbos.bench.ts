/**
 * bench/dbos: durable checkpoints per second, runledger's observed tool calls through its HTTP API against DBOS Transact
 * steps, in the same run, on the same PostgreSQL server (DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test;
 * each side gets a fresh database).
 *
 *   npm run bench:dbos
 *   BENCH_DBOS_CALLS=1000 npm run bench:dbos
 *
 * - runledger: `runledger start` on PostgreSQL; a 1,000-call session fed over the Claude Code hooks (PreToolUse then
 *   PostToolUse: two committed events per call) by 1 client, then 8 clients × 250 calls on 8 sessions.
 * - DBOS: one in-process workflow of 2,000 steps (one checkpoint per step), then 8 concurrent workflows × 500 steps.
 * Both counted as checkpoints per second; prints `ratio runledger_over_dbos c1` and `c8` (target >= 1.0).
 * - REST: one client drives observed calls through the tool-call routes (`POST /sessions/:id/tool-calls`, then
 *   `POST …/:callId/result`) on one session, beside a raw 1-row INSERT (autocommit, the event-shaped row of
 *   bench/event-store) at one client on its own database and DBOS steps, the three interleaved in slices (the INSERT's
 *   commit flush swings with the disk's other users). Prints
 *   `ratio rest_call_over_raw_insert c1` (calls per second over INSERTs per second, target >= 0.16) and
 *   `info dbos_step_over_raw_insert c1` (DBOS steps per second at one workflow, in the same slices, over the same INSERTs).
 * A script: it asserts nothing.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { PostgresDatabase } from '@runledger/infra/database';
import { num, RAW_SCHEMA, rawSingleRow } from '../event-store/harness';
import { benchClient, closeBenchRun, expectStatus, freshPostgres, makeBenchRepo, runBench, startBenchRun } from '../support/server';

const CALLS = Math.round(num('BENCH_DBOS_CALLS', 1000));
const CLIENTS = 8;
/** Calls per client: one 1,000-call session alone, or 8 sessions of 250 calls at once (the concurrent workload compared with DBOS). */
const PER_CLIENT: Record<number, number> = { 1: CALLS, [CLIENTS]: Math.round(CALLS / 4) };

/** runledger: `clients` sessions fed concurrently, `per` calls each; returns checkpoints (events) per second. */
const runledgerRate = async (api: ReturnType<typeof benchClient>, repo: string, clients: number, per: number): Promise<number> => {
  const sessions = await Promise.all(
    Array.from({ length: clients }, async () => {
      const agentSessionId = `cc-dbos-${randomUUID()}`;
      expectStatus('SessionStart', await api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: agentSessionId, cwd: repo }), 200);
      const listed = expectStatus('GET /sessions', await api.get(`/sessions?agentSessionId=${agentSessionId}`), 200);
      return { agentSessionId, id: (listed.body.sessions as { id: string }[])[0].id };
    }),
  );
  const started = performance.now();
  await Promise.all(
    sessions.map(async ({ agentSessionId, id }) => {
      const headers = { 'x-runledger-session': id };
      for (let i = 1; i <= per; i++) {
        const base = { session_id: agentSessionId, cwd: repo, tool_name: 'Bash', tool_use_id: `toolu_${agentSessionId}_${i}`, tool_input: { command: `make step-${i}` } };
        expectStatus('PreToolUse', await api.post('/hooks/claude-code', { ...base, hook_event_name: 'PreToolUse' }, headers), 200);
        expectStatus('PostToolUse', await api.post('/hooks/claude-code', { ...base, hook_event_name: 'PostToolUse', tool_response: { stdout: 'ok\n' } }, headers), 200);
      }
    }),
  );
  return (2 * per * clients) / ((performance.now() - started) / 1000);
};

/** REST: a new session for the tool-call routes (an external one, opened by a SessionStart hook); returns its id. */
const restSession = async (api: ReturnType<typeof benchClient>, repo: string): Promise<string> => {
  const agentSessionId = `cc-rest-${randomUUID()}`;
  expectStatus('SessionStart', await api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: agentSessionId, cwd: repo }), 200);
  const listed = expectStatus('GET /sessions', await api.get(`/sessions?agentSessionId=${agentSessionId}`), 200);
  return (listed.body.sessions as { id: string }[])[0].id;
};

/** REST: one client, observed calls `from`..`to` (exclusive) on `sessionId`, each a dispatch then its result; returns the ms taken. */
const restCalls = async (api: ReturnType<typeof benchClient>, sessionId: string, from: number, to: number): Promise<number> => {
  const started = performance.now();
  for (let i = from; i < to; i++) {
    const callId = `rest-${i}`;
    expectStatus('POST tool-calls', await api.post(`/sessions/${sessionId}/tool-calls`, { callId, tool: 'Bash', input: { command: `make step-${i}` }, mode: 'observed' }), 201);
    expectStatus('POST result', await api.post(`/sessions/${sessionId}/tool-calls/${callId}/result`, { status: 'completed', output: { stdout: 'ok\n' } }), 200);
  }
  return performance.now() - started;
};

/** Raw baseline: `count` 1-row INSERTs in autocommit by one client (bench/event-store's row and statement); returns the ms taken. */
const rawInserts = async (db: PostgresDatabase, count: number): Promise<number> => {
  const step = rawSingleRow(db).writer(1, randomUUID().slice(0, 8), 0);
  const started = performance.now();
  for (let i = 0; i < count; i++) await step();
  return performance.now() - started;
};

/** Slices of the REST-vs-INSERT comparison: each slice runs its share of the calls, then its share of the INSERTs, so both see the same minutes. */
const REST_SLICES = 10;

/**
 * REST c1 beside raw INSERT c1 and DBOS c1 (one workflow of a slice's steps), interleaved in REST_SLICES (2 INSERTs
 * and 2 steps per call); returns calls, INSERTs and steps per second.
 */
const restVersusRaw = async (
  api: ReturnType<typeof benchClient>, repo: string, db: PostgresDatabase, calls: number, dbosSteps: (steps: number) => Promise<unknown>,
): Promise<{ rest: number; raw: number; dbos: number }> => {
  const sessionId = await restSession(api, repo);
  const share = (total: number, slice: number) => Math.floor(((slice + 1) * total) / REST_SLICES) - Math.floor((slice * total) / REST_SLICES);
  let restMs = 0;
  let rawMs = 0;
  let dbosMs = 0;
  for (let slice = 0; slice < REST_SLICES; slice++) {
    restMs += await restCalls(api, sessionId, Math.floor((slice * calls) / REST_SLICES), Math.floor(((slice + 1) * calls) / REST_SLICES));
    rawMs += await rawInserts(db, share(2 * calls, slice));
    const started = performance.now();
    await dbosSteps(share(2 * calls, slice));
    dbosMs += performance.now() - started;
  }
  return { rest: calls / (restMs / 1000), raw: (2 * calls) / (rawMs / 1000), dbos: (2 * calls) / (dbosMs / 1000) };
};

const stepsWorkflow = DBOS.registerWorkflow(
  async (steps: number): Promise<number> => {
    let sum = 0;
    for (let i = 0; i < steps; i++) sum += await DBOS.runStep(async () => ({ stdout: `ok ${i}\n` }).stdout.length, { name: `step` });
    return sum;
  },
  { name: 'stepsWorkflow' },
);

/** DBOS: `clients` concurrent workflows of `steps` steps; returns steps (checkpoints) per second. */
const dbosRate = async (clients: number, steps: number): Promise<number> => {
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, () => stepsWorkflow(steps)));
  return (steps * clients) / ((performance.now() - started) / 1000);
};

const main = async (): Promise<void> => {
  process.stdout.write(`observed calls vs DBOS Transact on PostgreSQL: 1 x ${PER_CLIENT[1]} calls, then ${CLIENTS} x ${PER_CLIENT[CLIENTS]} (two checkpoints per call; DBOS: two steps)\n`);
  const dbosDb = await freshPostgres();
  DBOS.setConfig({ name: 'runledger-bench', systemDatabaseUrl: dbosDb.url, logLevel: 'error', systemDatabasePoolSize: 10 });
  await DBOS.launch();
  const rawPg = await freshPostgres();
  const rawDb = new PostgresDatabase({ connectionString: rawPg.url, max: 1, applicationName: 'runledger-bench-raw' });
  await rawDb.query(RAW_SCHEMA);
  const run = await startBenchRun('postgres', 2 * CLIENTS);
  const { installation, api } = run;
  try {
    const repo = makeBenchRepo(join(installation.root, 'repo'));
    expectStatus('register project', await api.post('/projects', { name: 'dbos', repoPath: repo }), 201);
    await dbosRate(1, 200); // warm-up both
    await runledgerRate(api, repo, 1, 100);
    const results: Record<string, { ours: number; dbos: number }> = {};
    for (const clients of [1, CLIENTS]) {
      const ours = await runledgerRate(api, repo, clients, PER_CLIENT[clients]);
      const dbos = await dbosRate(clients, 2 * PER_CLIENT[clients]);
      results[`c${clients}`] = { ours, dbos };
      process.stdout.write(`c${clients}: runledger ${ours.toFixed(1)} checkpoints/s, DBOS ${dbos.toFixed(1)} steps/s\n`);
    }
    for (const [name, r] of Object.entries(results)) process.stdout.write(`ratio runledger_over_dbos ${name}: ${(r.ours / r.dbos).toFixed(3)} (target >= 1.0)\n`);

    await restVersusRaw(api, repo, rawDb, 100, stepsWorkflow); // warm-up all three
    const { rest, raw, dbos } = await restVersusRaw(api, repo, rawDb, CALLS, stepsWorkflow);
    process.stdout.write(
      `rest c1: runledger ${rest.toFixed(1)} observed calls/s (POST tool-calls + POST result, ${CALLS} calls on one session); ` +
        `raw 1-row INSERT ${raw.toFixed(1)}/s; DBOS ${dbos.toFixed(1)} steps/s (${2 * CALLS} each, interleaved in ${REST_SLICES} slices)\n`,
    );
    process.stdout.write(`ratio rest_call_over_raw_insert c1: ${(rest / raw).toFixed(3)} (target >= 0.16)\n`);
    process.stdout.write(`info dbos_step_over_raw_insert c1: ${(dbos / raw).toFixed(3)} (the same INSERTs)\n`);
  } finally {
    await rawDb.close();
    await rawPg.drop();
    await closeBenchRun(run);
    await DBOS.shutdown();
    await dbosDb.drop();
  }
};

runBench(main);
