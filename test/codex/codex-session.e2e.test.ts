import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { listPidsWithEnv, readProcStat, readStartTime } from '@runledger/infra/runtime';
import { CodexHome, describeWithCodex, ECHO_MCP_SERVER, execFlags, prepareCodexHome, rolloutCalls, rolloutOf, rolloutsOf, runCodex } from '../support/codex/codex-env';
import { FakeResponsesApi, startFakeResponsesApi } from '../support/codex/fake-responses-api';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { killProcessGroups } from '../support/process-groups';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'codex-session-token-0123456789ab';

/** The live processes launched for runledger session `id` by the runledger of `dataDir` (its agent and its tools' children): pid, start time, command line. */
const sessionProcesses = (id: string, dataDir: string) =>
  listPidsWithEnv(`RUNLEDGER_SESSION_ID=${id}`).flatMap((pid) => {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`RUNLEDGER_AGENT_HOME=${dataDir}`)) return []; // this suite's run only
      return [{ pid, startTime: readStartTime(pid)!, command: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() }];
    } catch {
      return []; // gone meanwhile
    }
  });

const byId = <T extends { callId: string }>(items: T[]) => [...items].sort((a, b) => (a.callId < b.callId ? -1 : 1));
const engines = ['pglite', 'postgres'] as const;

