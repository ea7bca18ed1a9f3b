/**
 * bench/team-load: a team on one PostgreSQL database (docs/ARCHITECTURE.md §8). Two `runledger api` processes and two
 * `runledger worker` processes share one fresh database and one data directory (as docker-compose.yml runs them);
 * 16 clients write at once for BENCH_TEAM_SECONDS (default 60):
 *
 *   npm run bench:team-load
 *   BENCH_TEAM_SECONDS=20 BENCH_TEAM_CLIENTS=8 npm run bench:team-load
 *
 * - half are people: each a writer added with `POST /users`, writing over REST with their personal token (observed
 *   tool calls and their results on a session, and every BENCH_TEAM_SPAWN_EVERY-th round a new `command` session that
 *   exits at once); their events' actor must be `user:<name>`;
 * - half are hooks: Claude Code's PreToolUse and PostToolUse with a session's own credential (read from its agent's
 *   environment), actor `session:<id>`. Each session takes one person and one hook, through different api processes,
 *   so both processes append to the same stream at once.
 *
 * Every request carries its own X-Correlation-Id (and the REST writes an Idempotency-Key); every 2xx is an
 * acknowledged write whose events must be in the log with that correlation id, the expected type and actor. After the
 * load, the bench reads `rl_events` and counts: lost (an acknowledged write with no event), wrong actor (any event of
 * an acknowledged write, or any event of the run, whose actor is not the one its request or part implies; events of
 * runledger itself (reconcile, runtime watcher) must say `runledger` and their `via`). The baseline is the same load
 * with every client on the first api process, in the same run, before the spread phase. A script: it asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PostgresDatabase } from '@runledger/infra/database';
import { num } from '../event-store/harness';
import { benchClient, BenchServer, expectStatus, freshPostgres, makeBenchRepo, percentile, runBench, startRole, tempDir, Timed } from '../support/server';

const CLIENTS = Math.round(num('BENCH_TEAM_CLIENTS', 16));
const SECONDS = num('BENCH_TEAM_SECONDS', 60);
const BASELINE_SECONDS = num('BENCH_TEAM_BASELINE_SECONDS', SECONDS);
const SPAWN_EVERY = Math.round(num('BENCH_TEAM_SPAWN_EVERY', 10));
const PAIRS = Math.max(1, Math.floor(CLIENTS / 2));

type Client = ReturnType<typeof benchClient>;

/** One acknowledged write: the request's correlation id, the event types it must have appended, and who did it. */
interface Acknowledged {
  correlationId: string;
  types: string[];
  actor: string;
}

/** What one phase of load measured. */
interface PhaseResult {
  name: string;
  seconds: number;
  latencies: number[];
  /** Round trips per kind of write (`ToolCallDispatched` over REST, `PreToolUse` hook, …). */
  byKind: Map<string, number[]>;
  byStatus: Map<number, number>;
  failures: string[];
}

const count = (map: Map<number, number>, key: number): void => void map.set(key, (map.get(key) ?? 0) + 1);

/** A session a person spawned for the load: its id and the session credential its agent was given. */
interface LoadSession {
  id: string;
  credential: string;
}

