import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { postgresBinDir, PrivatePostgres, startPrivatePostgres } from '../support/private-postgres';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { Acknowledged, ChaosRun, runChaos } from './chaos-driver';

const TOKEN = 'chaos-token-0123456789abcdef';
/** `npm run chaos -- --seconds N` sets CHAOS_SECONDS (default 300); without it, the short version of `npm test`. */
const SMOKE = process.env.CHAOS_SECONDS === undefined;
/** Seconds of chaos: 10 in `npm test`. */
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 10);
/** Pause between outages: 5–10 s, or 2–4 s in the short version so that it still sees two or three. */
const GAP_MS = SMOKE ? [2000, 4000] : [5000, 10_000];
/** A fixed seed in `npm test`; `npm run chaos` draws one unless given `--seed`. */
const SEED = Number(process.env.CHAOS_SEED ?? 20261130);
const CLIENTS = 8;

/** An event of the log, as the checks read it. */
interface LogRow {
  stream_id: string;
  type: string;
  call_id: string | null;
  global_position: string;
}

/** Every server answer runledger can give while its PostgreSQL goes away (docs/ARCHITECTURE.md §5: 503 with Retry-After). */
const skip = postgresBinDir() === null && process.env.CI !== 'true';
(skip ? describe.skip : describe)(`chaos: PostgreSQL stopped for 0–2 s every ${GAP_MS[0] / 1000}–${GAP_MS[1] / 1000} s under ${CLIENTS} clients (${SECONDS} s, seed ${SEED})`, () => {
  let root: string;
  let pg: PrivatePostgres;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  const tail = { positions: new Set<number>(), abort: new AbortController(), ended: '' };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-chaos-'));
    pg = await startPrivatePostgres();
    const repo = makeRepo(join(root, 'repo'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: pg.url, RUNLEDGER_LOG_LEVEL: 'warn' });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'chaos', id: 'ch', repoPath: repo })).status).toBe(201);
    // One live tail of the global feed through the whole run: the subscription under it must outlive every outage.
    void (async () => {
      const response = await fetch(`${server.url}/api/v1/events`, { headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/event-stream' }, signal: tail.abort.signal });
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const id = /^id: (\d+)$/m.exec(buffer.slice(0, end));
          if (id) tail.positions.add(Number(id[1]));
          buffer = buffer.slice(end + 2);
        }
      }
      tail.ended = 'the server ended the live tail';
    })().catch((error: Error) => (tail.ended ||= error.name === 'AbortError' ? '' : error.message));
  }, 120_000);

  afterAll(async () => {
    tail.abort.abort();
    if (api && server?.child.exitCode === null) {
      const sessions = (await api.get('/sessions').catch(() => ({ body: { sessions: [] } }))).body.sessions as { id: string; status: string }[];
      for (const s of sessions.filter((x) => x.status !== 'terminated')) await api.post(`/sessions/${s.id}/kill`).catch(() => undefined);
    }
    await server?.stop();
    await pg?.destroy();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 120_000);

  it('loses no acknowledged event, answers 503 with Retry-After (never 500) while down, and the api, the live tail and the projection recover without a restart', async () => {
    const run: ChaosRun = await runChaos({
      baseUrl: server.url, token: TOKEN, projectId: 'ch', clients: CLIENTS, seconds: SECONDS, seed: SEED, minGapMs: GAP_MS[0], maxGapMs: GAP_MS[1],
      outage: { stop: () => pg.stop('immediate'), start: () => pg.start() },
    });
    const alive = server.child.exitCode === null && server.child.signalCode === null;
    if (!alive) throw new Error(`runledger exited during the run (${server.child.exitCode ?? server.child.signalCode}):\n${server.output().slice(-4000)}`);

    // The projection catches up without a restart, and the read models hold every acknowledged call.
    const status = await eventually(async () => {
      const response = await api.get('/projections/status');
      return response.status === 200 && response.body.lag === 0 ? response.body : null;
    }, 'the projection lag back to 0', 60_000, 200);
    const health = await api.get('/health');

    const db = new Client({ connectionString: pg.url });
    await db.connect();
    // For the report: the stream of the first session a request was refused for (why it was refused).
    const refusedSession = /\bch-\d+\b/.exec(run.refused[0] ?? '')?.[0];
    const refusedSessionEvents = refusedSession
      ? (await db.query(`SELECT revision, type, data::text AS data FROM rl_events WHERE stream_id = $1 ORDER BY revision`, [`session-${refusedSession}`])).rows
      : [];
    const rows = (await db.query<LogRow>(`SELECT stream_id, type, data->>'callId' AS call_id, global_position::text FROM rl_events ORDER BY global_position`)).rows;
    await db.end();
    const inLog = new Set(rows.map((r) => `${r.stream_id} ${r.type} ${r.call_id ?? ''}`));
    const key = (a: Acknowledged) => `session-${a.sessionId} ${a.type} ${a.callId ?? ''}`;
    const lost = run.acknowledged.filter((a) => !inLog.has(key(a)));

    const notInReadModels: string[] = [];
    for (const sessionId of new Set(run.acknowledged.map((a) => a.sessionId))) {
      const calls = new Map(((await api.get(`/sessions/${sessionId}/tool-calls`)).body.toolCalls as { callId: string; status: string }[]).map((c) => [c.callId, c.status]));
      for (const a of run.acknowledged.filter((x) => x.sessionId === sessionId && x.callId)) {
        const seen = calls.get(a.callId!);
        if (!seen || (a.type === 'ToolCallCompleted' && seen !== 'completed')) notInReadModels.push(`${sessionId}/${a.callId} ${a.type}: ${seen ?? 'absent'}`);
      }
    }

    // The live tail delivers every event of the log, the ones appended after the last outage included.
    const positions = rows.map((r) => Number(r.global_position));
    await eventually(() => positions.every((p) => tail.positions.has(p)) || tail.ended, 'the live tail to deliver the whole log', 30_000, 200).catch(() => undefined);
    const missedByTail = positions.filter((p) => !tail.positions.has(p));

    const summary = {
      seed: SEED, seconds: SECONDS, clients: CLIENTS, outages: run.outages, requests: run.requests, byStatus: run.byStatus,
      unavailable503: run.unavailable, missingRetryAfter: run.missingRetryAfter.length, serverErrors: run.serverErrors.length, refused: run.refused.length,
      gaveUp: run.gaveUp.length, acknowledged: run.acknowledged.length, events: rows.length, lost: lost.length, notInReadModels: notInReadModels.length,
      tailDelivered: positions.length - missedByTail.length, tailMissed: missedByTail.length, recoveryMs: run.recoveryMs, lagAfter: status.lag,
      deadLetters: status.deadLetters.count, health: health.body?.status, serverAlive: alive,
    };
    process.stdout.write(`chaos: ${JSON.stringify(summary)}\n`);
    if (process.env.CHAOS_REPORT) writeFileSync(process.env.CHAOS_REPORT, JSON.stringify({ summary, run, lost, notInReadModels, missedByTail, refusedSessionEvents }, null, 2));

    expect(alive).toBe(true);
    expect(run.outages.count).toBeGreaterThan(0);
    expect(run.serverErrors.slice(0, 5)).toEqual([]);
    expect(run.missingRetryAfter.slice(0, 5)).toEqual([]);
    expect({ refused: run.refused.slice(0, 5), refusedSessionEvents: refusedSessionEvents.slice(-3) }).toEqual({ refused: [], refusedSessionEvents: [] });
    expect(run.gaveUp).toEqual([]);
    expect(run.acknowledged.length).toBeGreaterThan(CLIENTS);
    expect(lost.slice(0, 5)).toEqual([]);
    expect(notInReadModels.slice(0, 5)).toEqual([]);
    expect({ missedByTail: missedByTail.slice(0, 5), ended: tail.ended }).toEqual({ missedByTail: [], ended: '' });
    expect(health.status).toBe(200);
    expect(status.deadLetters.count).toBe(0);
  }, 240_000 + SECONDS * 2000);
});
