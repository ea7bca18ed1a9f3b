import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readStartTime } from '@runledger/infra/runtime';
import { agentServerSuite } from '../support/agent-server-suite';
import { FakeGeminiApi, startFakeGeminiApi } from '../support/gemini-cli/fake-gemini-api';
import { chatCalls, describeWithGemini, GeminiHome, prepareGeminiHome, runGemini } from '../support/gemini-cli/gemini-env';
import { makeRepo } from '../support/git-repo';
import { eventually } from '../support/http-client';
import { runCli } from '../support/server-process';

/*
 * The real Gemini CLI (0.61.0) launched by runledger against a scripted Gemini API stand-in, on both engines
 * (docs/ARCHITECTURE.md §4d). One server per engine, few real runs: a Gemini CLI run costs 8-10 s here.
 */

describeWithGemini('the real Gemini CLI launched by runledger (docs/ARCHITECTURE.md §4d)', () =>
  agentServerSuite((engine) => {
    let fake: FakeGeminiApi;
    let home: GeminiHome;
    return {
      token: 'gemini-session-token-0123456789ab',
      projectId: 'gm',
      project: (root) => ({ repoPath: makeRepo(join(root, 'repo')), hookHoldSeconds: 2 }),
      setup: async (root) => {
        fake = await startFakeGeminiApi();
        home = prepareGeminiHome(join(root, 'home'), fake.url);
        // On PostgreSQL the server runs as under GitHub Actions (GITHUB_SHA set): Gemini then passes its hooks only an
        // allow-list of its environment, and the sessions it launches must still be recorded with their own credential.
        return { ...home.env, ...(engine === 'postgres' ? { GITHUB_SHA: '0000000000000000000000000000000000000000' } : {}) };
      },
      teardown: () => fake.close(),
      tests: (rl) => {
        const spawnGemini = (prompt: string) => rl.spawn('gemini-cli', prompt);
        const { session, events, toolCalls } = rl;
        const exited = (id: string) =>
          eventually(async () => {
            const view = await session(id);
            return view.status === 'exited' ? view : null;
          }, 'the Gemini session to exit', 90_000, 200);
        /** The log's calls in dispatch order equal the chat file's, call for call (tool, input, status, exit code); returns both. */
        const logEqualsChat = async (id: string) => {
          const view = await session(id);
          const chat = chatCalls(view.transcriptPath);
          const logged = [...(await toolCalls(id))].sort((a, b) => (a.dispatchedAt < b.dispatchedAt ? -1 : a.dispatchedAt > b.dispatchedAt ? 1 : 0));
          const shape = (c: { tool: string; input: unknown; status: string; exitCode?: number }) => ({ tool: c.tool, input: c.input, status: c.status, exitCode: c.exitCode });
          expect(logged.map((c) => shape({ tool: c.tool, input: c.input, status: c.status, exitCode: c.result?.exitCode }))).toEqual(chat.map(shape));
          // Ids reconciled: a call a hook recorded under its hook id is identified with the chat file's id.
          expect(logged.map((c) => c.agentCallId ?? c.callId)).toEqual(chat.map((c) => c.id));
          return { chat, logged, view };
        };

        it('records run_shell_command (one exiting 3: failed with its code), write_file, replace, read_file and two shell calls back to back live, equal to the chat file; `exited` 0', async () => {
          fake.script(`main-${engine}`, [
            { calls: [{ name: 'run_shell_command', args: { command: 'echo broken; exit 3' } }] },
            { calls: [{ name: 'write_file', args: { file_path: 'notes.txt', content: 'one\n' } }] },
            { calls: [{ name: 'replace', args: { file_path: 'notes.txt', instruction: 'capitalize', old_string: 'one', new_string: 'ONE' } }] },
            { calls: [{ name: 'read_file', args: { file_path: 'notes.txt' } }] },
            { calls: [{ name: 'run_shell_command', args: { command: 'echo first | tee first.txt' } }, { name: 'run_shell_command', args: { command: 'echo second | tee second.txt', wait_for_previous: true } }] },
            { text: 'All done.' },
          ]);
          const { id, worktree } = await spawnGemini(`do five things [script:main-${engine}]`);
          const done = await exited(id);
          expect(done).toMatchObject({ agent: 'gemini-cli', runtime: { exitCode: 0 }, runs: { open: 0 } });
          expect(readFileSync(join(worktree, 'notes.txt'), 'utf8')).toBe('ONE\n');
          const { chat, logged, view } = await logEqualsChat(id);
          expect(chat.map((c) => c.tool)).toEqual(['run_shell_command', 'write_file', 'replace', 'read_file', 'run_shell_command', 'run_shell_command']);
          expect(logged[0]).toMatchObject({ status: 'failed', result: { exitCode: 3 } });
          expect(view.agentSessionId).toMatch(/^[0-9a-f-]{36}$/);
          // Every call was checkpointed by its BeforeTool hook before it ran, none healed from the chat file.
          expect(logged.every((c) => c.dispatchSource === undefined && c.source === 'hook')).toBe(true);
          // Back to back (the second waits for the first): the hooks' 2nd and 3rd shell calls are paired by order per tool.
          const shells = logged.filter((c) => c.tool === 'run_shell_command');
          expect(shells.map((c) => c.callId)).toEqual([1, 2, 3].map((n) => `gemini:${view.agentSessionId}:run_shell_command:${n}`));
          expect(shells.map((c) => c.input.command)).toEqual(['echo broken; exit 3', 'echo first | tee first.txt', 'echo second | tee second.txt']);
          expect(shells.map((c) => String(c.result.output.returnDisplay))).toEqual(['broken', 'first', 'second']);
          expect(view.divergences ?? []).toEqual([]);
          expect((await rl.api.post(`/sessions/${id}/reconcile`)).body).toMatchObject({ outcome: 'unchanged', appended: 0 });
          // File effects from the hooks: each back-to-back call's diff is its own file.
          const diffFiles = async (callId: string) => (await rl.api.get(`/sessions/${id}/tool-calls/${encodeURIComponent(callId)}/diff`)).body.files;
          expect(await diffFiles(shells[1].callId)).toEqual([{ path: 'first.txt', status: 'added', additions: 1, deletions: 0 }]);
          expect(await diffFiles(shells[2].callId)).toEqual([{ path: 'second.txt', status: 'added', additions: 1, deletions: 0 }]);
          // Usage from the chat file's token counts: six model turns of 120 input and 30 output tokens each (the stand-in's).
          expect((await rl.api.get(`/sessions/${id}/usage`)).body).toMatchObject({ inputTokens: 720, outputTokens: 180, cacheReadTokens: 0 });
          // Nothing written into the worktree: the hooks live in the session's private Gemini home.
          expect(existsSync(join(worktree, '.gemini'))).toBe(false);
        });

        it('runledger SIGKILLed during a long shell call and started after Gemini finished: every chat call in the log, `exited`, Gemini never launched again', async () => {
          fake.script(`crash-${engine}`, [
            { calls: [{ name: 'run_shell_command', args: { command: 'sleep 4 && echo slept' } }] },
            { calls: [{ name: 'write_file', args: { file_path: 'after.txt', content: 'after\n' } }] },
            { text: 'Finished.' },
          ]);
          const { id, pid, startTime, worktree } = await spawnGemini(`a long job [script:crash-${engine}]`);
          await eventually(async () => (await toolCalls(id)).some((c) => c.status === 'dispatched' && String(c.input?.command).startsWith('sleep')), 'the long call to be dispatched', 60_000, 100);
          await rl.server.stop('SIGKILL');
          await eventually(() => readStartTime(pid) !== startTime, 'Gemini to finish while runledger is down', 90_000, 200);
          const requestsBefore = fake.requests.length;

          await rl.start();
          const after = await exited(id);
          expect(after).toMatchObject({ runs: { open: 0 } });
          expect((await events(id)).filter((e) => e.type === 'SessionRuntimeLaunched')).toHaveLength(1);
          expect(fake.requests.length).toBe(requestsBefore); // nothing re-run
          const { logged } = await logEqualsChat(id);
          // The long call, checkpointed by its hook, got its result from the chat file under the hook's id.
          expect(logged[0]).toMatchObject({ callId: `gemini:${after.agentSessionId}:run_shell_command:1`, status: 'completed', source: 'transcript' });
          // While runledger was down, write_file's BeforeTool held 2 s and then blocked it (fail closed): never run, failed in both records.
          expect(existsSync(join(worktree, 'after.txt'))).toBe(false);
          expect(logged[1]).toMatchObject({ tool: 'write_file', status: 'failed', dispatchSource: 'transcript' });
          expect((await rl.api.post(`/sessions/${id}/reconcile`)).body).toMatchObject({ outcome: 'unchanged', appended: 0 });
        });

        /** The chat file of the Gemini session `agentSessionId` under the test's own Gemini home. */
        const chatFileOf = (agentSessionId: string): string => {
          const tmp = join(home.home, '.gemini', 'tmp');
          const found = readdirSync(tmp, { recursive: true, withFileTypes: true })
            .filter((d) => d.isFile() && d.name.startsWith('session-') && d.name.endsWith(`-${agentSessionId.slice(0, 8)}.jsonl`));
          expect(found).toHaveLength(1);
          return join(found[0].parentPath, found[0].name);
        };

        it('imports a Gemini run started by hand (runledger import gemini): its calls equal the chat file, a second import appends nothing; then records one live once install-hooks is in place, and uninstall puts the settings back byte for byte', async () => {
          const repo = makeRepo(join(rl.root, 'hand-repo'));
          expect((await rl.api.post('/projects', { name: 'hand', repoPath: repo })).status).toBe(201);
          const cliEnv = { ...home.env, RUNLEDGER_URL: rl.server.url, RUNLEDGER_TOKEN: 'gemini-session-token-0123456789ab' };
          fake.script(`hand-${engine}`, [
            { calls: [{ name: 'run_shell_command', args: { command: 'echo by-hand | tee by-hand.txt' } }, { name: 'run_shell_command', args: { command: 'false', wait_for_previous: true } }] },
            { text: 'Done by hand.' },
          ]);
          const run = await runGemini(`work by hand [script:hand-${engine}]`, { cwd: repo, home });
          expect(run.code).toBe(0);
          const chat = chatFileOf(run.events.find((e) => e.type === 'init')!.session_id);
          const first = await runCli(['import', 'gemini', chat, '--json'], cliEnv);
          expect(first).toMatchObject({ code: 0 });
          const imported = JSON.parse(first.stdout);
          expect(imported).toMatchObject({ toolCalls: 2, completed: 1, failed: 1, skippedLines: 0 });
          const view = await session(imported.sessionId);
          expect(view).toMatchObject({ agent: 'external', observedAgent: 'gemini-cli', projectId: 'hand' });
          const logged = await logEqualsChat(imported.sessionId);
          expect(logged.logged.map((c) => c.callId)).toEqual(chatCalls(chat).map((c) => c.id)); // Gemini's own ids
          expect(logged.logged[1]).toMatchObject({ status: 'failed', result: { exitCode: 1 } });
          const count = (await events(imported.sessionId)).length;
          const again = await runCli(['import', 'gemini', chat, '--json'], cliEnv);
          expect(again).toMatchObject({ code: 0 });
          expect((await events(imported.sessionId)).length).toBe(count); // nothing appended

          // Flight-recorder mode: runledger's hooks merged into the user's Gemini settings, removed exactly.
          const settingsFile = join(home.home, '.gemini', 'settings.json');
          const own = `${readFileSync(settingsFile, 'utf8').trimEnd()}\n`;
          writeFileSync(settingsFile, own.replace('"general"', '"ui": { "theme": "Default" },\n  "general"'));
          const before = readFileSync(settingsFile, 'utf8');
          const installed = await runCli(['gemini', 'install-hooks', '--scope', 'user', '--project', 'hand', '--json'], cliEnv);
          expect(installed).toMatchObject({ code: 0 });
          expect(JSON.parse(installed.stdout).changes).toEqual([expect.objectContaining({ file: settingsFile, action: 'installed' })]);
          fake.script(`recorded-${engine}`, [{ calls: [{ name: 'write_file', args: { file_path: 'recorded.txt', content: 'recorded\n' } }] }, { text: 'Recorded.' }]);
          const recorded = await runGemini(`work while recorded [script:recorded-${engine}]`, { cwd: repo, home, env: { RUNLEDGER_TOKEN: cliEnv.RUNLEDGER_TOKEN } });
          expect(recorded.code).toBe(0);
          const agentSessionId = recorded.events.find((e) => e.type === 'init')!.session_id as string;
          const found = await eventually(async () => (await rl.api.get(`/sessions?agentSessionId=${agentSessionId}`)).body.sessions[0], 'the hand-started run to be recorded');
          expect(found).toMatchObject({ agent: 'external', observedAgent: 'gemini-cli', projectId: 'hand' });
          const live = await eventually(async () => {
            const calls = await toolCalls(found.id);
            return calls.length === 1 && calls[0].status === 'completed' ? calls : null;
          }, 'its call recorded by its hooks');
          expect(live[0]).toMatchObject({ callId: `gemini:${agentSessionId}:write_file:1`, tool: 'write_file', source: 'hook' });
          await logEqualsChat(found.id);
          const removed = await runCli(['gemini', 'uninstall-hooks', '--scope', 'user', '--json'], cliEnv);
          expect(removed).toMatchObject({ code: 0 });
          expect(JSON.parse(removed.stdout).changes).toEqual([expect.objectContaining({ action: 'restored' })]);
          expect(readFileSync(settingsFile, 'utf8')).toBe(before);
          for (const backup of readdirSync(join(home.home, '.gemini')).filter((n) => n.includes('runledger-backup'))) rmSync(join(home.home, '.gemini', backup));
        });
      },
    };
  }));
