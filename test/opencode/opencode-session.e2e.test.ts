import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStartTime } from '@runledger/infra/runtime';
import { FakeChatCompletions, startFakeChatCompletions } from '../support/opencode/fake-chat-completions';
import { describeWithOpencode, eventTableCalls, OpencodeHome, prepareOpencodeHome } from '../support/opencode/opencode-env';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { killProcessGroups } from '../support/process-groups';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'opencode-session-token-0123456789';
const byId = <T extends { callId: string }>(items: T[]) => [...items].sort((a, b) => (a.callId < b.callId ? -1 : 1));
const engines = ['pglite', 'postgres'] as const;

describeWithOpencode('the real OpenCode CLI launched by runledger (docs/ARCHITECTURE.md §4d)', () => {
  for (const engine of engines) {
    const pg = chosenPostgres();
    const skip = engine === 'postgres' && 'skip' in pg ? pg.skip : null;
    (skip ? describe.skip : describe)(`[${engine}${skip ? `: ${skip}` : ''}]`, () => {
      let root: string;
      let fake: FakeChatCompletions;
      let home: OpencodeHome;
      let server: ServerProcess;
      let api: ReturnType<typeof apiClient>;
      let databaseUrl = '';
      let drop: (() => Promise<void>) | undefined;
      const agents: number[] = [];
      const env = () => ({ ...home.env, DATABASE_URL: databaseUrl, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, RUNLEDGER_KILL_GRACE_MS: '1000' });
      const start = async () => {
        server = await startServerProcess(env());
        api = apiClient(server.url, TOKEN);
      };
      const spawnOpencode = async (prompt: string) => {
        const spawned = await api.post('/sessions', { projectId: 'oc', agent: 'opencode', prompt });
        expect(spawned.status).toBe(201);
        agents.push(spawned.body.runtime.pid);
        return { id: spawned.body.id as string, worktree: spawned.body.worktrees[0].path as string, pid: spawned.body.runtime.pid as number, startTime: spawned.body.runtime.startTime as string };
      };
      const session = async (id: string) => (await api.get(`/sessions/${id}`)).body;
      const events = async (id: string) => (await api.get(`/sessions/${id}/events?limit=1000`)).body.events as Array<{ type: string; data: any }>;
      const toolCalls = async (id: string) => (await api.get(`/sessions/${id}/tool-calls`)).body.toolCalls as Array<Record<string, any>>;
      const exited = (id: string) => eventually(async () => {
        const view = await session(id);
        return view.status === 'exited' ? view : null;
      }, 'the OpenCode session to exit', 120_000, 200);
      /** The log's calls equal OpenCode's `event` table call for call: id, tool, status, exit code. */
      const logEqualsRecord = async (id: string) => {
        const view = await session(id);
        const recorded = await eventTableCalls(home, view.agentSessionId);
        const logged = await toolCalls(id);
        expect(byId(logged.map((c) => ({ callId: c.callId, tool: c.tool, status: c.status, ...(c.result?.exitCode !== undefined ? { exitCode: c.result.exitCode } : {}) }))))
          .toEqual(byId(recorded));
        return { recorded, logged, view };
      };

      beforeAll(async () => {
        root = mkdtempSync(join(tmpdir(), `rl-opencode-${engine}-`));
        fake = await startFakeChatCompletions();
        home = prepareOpencodeHome(join(root, 'opencode-home'), { apiUrl: fake.url });
        if (engine === 'postgres' && !('skip' in pg)) ({ url: databaseUrl, drop } = await createTestDatabase(pg));
        await start();
        expect((await api.post('/projects', { name: 'oc', repoPath: makeRepo(join(root, 'repo')), hookHoldSeconds: 2 })).status).toBe(201);
      });
      afterAll(async () => {
        killProcessGroups(agents);
        await server?.stop('SIGKILL');
        await fake?.close();
        await drop?.();
        if (root) rmSync(root, { recursive: true, force: true });
      });

      it('records bash (one exiting 3), write, edit and read live through its plugin, equal to its event table call for call; `exited` 0', async () => {
        fake.push(
          { calls: [{ name: 'bash', args: { command: 'echo hello > hello.txt && cat hello.txt', description: 'write hello' } }] },
          { calls: [{ name: 'bash', args: { command: 'exit 3', description: 'fail on purpose' } }] },
          { calls: [{ name: 'write', args: { filePath: 'notes.txt', content: 'one\n' } }] },
          { calls: [{ name: 'edit', args: { filePath: 'notes.txt', oldString: 'one', newString: 'two' } }] },
          { calls: [{ name: 'read', args: { filePath: 'notes.txt' } }] },
          { text: 'All five done.' },
        );
        const { id, worktree } = await spawnOpencode('do five things');
        const done = await exited(id);
        expect(done).toMatchObject({ agent: 'opencode', runtime: { exitCode: 0 }, exit: { finished: true }, runs: { open: 0 } });
        expect(readFileSync(join(worktree, 'notes.txt'), 'utf8')).toBe('two\n');
        const { recorded, logged, view } = await logEqualsRecord(id);
        expect(recorded.map((c) => c.tool)).toEqual(['bash', 'bash', 'write', 'edit', 'read']);
        expect(recorded.map((c) => c.status)).toEqual(['completed', 'failed', 'completed', 'completed', 'completed']);
        expect(logged.find((c) => c.input?.command === 'exit 3')).toMatchObject({ status: 'failed', result: { exitCode: 3 } });
        expect(view.agentSessionId).toMatch(/^ses_/);
        // Every call was checkpointed by the plugin's tool.execute.before, before it ran (none healed from the record).
        expect(logged.every((c) => c.source !== 'transcript')).toBe(true);
        expect(view.divergences ?? []).toEqual([]);
        expect((await api.post(`/sessions/${id}/reconcile`)).body).toMatchObject({ outcome: 'unchanged', appended: 0 });
        // Nothing of runledger's in the worktree: the plugin came through the environment.
        expect(existsSync(join(worktree, '.opencode'))).toBe(false);
      });

      it('runledger SIGKILLed during a long bash call and started after OpenCode finished: every call in the log, `exited`, OpenCode never launched again', async () => {
        fake.push({ calls: [{ name: 'bash', args: { command: 'sleep 4 && echo slept', description: 'a long job' } }] }, { calls: [{ name: 'bash', args: { command: 'echo after > after.txt', description: 'next' } }] }, { text: 'Finished.' });
        const { id, pid, startTime } = await spawnOpencode('a long job');
        await eventually(async () => (await toolCalls(id)).some((c) => c.status === 'dispatched' && String(c.input?.command).startsWith('sleep')), 'the long call to be dispatched', 120_000, 100);
        await server.stop('SIGKILL');
        await eventually(() => readStartTime(pid) !== startTime, 'OpenCode to finish while runledger is down', 120_000, 200);
        const requestsBefore = fake.requests.length;

        await start();
        const after = await exited(id);
        expect(after).toMatchObject({ exit: { finished: true }, runs: { open: 0 } });
        expect((await events(id)).filter((e) => e.type === 'SessionRuntimeLaunched')).toHaveLength(1);
        expect(fake.requests.length).toBe(requestsBefore); // nothing re-run
        const { logged } = await logEqualsRecord(id);
        expect(logged.find((c) => String(c.input?.command).startsWith('sleep'))).toMatchObject({ status: 'completed', source: 'transcript' });
        // While runledger was down, the next call's tool.execute.before held 2 s and then threw (fail closed): never ran.
        expect(logged.find((c) => String(c.input?.command).startsWith('echo after'))).toMatchObject({ status: 'failed', source: 'transcript' });
        expect(existsSync(join(after.worktrees[0].path, 'after.txt'))).toBe(false);
        expect((await api.post(`/sessions/${id}/reconcile`)).body).toMatchObject({ outcome: 'unchanged', appended: 0 });
      });
    });
  }
});