describeWithCodex('the real Codex CLI launched by runledger (docs/ARCHITECTURE.md §4d)', () => {
  for (const engine of engines) {
    const pg = chosenPostgres();
    const skip = engine === 'postgres' && 'skip' in pg ? pg.skip : null;
    (skip ? describe.skip : describe)(`[${engine}${skip ? `: ${skip}` : ''}]`, () => {
      let root: string;
      let fake: FakeResponsesApi;
      let home: CodexHome;
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
      const spawnCodex = async (prompt: string) => {
        const spawned = await api.post('/sessions', { projectId: 'cx', agent: 'codex', prompt });
        expect(spawned.status).toBe(201);
        agents.push(spawned.body.runtime.pid);
        return { id: spawned.body.id as string, worktree: spawned.body.worktrees[0].path as string, pid: spawned.body.runtime.pid as number, startTime: spawned.body.runtime.startTime as string };
      };
      const session = async (id: string) => (await api.get(`/sessions/${id}`)).body;
      const events = async (id: string) => (await api.get(`/sessions/${id}/events?limit=1000`)).body.events as Array<{ type: string; data: any; metadata: any }>;
      const toolCalls = async (id: string) => (await api.get(`/sessions/${id}/tool-calls`)).body.toolCalls as Array<Record<string, any>>;
      const logEqualsRollout = async (id: string) => {
        const view = await session(id);
        const calls = rolloutCalls(rolloutOf(home, view.agentSessionId));
        const logged = await toolCalls(id);
        expect(byId(logged.map((c) => ({ callId: c.callId, tool: c.tool, status: c.status })))).toEqual(byId(calls));
        return { calls, logged, view };
      };

      beforeAll(async () => {
        root = mkdtempSync(join(tmpdir(), `rl-codex-${engine}-`));
        fake = await startFakeResponsesApi();
        home = prepareCodexHome(join(root, 'codex-home'), { apiUrl: fake.url, mcpServers: { echo: { command: process.execPath, args: [ECHO_MCP_SERVER] } } });
        if (engine === 'postgres' && !('skip' in pg)) ({ url: databaseUrl, drop } = await createTestDatabase(pg));
        await start();
        expect((await api.post('/projects', { name: 'cx', repoPath: makeRepo(join(root, 'repo')), hookHoldSeconds: 2 })).status).toBe(201);
      });
      afterAll(async () => {
        killProcessGroups(agents);
        await server?.stop('SIGKILL');
        await fake?.close();
        await drop?.();
        if (root) rmSync(root, { recursive: true, force: true });
      });

      it('records exec (succeeding and failing), apply_patch and an MCP call live, equal to the rollout call for call; the thread is the agent session; `exited` 0', async () => {
        fake.push(
          { exec: [{ cmd: 'echo hello > hello.txt && cat hello.txt' }] },
          { exec: [{ cmd: 'ls /no/such/dir' }] },
          { patch: '*** Begin Patch\n*** Add File: patched.txt\n+patched by codex\n*** End Patch\n' },
          { mcp: { server: 'echo', tool: 'echo', arguments: { text: 'over mcp' } } },
          { text: 'All four done.' },
        );
        const { id, worktree } = await spawnCodex('do four things');
        const done = await eventually(async () => {
          const view = await session(id);
          return view.status === 'exited' ? view : null;
        }, 'the Codex session to exit', 60_000);
        expect(done).toMatchObject({ agent: 'codex', runtime: { exitCode: 0 }, exit: { finished: true }, runs: { open: 0 } });
        expect(readFileSync(join(worktree, 'patched.txt'), 'utf8')).toBe('patched by codex\n');
        const { calls, logged, view } = await logEqualsRollout(id);
        expect(calls.map((c) => c.status)).toEqual(['completed', 'failed', 'completed', 'completed']);
        expect(calls.map((c) => c.tool)).toEqual(['Bash', 'Bash', 'apply_patch', 'mcp__echo__echo']);
        expect(view.agentSessionId).toMatch(/^[0-9a-f-]{36}$/);
        // Every call was checkpointed at PreToolUse, by the hook, before it ran (none healed from the rollout).
        expect(logged.every((c) => c.source !== 'transcript')).toBe(true);
        expect(view.divergences ?? []).toEqual([]);
        expect((await api.post(`/sessions/${id}/reconcile`)).body).toMatchObject({ outcome: 'unchanged', appended: 0 });
        // File effects (docs/ARCHITECTURE.md §4e) from Codex's hooks: each call's diff is exactly its own change.
        const byTool = (tool: string) => logged.filter((c) => c.tool === tool).sort((a, b) => (a.dispatchedAt < b.dispatchedAt ? -1 : 1));
        const diffFiles = async (callId: string) => (await api.get(`/sessions/${id}/tool-calls/${callId}/diff`)).body.files;
        expect(await diffFiles(byTool('Bash')[0].callId)).toEqual([{ path: 'hello.txt', status: 'added', additions: 1, deletions: 0 }]);
        expect(await diffFiles(byTool('Bash')[1].callId)).toEqual([]);
        expect(await diffFiles(byTool('apply_patch')[0].callId)).toEqual([{ path: 'patched.txt', status: 'added', additions: 1, deletions: 0 }]);
      });

      it('imports a Codex run started by hand (runledger import codex): its calls equal the rollout, a second import appends nothing', async () => {
        fake.push({ exec: [{ cmd: 'echo by-hand > by-hand.txt' }] }, { exec: [{ cmd: 'false' }] }, { text: 'Done by hand.' });
        const repo = makeRepo(join(root, `hand-repo`));
        expect((await api.post('/projects', { name: 'hand', repoPath: repo })).status).toBe(201);
        const run = await runCodex(['exec', ...execFlags(), 'work by hand'], { cwd: repo, home });
        expect(run.code).toBe(0);
        const threadId = run.events.find((e) => e.type === 'thread.started')!.thread_id as string;
        const rollout = rolloutOf(home, threadId);
        const cliEnv = { ...home.env, RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN };
        const first = await runCli(['import', 'codex', rollout, '--json'], cliEnv);
        expect(first).toMatchObject({ code: 0 });
        const imported = JSON.parse(first.stdout);
        expect(imported).toMatchObject({ toolCalls: 2, completed: 1, failed: 1, skippedLines: 0, subagentToolCalls: 0 });
        const view = await session(imported.sessionId);
        expect(view).toMatchObject({ agent: 'external', projectId: 'hand', agentSessionId: threadId });
        await logEqualsRollout(imported.sessionId);
        const again = await runCli(['import', 'codex', '--all', '--project', 'hand'], cliEnv);
        expect(again).toMatchObject({ code: 0 });
        expect(again.stdout).toContain('0 events appended (all already imported)');
      });

      it('records a Codex run started by hand once install-hooks is in place (no bypass flag: its hooks trusted); uninstall puts both files back byte for byte', async () => {
        const repo = makeRepo(join(root, 'recorded-repo'));
        expect((await api.post('/projects', { name: 'recorded', repoPath: repo })).status).toBe(201);
        const hooksFile = join(home.home, 'hooks.json');
        const configFile = join(home.home, 'config.toml');
        const ownHooks = '{\n  "hooks": {\n    "Stop": [ { "hooks": [ { "type": "command", "command": "true" } ] } ]\n  }\n}\n';
        writeFileSync(hooksFile, ownHooks);
        const configBefore = readFileSync(configFile, 'utf8');
        const cliEnv = { ...home.env, RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN };
        const installed = await runCli(['codex', 'install-hooks', '--scope', 'user', '--project', 'recorded', '--json'], cliEnv);
        expect(installed).toMatchObject({ code: 0 });
        expect(JSON.parse(installed.stdout).changes).toEqual([expect.objectContaining({ file: hooksFile, action: 'installed' })]);
        expect(readFileSync(configFile, 'utf8')).toContain('trusted_hash');

        fake.push({ exec: [{ cmd: 'echo recorded > recorded.txt' }] }, { text: 'Recorded.' });
        const run = await runCodex(['exec', '--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', 'work while recorded'], { cwd: repo, home, env: { RUNLEDGER_TOKEN: TOKEN } });
        expect(run.code).toBe(0);
        const threadId = run.events.find((e) => e.type === 'thread.started')!.thread_id as string;
        const found = await eventually(async () => (await api.get(`/sessions?agentSessionId=${threadId}`)).body.sessions[0], 'the hand-started run to be recorded');
        expect(found).toMatchObject({ agent: 'external', observedAgent: 'codex', projectId: 'recorded' });
        const logged = await eventually(async () => {
          const calls = await toolCalls(found.id);
          return calls.length === 1 && calls[0].status === 'completed' ? calls : null;
        }, 'its call recorded by its hooks');
        expect(logged[0]).toMatchObject({ tool: 'Bash', source: 'hook', input: { command: 'echo recorded > recorded.txt' } });
        await logEqualsRollout(found.id);
        const status = await runCli(['codex', 'status', '--json'], cliEnv, repo);
        expect(JSON.parse(status.stdout)).toMatchObject({ settings: expect.arrayContaining([expect.objectContaining({ scope: 'user', installed: true, runner: 'shim' })]) });

        const removed = await runCli(['codex', 'uninstall-hooks', '--scope', 'user', '--json'], cliEnv);
        expect(removed).toMatchObject({ code: 0 });
        expect(JSON.parse(removed.stdout).changes).toEqual([expect.objectContaining({ action: 'restored' })]);
        expect(readFileSync(hooksFile, 'utf8')).toBe(ownHooks);
        expect(readFileSync(configFile, 'utf8')).toBe(configBefore);
        rmSync(hooksFile);
      });

      // The remote flight recorder (docs/ARCHITECTURE.md §4f) with Codex: one engine is enough (the hooks and the archive
      // do not touch the store's engine).
      (engine === 'pglite' ? it : it.skip)('records a Codex run started by hand into a team server with install-hooks --server: a remote session under its person and machine, the rollout shipped byte for byte', async () => {
        const repo = makeRepo(join(root, 'remote-laptop', 'repo')); // registered nowhere: the project comes from --project
        const person = await api.post('/users', { name: 'rita', role: 'writer' });
        expect(person.status).toBe(201);
        const tokenFile = join(root, 'remote-laptop', 'rita.token');
        writeFileSync(tokenFile, `${person.body.token}\n`, { mode: 0o600 });
        const configFile = join(home.home, 'config.toml');
        const configBefore = readFileSync(configFile, 'utf8');
        const cliEnv = { ...home.env, RUNLEDGER_URL: 'http://127.0.0.1:9', RUNLEDGER_TOKEN: '' };
        const installed = await runCli(['codex', 'install-hooks', '--server', server.url, '--token-file', tokenFile, '--project', 'cx', '--json'], cliEnv, repo);
        expect(installed).toMatchObject({ code: 0, stderr: '' });
        expect(JSON.parse(installed.stdout)).toMatchObject({ server: server.url, project: 'cx', roots: [repo] });
        expect(readFileSync(join(home.home, 'hooks.json'), 'utf8')).toContain(`--project cx --token-file ${tokenFile}`);

        fake.push({ exec: [{ cmd: 'echo remote > remote.txt' }] }, { exec: [{ cmd: 'ls /no/such/dir' }] }, { text: 'Recorded remotely.' });
        const run = await runCodex(['exec', '--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', 'work on the laptop'], { cwd: repo, home, env: { RUNLEDGER_TOKEN: '' } });
        expect(run.code).toBe(0);
        const threadId = run.events.find((e) => e.type === 'thread.started')!.thread_id as string;
        const found = await eventually(async () => (await api.get(`/sessions?agentSessionId=${threadId}`)).body.sessions[0], 'the remote run to be recorded');
        expect(found).toMatchObject({ agent: 'external', observedAgent: 'codex', projectId: 'cx', remote: { host: hostname(), person: 'rita' } });
        await eventually(async () => (await toolCalls(found.id)).filter((c) => c.status !== 'dispatched').length === 2, 'both calls ended');
        const { logged } = await logEqualsRollout(found.id);
        expect(logged.map((c) => c.status).sort()).toEqual(['completed', 'failed']);
        expect(logged.find((c) => c.status === 'failed')).toMatchObject({ source: 'hook', result: { exitCode: 2 } }); // read from the shipped rollout
        // Codex writes its turn's end after its last hook (Stop): the shim ships that tail a moment later.
        const archived = async () => Buffer.from(await (await fetch(`${server.url}/api/v1/sessions/${found.id}/transcript`, { headers: { authorization: `Bearer ${TOKEN}` } })).arrayBuffer());
        await eventually(async () => (await archived()).equals(readFileSync(rolloutOf(home, threadId))), 'the rollout shipped whole', 15_000, 200);

        const removed = await runCli(['codex', 'uninstall-hooks', '--json'], cliEnv, repo);
        expect(JSON.parse(removed.stdout).changes).toEqual([expect.objectContaining({ action: 'removed-file' })]);
        expect(readFileSync(configFile, 'utf8')).toBe(configBefore);
      });

      it('runledger SIGKILLed during a long exec and started after Codex finished: every rollout call in the log, `exited`, Codex never launched again', async () => {
        fake.push({ exec: [{ cmd: 'sleep 4 && echo slept' }] }, { exec: [{ cmd: 'echo after > after.txt' }] }, { text: 'Finished.' });
        const { id, pid, startTime } = await spawnCodex('a long job');
        await eventually(async () => (await toolCalls(id)).some((c) => c.status === 'dispatched' && String(c.input?.command).startsWith('sleep')), 'the long exec to be dispatched', 60_000, 100);
        await server.stop('SIGKILL');
        await eventually(() => readStartTime(pid) !== startTime, 'Codex to finish while runledger is down', 90_000, 200);
        const requestsBefore = fake.requests.length;

        await start();
        const after = await eventually(async () => {
          const view = await session(id);
          return view.status === 'exited' ? view : null;
        }, 'the restarted runledger to record the finished Codex as exited', 90_000, 200);
        expect(after).toMatchObject({ exit: { finished: true }, runs: { open: 0 } });
        expect((await events(id)).filter((e) => e.type === 'SessionRuntimeLaunched')).toHaveLength(1);
        expect(fake.requests.length).toBe(requestsBefore); // nothing re-run
        const { logged } = await logEqualsRollout(id);
        expect(logged.find((c) => String(c.input?.command).startsWith('sleep'))).toMatchObject({ status: 'completed', source: 'transcript' });
        // While runledger was down, the next exec's PreToolUse held 2 s and then blocked it (fail closed): Codex never ran it.
        expect(existsSync(join(after.worktrees[0].path, 'after.txt'))).toBe(false);
        expect((await api.post(`/sessions/${id}/reconcile`)).body).toMatchObject({ outcome: 'unchanged', appended: 0 });
      });

      it('Codex and runledger both killed mid-exec: the orphaned exec child is stopped at reconcile, its call `interrupted` naming it, and the same thread continues natively', async () => {
        fake.push({ exec: [{ cmd: 'sleep 300; echo never' }] });
        const { id, pid, worktree } = await spawnCodex('a job cut short');
        await eventually(async () => (await toolCalls(id)).some((c) => c.status === 'dispatched' && String(c.input?.command).startsWith('sleep 300')), 'the long exec to be dispatched', 60_000, 100);
        const threadId = (await session(id)).agentSessionId as string;
        const orphan = await eventually(() => sessionProcesses(id, join(root, 'data')).find((p) => p.command.startsWith('sleep 300')), 'the exec child to run', 30_000, 100);
        await server.stop('SIGKILL');
        killProcessGroups([pid]); // Codex itself (its npm wrapper and binary); its exec child runs in a session of its own
        await eventually(() => readStartTime(orphan.pid) === orphan.startTime && sessionProcesses(id, join(root, 'data')).every((p) => !p.command.includes(' exec ')), 'Codex gone, its exec child left running');

        fake.push({ exec: [{ cmd: 'echo resumed > resumed.txt' }] }, { text: 'Resumed and done.' });
        await start();
        const done = await eventually(async () => {
          const view = await session(id);
          return view.status === 'exited' && view.resumeMode ? view : null;
        }, 'the natively resumed Codex to finish', 90_000, 200);
        // Stopped by the reconcile, not left to run out its 300 s (a zombie its new parent has not reaped yet is dead too).
        const left = readProcStat(orphan.pid);
        expect(left !== null && left.startTime === orphan.startTime && left.state !== 'Z').toBe(false);
        expect(done).toMatchObject({ agentSessionId: threadId, resumeMode: 'native', exit: { finished: true } });
        const launches = (await events(id)).filter((e) => e.type === 'SessionRuntimeLaunched');
        expect(launches).toHaveLength(2);
        expect(launches[1].data.runtime.command).toEqual(expect.arrayContaining(['resume', threadId]));
        agents.push(launches[1].data.runtime.pid);
        expect(readFileSync(join(worktree, 'resumed.txt'), 'utf8')).toBe('resumed\n');
        expect(rolloutsOf(home).filter((f) => f.endsWith(`-${threadId}.jsonl`))).toHaveLength(1); // the same thread, one rollout

        const logged = await toolCalls(id);
        const cut = logged.find((c) => String(c.input?.command).startsWith('sleep 300'))!;
        expect(cut).toMatchObject({ status: 'interrupted' });
        expect(JSON.stringify(cut)).toContain(`pid ${orphan.pid}`);
        // Every other call equals the rollout; the cut call is in the rollout without a result (Codex never writes one).
        const calls = rolloutCalls(rolloutOf(home, threadId));
        expect(calls.find((c) => c.callId === cut.callId)).toEqual({ callId: cut.callId, tool: 'Bash' });
        expect(byId(logged.filter((c) => c.callId !== cut.callId).map((c) => ({ callId: c.callId, tool: c.tool, status: c.status })))).toEqual(byId(calls.filter((c) => c.callId !== cut.callId)));
      });
    });
  }
});
