import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStartTime } from '@runledger/infra/runtime';
import { describeEachAgentEngine } from '../support/agent-server-suite';
import { FakeChatCompletions, startFakeChatCompletions } from '../support/opencode/fake-chat-completions';
import { describeWithOpencode, eventTableCalls, OpencodeHome, OpencodeRun, prepareOpencodeHome, runOpencode } from '../support/opencode/opencode-env';
import { makeRepo } from '../support/git-repo';
import { eventually } from '../support/http-client';
import { runCli } from '../support/server-process';

const TOKEN = 'opencode-session-token-0123456789';
const byId = <T extends { callId: string }>(items: T[]) => [...items].sort((a, b) => (a.callId < b.callId ? -1 : 1));

/** A real OpenCode run costs 15-30 s on a loaded 2-core machine (its first run in a config folder installs @opencode-ai/plugin there). */
const RUN_TIMEOUT_MS = 300_000;

describeWithOpencode('the real OpenCode CLI launched by runledger (docs/ARCHITECTURE.md §4d)', () => {
  // One stand-in and one OpenCode home for the file: OpenCode's first start in a config folder is its slowest.
  let fake: FakeChatCompletions;
  let home: OpencodeHome;
  let shared: string;
  beforeAll(async () => {
    shared = mkdtempSync(join(tmpdir(), 'rl-opencode-home-'));
    fake = await startFakeChatCompletions();
    home = prepareOpencodeHome(shared, { apiUrl: fake.url });
  });
  afterAll(async () => {
    await fake?.close();
    if (shared) rmSync(shared, { recursive: true, force: true });
  });

  // The record is read with the sqlite3 shell where the machine has one; the PostgreSQL block reads it through
  // OpenCode's own `opencode db` instead, so both readers are checked against OpenCode's record.
  const readerEnv = (engine: string): Record<string, string> => (engine === 'postgres' ? { RUNLEDGER_OPENCODE_DB_READER: 'opencode' } : {});
  describeEachAgentEngine(TOKEN, (engine) => ({ ...home.env, ...readerEnv(engine) }), (suite) => {
    const { engine } = suite;
    const api = { get: (path: string) => suite.api.get(path), post: (path: string, body?: unknown) => suite.api.post(path, body) };
    const cliEnv = () => ({ ...home.env, ...readerEnv(engine), RUNLEDGER_URL: suite.server.url, RUNLEDGER_TOKEN: TOKEN });
    /** A run started by hand (no runledger plugin): the import test's subject. */
    let handRepo: string;
    const handPrompt = `work by hand (${engine})`;
    const exited = (id: string) => eventually(async () => {
      const view = await suite.session(id);
      return view.status === 'exited' ? view : null;
    }, 'the OpenCode session to exit', 240_000, 200);
    /** The log's calls equal OpenCode's `event` table call for call: id, tool, status, exit code. */
    const logEqualsRecord = async (id: string) => {
      const view = await suite.session(id);
      const recorded = await eventTableCalls(home, view.agentSessionId);
      const logged = await suite.toolCalls(id);
      expect(byId(logged.map((c) => ({ callId: c.callId, tool: c.tool, status: c.status, ...(c.result?.exitCode !== undefined ? { exitCode: c.result.exitCode } : {}) }))))
        .toEqual(byId(recorded));
      return { recorded, logged, view };
    };

    beforeAll(async () => {
      handRepo = makeRepo(join(suite.root, 'hand-repo'));
      fake.pushFor(handPrompt, { calls: [{ name: 'bash', args: { command: 'echo by-hand > by-hand.txt', description: 'by hand' } }] }, { calls: [{ name: 'bash', args: { command: 'exit 7', description: 'fails' } }] }, { text: 'Done by hand.' });
      expect((await api.post('/projects', { name: 'oc', repoPath: makeRepo(join(suite.root, 'repo')), hookHoldSeconds: 2 })).status).toBe(201);
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
      const { id, worktree } = await suite.spawn('opencode', `do five things (${engine})`, 'oc');
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
    }, RUN_TIMEOUT_MS);

    it('runledger SIGKILLed during a long bash call and started after OpenCode finished: every call in the log, `exited`, OpenCode never launched again', async () => {
      fake.push({ calls: [{ name: 'bash', args: { command: 'sleep 4 && echo slept', description: 'a long job' } }] }, { calls: [{ name: 'bash', args: { command: 'echo after > after.txt', description: 'next' } }] }, { text: 'Finished.' });
      const { id, pid, startTime } = await suite.spawn('opencode', `a long job (${engine})`, 'oc');
      await eventually(async () => (await suite.toolCalls(id)).some((c) => c.status === 'dispatched' && String(c.input?.command).startsWith('sleep')), 'the long call to be dispatched', 120_000, 100);
      await suite.server.stop('SIGKILL');
      await eventually(() => readStartTime(pid) !== startTime, 'OpenCode to finish while runledger is down', 120_000, 200);
      const requestsBefore = fake.requests.length;

      await suite.start();
      const after = await exited(id);
      expect(after).toMatchObject({ exit: { finished: true }, runs: { open: 0 } });
      expect((await suite.events(id)).filter((e) => e.type === 'SessionRuntimeLaunched')).toHaveLength(1);
      expect(fake.requests.length).toBe(requestsBefore); // nothing re-run
      const { logged } = await logEqualsRecord(id);
      expect(logged.find((c) => String(c.input?.command).startsWith('sleep'))).toMatchObject({ status: 'completed', source: 'transcript' });
      // While runledger was down, the next call's tool.execute.before held 2 s and then threw (fail closed): never ran.
      expect(logged.find((c) => String(c.input?.command).startsWith('echo after'))).toMatchObject({ status: 'failed', source: 'transcript' });
      expect(existsSync(join(after.worktrees[0].path, 'after.txt'))).toBe(false);
      expect((await api.post(`/sessions/${id}/reconcile`)).body).toMatchObject({ outcome: 'unchanged', appended: 0 });
    }, RUN_TIMEOUT_MS);

    it('imports an OpenCode run started by hand (runledger import opencode <session>): its calls equal the event table, a second import appends nothing', async () => {
      // Run alone: beside another OpenCode on a loaded machine it was once killed by its timeout, and two OpenCode
      // processes starting at once in a fresh config folder both set it up (one exited 1).
      const run: OpencodeRun = await runOpencode(['run', '--format', 'json', handPrompt], { cwd: handRepo, home, timeoutMs: 240_000 });
      expect({ code: run.code, sessionId: run.sessionId, stderr: run.code === 0 ? '' : run.stderr }).toMatchObject({ code: 0, sessionId: expect.stringMatching(/^ses_/), stderr: '' });
      expect((await api.post('/projects', { name: 'hand', repoPath: handRepo })).status).toBe(201);
      const first = await runCli(['import', 'opencode', run.sessionId!, '--json'], cliEnv());
      expect(first).toMatchObject({ code: 0 });
      const imported = JSON.parse(first.stdout);
      expect(imported).toMatchObject({ toolCalls: 2, completed: 1, failed: 1, skippedLines: 0, subagentToolCalls: 0 });
      expect(await suite.session(imported.sessionId)).toMatchObject({ agent: 'external', observedAgent: 'opencode', projectId: 'hand', agentSessionId: run.sessionId });
      const { logged } = await logEqualsRecord(imported.sessionId);
      expect(logged.find((c) => c.input?.command === 'exit 7')).toMatchObject({ status: 'failed', source: 'import', result: { exitCode: 7 } });
      const again = await runCli(['import', 'opencode', '--all', '--project', 'hand'], cliEnv());
      expect(again).toMatchObject({ code: 0 });
      expect(again.stdout).toContain('0 events appended (all already imported)');
    }, RUN_TIMEOUT_MS);

    it('records an OpenCode run started by hand once install-hooks put the plugin in place; uninstall leaves the plugin folder byte for byte as it was', async () => {
      const repo = makeRepo(join(suite.root, 'recorded-repo'));
      expect((await api.post('/projects', { name: 'recorded', repoPath: repo })).status).toBe(201);
      const plugins = join(home.configDir, 'plugins');
      mkdirSync(plugins, { recursive: true });
      writeFileSync(join(plugins, 'mine.js'), 'export const Mine = async () => ({});\n');
      const folder = () => Object.fromEntries(readdirSync(plugins).map((name) => [name, readFileSync(join(plugins, name), 'utf8')]));
      const before = { plugins: folder(), config: readFileSync(join(home.configDir, 'opencode.json'), 'utf8') };
      const installed = await runCli(['opencode', 'install-hooks', '--project', 'recorded', '--json'], cliEnv());
      expect(installed).toMatchObject({ code: 0 });
      const pluginFile = join(plugins, 'runledger.js');
      expect(JSON.parse(installed.stdout).changes).toEqual([{ file: pluginFile, action: 'installed' }]);

      const prompt = `work while recorded (${engine})`;
      fake.pushFor(prompt, { calls: [{ name: 'bash', args: { command: 'echo recorded > recorded.txt', description: 'recorded' } }] }, { text: 'Recorded.' });
      const run = await runOpencode(['run', '--format', 'json', prompt], { cwd: repo, home, env: { RUNLEDGER_TOKEN: TOKEN } });
      expect(run.code).toBe(0);
      const found = await eventually(async () => (await api.get(`/sessions?agentSessionId=${run.sessionId}`)).body.sessions[0], 'the hand-started run to be recorded');
      expect(found).toMatchObject({ agent: 'external', observedAgent: 'opencode', projectId: 'recorded' });
      const { logged } = await logEqualsRecord(found.id);
      expect(logged).toEqual([expect.objectContaining({ tool: 'bash', source: 'hook', status: 'completed', input: expect.objectContaining({ command: 'echo recorded > recorded.txt' }) })]);
      const status = await runCli(['opencode', 'status', '--json'], cliEnv(), repo);
      expect(JSON.parse(status.stdout)).toMatchObject({ settings: expect.arrayContaining([expect.objectContaining({ scope: 'user', installed: true, runner: 'plugin' })]) });

      const removed = await runCli(['opencode', 'uninstall-hooks', '--json'], cliEnv());
      expect(removed).toMatchObject({ code: 0 });
      expect(JSON.parse(removed.stdout).changes).toEqual([{ file: pluginFile, action: 'removed-file' }]);
      expect({ plugins: folder(), config: readFileSync(join(home.configDir, 'opencode.json'), 'utf8') }).toEqual(before);
      rmSync(plugins, { recursive: true });
    }, RUN_TIMEOUT_MS);
  });
});
