import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { FuzzReport, OpenApiDocument, runFuzz } from './openapi-fuzzer';
import { killTmuxServer } from '../support/tmux';

const TOKEN = 'fuzz-token-0123456789abcdef';
/** Requests per run: 2,000 in `npm test`; `npm run fuzz -- --requests N` sets FUZZ_REQUESTS. */
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2000);
/** A fixed seed in `npm test` (reproducible); `npm run fuzz` draws one unless given `--seed`. */
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);

/** The OpenAPI fuzzer's invariants (invariant 13): 0 5xx, refusals in the error shape and appending nothing, lag back to 0. */
describe(`fuzzing every route of the served OpenAPI document (${REQUESTS} requests, seed ${SEED})`, () => {
  let root: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let sessionId = '';

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-fuzz-'));
    const repo = makeRepo(join(root, 'repo'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', RUNLEDGER_LOG_LEVEL: 'fatal' });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'fuzz', id: 'fz', repoPath: repo })).status).toBe(201);
    sessionId = (await api.post('/sessions', { projectId: 'fz', agent: 'command', command: ['sh', '-c', 'exec sleep 300'] })).body.id;
    expect((await api.post(`/sessions/${sessionId}/tool-calls`, { callId: 'fz-call-1', tool: 'Bash', input: {}, mode: 'observed' })).status).toBe(201);
  }, 180_000); // a PGlite start, a project and a first spawn: seconds on a quiet machine, over a minute on a loaded one
  afterAll(async () => {
    if (sessionId) await api.post(`/sessions/${sessionId}/kill`).catch(() => undefined);
    if (root) killTmuxServer(join(root, 'data', 'tmux.sock')); // the fuzzer's spawns may start tmux runtimes
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers every request without a 5xx, refuses in the error shape without appending, and the projection catches up', async () => {
    const doc = (await (await fetch(`${server.url}/api/docs/openapi.json`)).json()) as OpenApiDocument;
    const report: FuzzReport = await runFuzz(server.url, TOKEN, doc, { projectId: 'fz', sessionId, callId: 'fz-call-1', repoPath: join(root, 'repo') }, REQUESTS, SEED);
    const status = await eventually(async () => {
      const body = (await api.get('/projections/status')).body;
      return body.lag === 0 ? body : null;
    }, 'the projection lag back to 0', 60_000);
    const summary = {
      seed: report.seed, requests: report.requests, routes: report.routes, nested: report.nested, refused: report.refused, accepted: report.accepted,
      byStatus: report.byStatus, serverErrors: report.serverErrors.length, badErrorShape: report.badErrorShape.length,
      refusedButAppended: report.refusedButAppended.length, lagAfter: status.lag, deadLetters: status.deadLetters.count,
    };
    process.stdout.write(`fuzz: ${JSON.stringify(summary)}\n`);
    if (process.env.FUZZ_REPORT) writeFileSync(process.env.FUZZ_REPORT, JSON.stringify({ summary, report }, null, 2));
    expect(report.serverErrors.slice(0, 5)).toEqual([]);
    expect(report.badErrorShape.slice(0, 5)).toEqual([]);
    expect(report.refusedButAppended.slice(0, 5)).toEqual([]);
    expect(status.deadLetters.count).toBe(0);
    expect(report.requests).toBe(REQUESTS);
    if (REQUESTS >= 1000) expect(report.nested).toBeGreaterThan(0); // the nested shapes were reached
  }, 60_000 + REQUESTS * 500);
});