const main = async (): Promise<void> => {
  const root = tempDir('rl-team-load-');
  const dataDir = join(root, 'data');
  const tokensDir = join(root, 'credentials');
  mkdirSync(tokensDir, { recursive: true });
  const database = await freshPostgres();
  const env = { RUNLEDGER_DATA_DIR: dataDir, DATABASE_URL: database.url, RUNLEDGER_SECRET_KEY: randomBytes(32).toString('hex') };
  const servers: BenchServer[] = [];
  const clients: Client[] = [];
  const spawned: string[] = [];
  let admin: Client | undefined;
  try {
    // The first api migrates the fresh database; the other three processes start together on it.
    servers.push(await startRole('api', env));
    servers.push(...(await Promise.all([startRole('api', env), startRole('worker', env), startRole('worker', env)])));
    const [apiA, apiB] = servers;
    admin = benchClient(apiA.url, 4);
    const repo = makeBenchRepo(join(root, 'repo'));
    expectStatus('register project', await admin.post('/projects', { id: 'team', name: 'team', repoPath: repo }), 201);

    // People: one writer each, with a personal token; each spawns the session its pair writes on.
    const people = await Promise.all(
      Array.from({ length: PAIRS }, async (_, p) => {
        const name = `writer${p}`;
        const token = expectStatus('POST /users', await admin!.post('/users', { name, role: 'writer' }), 201).body.token as string;
        return { name, token };
      }),
    );
    const agentScript = `printf '%s' "$RUNLEDGER_TOKEN" > ${tokensDir}/$RUNLEDGER_SESSION_ID.tmp && mv ${tokensDir}/$RUNLEDGER_SESSION_ID.tmp ${tokensDir}/$RUNLEDGER_SESSION_ID; exec sleep 3600`;
    const sessions: LoadSession[] = [];
    for (const person of people) {
      const client = benchClient(apiA.url, 2, person.token);
      const id = expectStatus('POST /sessions', await client.post('/sessions', { projectId: 'team', agent: 'command', command: ['sh', '-c', agentScript] }), 201).body.id as string;
      client.close();
      spawned.push(id);
      const file = join(tokensDir, id);
      for (let waited = 0; !existsSync(file); waited += 100) {
        if (waited > 30_000) throw new Error(`session ${id}'s agent did not write its credential in 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      sessions.push({ id, credential: readFileSync(file, 'utf8') });
    }
    process.stdout.write(`team-load: 2 api + 2 worker processes on one PostgreSQL database, ${PAIRS} people + ${PAIRS} hooks on ${PAIRS} sessions\n`);

    const acknowledged: Acknowledged[] = [];
    const exits: string[] = []; // sessions the people spawned during the load (their agent exits at once)

    /** Runs the load for `seconds`; `personApi(p)` / `hookApi(p)` pick the api process of pair p's person and hook. */
    const phase = async (name: string, seconds: number, personApi: (p: number) => BenchServer, hookApi: (p: number) => BenchServer): Promise<PhaseResult> => {
      const result: PhaseResult = { name, seconds, latencies: [], byKind: new Map(), byStatus: new Map(), failures: [] };
      const tag = `${name}-${randomBytes(3).toString('hex')}`;
      const t1 = performance.now() + seconds * 1000;
      const send = async (kind: string, request: () => Promise<Timed>, ack: Omit<Acknowledged, 'correlationId'>, correlationId: string): Promise<Timed> => {
        let response: Timed;
        try {
          response = await request();
        } catch (error) {
          result.failures.push(`${ack.types.join('+')}: ${(error as Error).message}`);
          count(result.byStatus, 0);
          return { status: 0, body: undefined, ms: 0 };
        }
        count(result.byStatus, response.status);
        result.latencies.push(response.ms);
        result.byKind.set(kind, [...(result.byKind.get(kind) ?? []), response.ms]);
        if (response.status >= 200 && response.status < 300) acknowledged.push({ correlationId, ...ack });
        else if (result.failures.length < 20) result.failures.push(`${ack.types.join('+')} ${response.status}: ${JSON.stringify(response.body).slice(0, 300)}`);
        return response;
      };
      const person = async (p: number): Promise<void> => {
        const { name, token } = people[p];
        const client = benchClient(personApi(p).url, 2, token);
        clients.push(client);
        const session = sessions[p].id;
        const actor = `user:${name}`;
        for (let i = 1; performance.now() < t1; i++) {
          if (i % SPAWN_EVERY === 0) {
            const cid = `${tag}-p${p}-s${i}`;
            const spawnedNow = await send(
              'REST spawn',
              () => client.post('/sessions', { projectId: 'team', agent: 'command', command: ['true'] }, { 'x-correlation-id': cid, 'idempotency-key': cid }),
              { types: ['SessionStarted'], actor },
              cid,
            );
            if (spawnedNow.status === 201) exits.push(spawnedNow.body.id as string);
            continue;
          }
          const callId = `${tag}-p${p}-${i}`;
          const dispatched = await send(
            'REST tool call',
            () =>
              client.post(`/sessions/${session}/tool-calls`, { callId, tool: 'Bash', input: { command: `npm test -- --shard ${i}` }, mode: 'observed' }, { 'x-correlation-id': `${callId}-d`, 'idempotency-key': `${callId}-d` }),
            { types: ['ToolCallDispatched'], actor },
            `${callId}-d`,
          );
          if (dispatched.status !== 201) continue;
          await send(
            'REST result',
            () => client.post(`/sessions/${session}/tool-calls/${callId}/result`, { status: 'completed', exitCode: 0, output: { stdout: `PASS shard ${i}\n` } }, { 'x-correlation-id': `${callId}-r`, 'idempotency-key': `${callId}-r` }),
            { types: ['ToolCallCompleted'], actor },
            `${callId}-r`,
          );
        }
      };
      const hook = async (p: number): Promise<void> => {
        const { id, credential } = sessions[p];
        const client = benchClient(hookApi(p).url, 2, credential);
        clients.push(client);
        const actor = `session:${id}`;
        for (let i = 1; performance.now() < t1; i++) {
          const base = { session_id: `cc-${id}`, cwd: repo, tool_name: 'Bash', tool_use_id: `${tag}-h${p}-${i}`, tool_input: { command: `ls -la src/${i}` } };
          const pre = await send(
            'hook PreToolUse',
            () => client.post('/hooks/claude-code', { ...base, hook_event_name: 'PreToolUse' }, { 'x-runledger-session': id, 'x-correlation-id': `${base.tool_use_id}-pre` }),
            { types: ['ToolCallDispatched'], actor },
            `${base.tool_use_id}-pre`,
          );
          if (pre.status !== 200) continue;
          await send(
            'hook PostToolUse',
            () =>
              client.post(
                '/hooks/claude-code',
                { ...base, hook_event_name: 'PostToolUse', tool_response: { stdout: `file${i}\n`, stderr: '', interrupted: false } },
                { 'x-runledger-session': id, 'x-correlation-id': `${base.tool_use_id}-post` },
              ),
            { types: ['ToolCallCompleted'], actor },
            `${base.tool_use_id}-post`,
          );
        }
      };
      await Promise.all([...people.map((_, p) => person(p)), ...sessions.map((_, p) => hook(p))]);
      return result;
    };

    const baseline = await phase('one-api', BASELINE_SECONDS, () => apiA, () => apiA);
    // Each session's person and hook on different api processes; the people alternate between the two.
    const team = await phase('two-api', SECONDS, (p) => (p % 2 === 0 ? apiA : apiB), (p) => (p % 2 === 0 ? apiB : apiA));

    // Let the runtime watchers record the exits of the sessions spawned during the load, then read the log.
    const db = new PostgresDatabase({ connectionString: database.url, max: 2 });
    type Row = { stream_id: string; type: string; actor: string | null; via: string | null; correlation_id: string | null };
    const read = async (): Promise<Row[]> =>
      (
        await db.query<Row>(
          `SELECT stream_id, type, metadata->>'actor' AS actor, metadata->>'via' AS via, metadata->>'correlationId' AS correlation_id FROM rl_events ORDER BY global_position`,
        )
      ).rows;
    let rows: Row[] = [];
    const settleStart = Date.now();
    for (;;) {
      rows = await read();
      const exited = new Set(rows.filter((r) => r.type === 'SessionExited').map((r) => r.stream_id));
      if (exits.every((id) => exited.has(`session-${id}`)) || Date.now() - settleStart > 60_000) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await db.close();

    const byCorrelation = new Map<string, Row[]>();
    for (const row of rows) if (row.correlation_id) byCorrelation.set(row.correlation_id, [...(byCorrelation.get(row.correlation_id) ?? []), row]);
    const lost: string[] = [];
    const wrongActor: string[] = [];
    for (const ack of acknowledged) {
      const events = byCorrelation.get(ack.correlationId) ?? [];
      for (const type of ack.types) if (!events.some((e) => e.type === type)) lost.push(`${ack.correlationId} ${type}`);
      for (const e of events) if (e.actor !== ack.actor) wrongActor.push(`${ack.correlationId} ${e.type} by ${e.actor} (expected ${ack.actor})`);
    }
    // Every event of the run: a known actor; runledger's own events name their part; no person or agent did an exit.
    const knownActor = /^(user:[a-z0-9_-]+|session:[A-Za-z0-9_-]+|runledger)$/;
    for (const row of rows) {
      if (!row.actor || !knownActor.test(row.actor)) wrongActor.push(`${row.stream_id} ${row.type} by ${row.actor}`);
      else if (row.actor === 'runledger' && !row.via) wrongActor.push(`${row.stream_id} ${row.type} by runledger without via`);
      else if ((row.type === 'SessionExited' || row.type === 'ReconcileCompleted') && row.actor !== 'runledger') wrongActor.push(`${row.stream_id} ${row.type} by ${row.actor}`);
    }
    const exitedRecorded = new Set(rows.filter((r) => r.type === 'SessionExited').map((r) => r.stream_id));
    const missingExits = exits.filter((id) => !exitedRecorded.has(`session-${id}`));
    const reconciles = rows.filter((r) => r.type === 'ReconcileCompleted');

    const describe = (r: PhaseResult): string => {
      const total = r.latencies.length;
      const fiveXX = [...r.byStatus].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
      const statuses = [...r.byStatus].sort(([a], [b]) => a - b).map(([s, c]) => `${s}:${c}`).join(' ');
      return [
        `[${r.name}] requests_per_s: ${(total / r.seconds).toFixed(1)}`,
        `  p50_ms: ${percentile(r.latencies, 50).toFixed(2)}  p99_ms: ${percentile(r.latencies, 99).toFixed(2)}`,
        `  statuses: ${statuses}  5xx: ${fiveXX}`,
        ...[...r.byKind].map(([kind, ms]) => `  ${kind}: ${ms.length} requests, p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms`),
        ...r.failures.slice(0, 5).map((f) => `  failure: ${f}`),
      ].join('\n');
    };
    const rate = (r: PhaseResult) => r.latencies.length / r.seconds;
    const fiveXX = [baseline, team].flatMap((r) => [...r.byStatus]).filter(([s]) => s >= 500 || s === 0).reduce((n, [, c]) => n + c, 0);
    process.stdout.write(
      [
        `${CLIENTS} clients, ${BASELINE_SECONDS} s on one api process, then ${SECONDS} s spread over two`,
        describe(baseline),
        describe(team),
        `ratio requests_two_api_over_one_api: ${(rate(team) / rate(baseline)).toFixed(2)}`,
        `ratio p99_two_api_over_one_api: ${(percentile(team.latencies, 99) / percentile(baseline.latencies, 99)).toFixed(2)}`,
        `acknowledged writes: ${acknowledged.length}; events in the log: ${rows.length}; sessions spawned under load: ${exits.length} (exit recorded: ${exits.length - missingExits.length}); ReconcileCompleted: ${reconciles.length}`,
        `5xx_or_no_answer: ${fiveXX} (target 0)`,
        `lost_acknowledged_events: ${lost.length} (target 0)${lost.length ? ` e.g. ${lost.slice(0, 3).join('; ')}` : ''}`,
        `wrong_actor_events: ${wrongActor.length} (target 0)${wrongActor.length ? ` e.g. ${wrongActor.slice(0, 3).join('; ')}` : ''}`,
        `exits_not_recorded: ${missingExits.length}${missingExits.length ? ` e.g. ${missingExits.slice(0, 3).join(', ')}` : ''}`,
      ].join('\n') + '\n',
    );
  } finally {
    for (const client of clients) client.close();
    for (const id of spawned) await admin?.post(`/sessions/${id}/kill`, {}).catch(() => undefined);
    admin?.close();
    await Promise.all(servers.map((s) => s.stop()));
    await database.drop();
    if (existsSync(root)) rmSync(root, { recursive: true, force: true });
  }
};

runBench(main);
