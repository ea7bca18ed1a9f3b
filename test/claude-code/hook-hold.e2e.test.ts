import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { describeWithClaude, prepareClaudeHome } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';

const TOKEN = 'hook-hold-admin-token-0123456789';
const CALLS = 10;

/** A TCP port nothing listens on now (the restarted server must come back on the same URL the hooks hold). */
const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

/**
 * The real Claude Code CLI, launched by runledger, runs ten Bash calls that each need permission (they write a file),
 * while runledger is stopped and started again in the middle (docs/ARCHITECTURE.md §4a, invariant 15): the generated command hooks
 * hold the agent until runledger answers, so every call is recorded by its own hooks, in order, and none is denied.
 */
describeWithClaude('hooks hold the real Claude Code CLI across a runledger restart', () => {
  let root: string;
  /** What each case left running (its server, its Messages API stand-in), closed after both, whatever happened. */
  const open = new Map<string, { server?: ServerProcess; api?: FakeAnthropicApi }>();
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rl-hook-hold-'));
  });
  afterAll(async () => {
    for (const { server, api } of open.values()) {
      await server?.stop();
      await api?.close();
    }
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  // The two cases run side by side: each has its own data directory, HOME, port, repository and Messages API stand-in,
  // and each spends most of its time waiting (the agent's ten `sleep 1` calls, runledger's time away).
  it.concurrent.each([['SIGTERM', 3000], ['SIGKILL', 6000]] as const)('%s, back after %i ms: all ten calls recorded by their hooks in order, none denied', async (signal, downMs) => {
    const mine: { server?: ServerProcess; api?: FakeAnthropicApi } = {};
    open.set(signal, mine);
    const api = (mine.api = await startFakeAnthropicApi({
      script: [
        ...Array.from({ length: CALLS }, (_, i) => ({ tools: [{ name: 'Bash', input: { command: `sleep 1 && echo call-${i + 1} >> calls.txt`, description: `step ${i + 1}` } }] })),
        { text: 'All ten steps done.' },
      ],
    }));
    const home = prepareClaudeHome(join(root, `home-${signal}`), { apiUrl: api.url });
    const port = await freePort();
    const env = { ...home.env, RUNLEDGER_DATA_DIR: join(root, `data-${signal}`), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', PORT: String(port) };
    let server = (mine.server = await startServerProcess(env));
    const client = apiClient(server.url, TOKEN);
    expect((await client.post('/projects', { name: `hold-${signal}`, id: `hold-${signal.toLowerCase()}`, repoPath: makeRepo(join(root, `repo-${signal}`)) })).status).toBe(201);
    const spawned = await client.post('/sessions', { projectId: `hold-${signal.toLowerCase()}`, agent: 'claude-code', prompt: 'run the ten steps' });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id;
    const calls = async () => (await client.get(`/sessions/${id}/tool-calls`)).body.toolCalls as Array<Record<string, any>>;

    await eventually(async () => (await calls()).filter((c) => c.status === 'completed').length >= 3, 'three calls recorded', 90_000, 100);
    await server.stop(signal);
    await new Promise((r) => setTimeout(r, downMs)); // runledger is away: the agent's next hook holds
    server = mine.server = await startServerProcess(env);

    const done = await eventually(async () => {
      const list = await calls();
      return list.length === CALLS && list.every((c) => c.status === 'completed') ? list : null;
    }, 'all ten calls completed', 180_000, 250);
    const worktree = spawned.body.worktrees[0].path;
    expect(readFileSync(join(worktree, 'calls.txt'), 'utf8')).toBe(Array.from({ length: CALLS }, (_, i) => `call-${i + 1}\n`).join(''));
    const byDispatch = [...done].sort((a, b) => (a.dispatchedAt < b.dispatchedAt ? -1 : 1));
    expect(byDispatch.map((c) => c.callId)).toEqual(api.toolUseIds.slice(0, CALLS));
    expect(done.map((c) => c.source)).toEqual(Array(CALLS).fill('hook')); // none healed from the transcript
    await api.close();
    mine.api = undefined;
    await server.stop();
    mine.server = undefined;
  });
});
