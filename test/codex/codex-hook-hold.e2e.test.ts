import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithCodex, prepareCodexHome } from '../support/codex/codex-env';
import { FakeResponsesApi, startFakeResponsesApi } from '../support/codex/fake-responses-api';
import { freePort } from '../support/free-port';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'codex-hook-hold-token-0123456789';
const CALLS = 8;

/**
 * The real Codex CLI, launched by runledger, runs eight exec calls while runledger is stopped (SIGTERM) and started
 * again 3 s later (docs/ARCHITECTURE.md §4d): `runledger-hook codex` holds Codex until runledger answers, so every call
 * is checkpointed by its own PreToolUse hook before it runs, its result recorded by its PostToolUse hook, none denied.
 */
describeWithCodex('hooks hold the real Codex CLI across a runledger restart', () => {
  let root: string;
  let server: ServerProcess | undefined;
  let api: FakeResponsesApi | undefined;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rl-codex-hold-'));
  });
  afterAll(async () => {
    await server?.stop();
    await api?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('SIGTERM, back after 3 s: all eight calls recorded by their hooks in order, none denied or unrecorded', async () => {
    api = await startFakeResponsesApi({
      script: [...Array.from({ length: CALLS }, (_, i) => ({ exec: [{ cmd: `sleep 1 && echo call-${i + 1} >> calls.txt` }] })), { text: 'All eight steps done.' }],
    });
    const home = prepareCodexHome(join(root, 'codex-home'), { apiUrl: api.url });
    const env = { ...home.env, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', PORT: String(await freePort()) };
    server = await startServerProcess(env);
    const client = apiClient(server.url, TOKEN);
    expect((await client.post('/projects', { name: 'hold', repoPath: makeRepo(join(root, 'repo')) })).status).toBe(201);
    const spawned = await client.post('/sessions', { projectId: 'hold', agent: 'codex', prompt: 'run the eight steps' });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id;
    const calls = async () => (await client.get(`/sessions/${id}/tool-calls`)).body.toolCalls as Array<Record<string, any>>;

    await eventually(async () => (await calls()).filter((c) => c.status === 'completed').length >= 2, 'two calls recorded', 90_000, 100);
    await server.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 3000)); // runledger is away: Codex's next hook holds
    server = await startServerProcess(env);

    const done = await eventually(async () => {
      const list = await calls();
      return list.length === CALLS && list.every((c) => c.status === 'completed') ? list : null;
    }, 'all eight calls completed', 180_000, 250);
    expect(readFileSync(join(spawned.body.worktrees[0].path, 'calls.txt'), 'utf8')).toBe(Array.from({ length: CALLS }, (_, i) => `call-${i + 1}\n`).join(''));
    const byDispatch = [...done].sort((a, b) => (a.dispatchedAt < b.dispatchedAt ? -1 : 1));
    expect(byDispatch.map((c) => c.callId)).toEqual(api.callIds.slice(0, CALLS));
    expect(done.map((c) => c.source)).toEqual(Array(CALLS).fill('hook')); // none healed from the rollout
    expect(done.every((c) => c.dispatchSource === undefined)).toBe(true); // each checkpointed by its PreToolUse
    const finished = await eventually(async () => {
      const view = (await client.get(`/sessions/${id}`)).body;
      return view.status === 'exited' ? view : null;
    }, 'Codex to exit', 60_000, 200);
    expect(finished).toMatchObject({ exit: { finished: true } }); // adopted after the restart: its exit code is not runledger's to observe
  });
});
