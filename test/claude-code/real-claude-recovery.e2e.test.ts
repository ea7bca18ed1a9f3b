import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { listPidsWithEnv, readStartTime } from '@runledger/infra/runtime';
import { describeWithClaude, prepareClaudeHome, readTranscript, transcriptsOf, transcriptToolUses } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { killProcessGroups } from '../support/process-groups';

const TOKEN = 'real-claude-recovery-token-0123';

/** Every tool call of a transcript and its sub-agents' (`<id>/subagents/*.jsonl`): id, tool, status from its tool_result, input. */
const transcriptCalls = (file: string) => {
  const files = [file];
  const subDir = join(file.replace(/\.jsonl$/, ''), 'subagents');
  if (existsSync(subDir)) for (const f of require('node:fs').readdirSync(subDir) as string[]) if (f.endsWith('.jsonl')) files.push(join(subDir, f));
  const uses = new Map<string, { callId: string; tool: string; input: unknown; status?: string }>();
  for (const f of files) {
    for (const line of readTranscript(f)) {
      const content = line.message?.content;
      if (!Array.isArray(content)) continue;
      for (const block of content) {
        if (line.type === 'assistant' && block.type === 'tool_use' && !uses.has(block.id)) uses.set(block.id, { callId: block.id, tool: block.name, input: block.input });
        if (line.type === 'user' && block.type === 'tool_result' && uses.has(block.tool_use_id)) uses.get(block.tool_use_id)!.status = block.is_error ? 'failed' : 'completed';
      }
    }
  }
  return { files, calls: [...uses.values()] };
};

const byId = <T extends { callId: string }>(items: T[]) => [...items].sort((a, b) => (a.callId < b.callId ? -1 : 1));
/** The process state letter of /proc/<pid>/stat ('Z': exited, not yet reaped), or null when it is gone. */
const processState = (pid: number): string | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
};
/** The same process still runs: its start time is the one recorded and it is no zombie (this machine's PID 1 may leave a killed agent unreaped). */
const processAlive = (pid: number, startTime: string) => readStartTime(pid) === startTime && processState(pid) !== 'Z';
const killProcess = (pid: number) => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
};

const engines = ['pglite', 'postgres'] as const;

describeWithClaude('the real Claude Code CLI launched by runledger: exits, restarts, native resume, the log equal to the transcript', () => {
  for (const engine of engines) {
    const pg = chosenPostgres();
    const skip = engine === 'postgres' && 'skip' in pg ? pg.skip : null;
    (skip ? describe.skip : describe)(`[${engine}${skip ? `: ${skip}` : ''}]`, () => {
      let root: string;
      let fake: FakeAnthropicApi;
      let home: ReturnType<typeof prepareClaudeHome>;
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
      const spawnClaude = async (prompt: string) => {
        const spawned = await api.post('/sessions', { projectId: 'cc', agent: 'claude-code', prompt });
        expect(spawned.status).toBe(201);
        agents.push(spawned.body.runtime.pid);
        return { id: spawned.body.id as string, worktree: spawned.body.worktrees[0].path as string, pid: spawned.body.runtime.pid as number, startTime: spawned.body.runtime.startTime as string };
      };
      const session = async (id: string) => (await api.get(`/sessions/${id}`)).body;
      const events = async (id: string) => (await api.get(`/sessions/${id}/events?limit=1000`)).body.events as Array<{ type: string; data: any; metadata: any }>;
      const toolCalls = async (id: string) => (await api.get(`/sessions/${id}/tool-calls`)).body.toolCalls as Array<Record<string, any>>;
      const logEqualsTranscript = async (id: string, transcript: string) => {
        const { calls } = transcriptCalls(transcript);
        const logged = await toolCalls(id);
        // An attempt interrupted in the log whose result the transcript holds keeps it as a late result (never merged).
        const status = (c: Record<string, any>) => (c.status === 'interrupted' && c.lateResults?.length ? c.lateResults.at(-1).status : c.status);
        expect(byId(logged.map((c) => ({ callId: c.callId, tool: c.tool, status: status(c), input: c.input })))).toEqual(byId(calls));
        return { calls, logged };
      };

      beforeAll(async () => {
        root = mkdtempSync(join(tmpdir(), `rl-real-claude-${engine}-`));
        fake = await startFakeAnthropicApi();
        home = prepareClaudeHome(join(root, 'home'), { apiUrl: fake.url });
        if (engine === 'postgres' && !('skip' in pg)) ({ url: databaseUrl, drop } = await createTestDatabase(pg));
        await start();
        // A short hook hold: while runledger is down, each hook gives up after 2 s (the agent then goes on, denied).
        expect((await api.post('/projects', { name: 'cc', repoPath: makeRepo(join(root, 'repo')), hookHoldSeconds: 2 })).status).toBe(201);
      });
      afterAll(async () => {
        killProcessGroups(agents);
        await server?.stop('SIGKILL');
        await fake?.close();
        await drop?.();
        if (root) rmSync(root, { recursive: true, force: true });
      });

      it('records a session of eight calls live (Bash ok and failing, Write, Read, Edit, a sub-agent\'s calls) equal to its transcript, then `exited` with exit code 0', async () => {
        let worktree = '';
        const file = () => join(worktree, 'notes.txt');
        fake.push(
          { tools: [{ name: 'Bash', input: { command: 'echo hello > hello.txt && cat hello.txt', description: 'write hello' } }] },
          { tools: [{ name: 'Bash', input: { command: 'ls /no/such/dir', description: 'fails' } }] },
          () => ({ tools: [{ name: 'Write', input: { file_path: file(), content: 'alpha\n' } }] }),
          () => ({ tools: [{ name: 'Read', input: { file_path: file() } }] }),
          () => ({ tools: [{ name: 'Edit', input: { file_path: file(), old_string: 'alpha', new_string: 'beta' } }] }),
          { tools: [{ name: 'Agent', input: { description: 'look around', prompt: 'echo and read', subagent_type: 'general-purpose' } }] },
          { tools: [{ name: 'Bash', input: { command: 'echo from-the-sub-agent', description: 'sub-agent call' } }] },
          () => ({ tools: [{ name: 'Read', input: { file_path: file() } }] }),
          { text: 'Sub-agent done.' },
          { text: 'All done.' },
        );
        const spawned = await spawnClaude('make notes');
        worktree = spawned.worktree;
        const exited = await eventually(async () => {
          const s = await session(spawned.id);
          return s.status === 'exited' ? s : null;
        }, 'the agent to finish and its exit to be recorded', 90000, 200);
        expect(exited).toMatchObject({ status: 'exited', runtime: { exitCode: 0 }, exit: { finished: true }, runs: { open: 0 } });
        expect(exited.divergences).toBeUndefined();
        expect(readFileSync(file(), 'utf8')).toBe('beta\n');

        const [transcript] = transcriptsOf(home.home, worktree);
        const { calls, logged } = await logEqualsTranscript(spawned.id, transcript);
        expect(calls.length).toBeGreaterThanOrEqual(8);
        expect(new Set(calls.map((c) => c.tool))).toEqual(new Set(['Bash', 'Write', 'Read', 'Edit', 'Agent']));
        expect(calls.filter((c) => c.status === 'failed').length).toBeGreaterThanOrEqual(1);
        expect(transcriptCalls(transcript).files.length).toBeGreaterThan(1); // a sub-agent transcript
        expect(logged.every((c) => c.dispatchSource === undefined)).toBe(true); // every call seen live

        // The watcher's delay: from the agent's last hook (SessionEnd) to the recorded exit, as the log shows it.
        const trail = await events(spawned.id);
        const exitedAt = Date.parse(trail.find((e) => e.type === 'SessionExited')!.metadata.recordedAt);
        const lastHookAt = Math.max(...trail.filter((e) => e.type !== 'SessionExited' && e.metadata.via !== 'runtime-watcher').map((e) => Date.parse(e.metadata.recordedAt)));
        process.stdout.write(`[real claude ${engine}] exit recorded ${exitedAt - lastHookAt} ms after the agent's last hook\n`);
        expect(trail.filter((e) => e.type === 'SessionRuntimeLaunched')).toHaveLength(1);
        expect((await api.post(`/sessions/${spawned.id}/reconcile`)).body).toMatchObject({ outcome: 'unchanged', appended: 0 });
      });

      it('records how an agent that dies on its own while runledger runs ended (SIGKILL mid-call), and does not relaunch it', async () => {
        fake.push({ tools: [{ name: 'Bash', input: { command: 'kill -KILL $PPID', description: 'the agent kills itself' } }] });
        const spawned = await spawnClaude('this will die');
        const exited = await eventually(async () => {
          const s = await session(spawned.id);
          return s.status === 'exited' ? s : null;
        }, 'the dead agent to be recorded exited', 60000, 200);
        expect(exited).toMatchObject({ runtime: { signal: 'SIGKILL' }, exit: { finished: false }, toolCalls: { interrupted: 1 } });
        expect((await events(spawned.id)).filter((e) => e.type === 'SessionRuntimeLaunched')).toHaveLength(1);
      });

      it('runledger SIGKILLed during a long call and started after the agent finished: `exited`, never relaunched, every transcript call in the log', async () => {
        fake.push(
          { tools: [{ name: 'Bash', input: { command: 'sleep 4 && echo slept', description: 'a long call' } }] },
          { tools: [{ name: 'Bash', input: { command: 'echo after > after.txt', description: 'while runledger is down' } }] },
          { text: 'Finished.' },
        );
        const spawned = await spawnClaude('a long job');
        await eventually(async () => (await toolCalls(spawned.id)).some((c) => c.status === 'dispatched' && String(c.input?.command).startsWith('sleep')), 'the long call to be dispatched', 60000, 100);
        await server.stop('SIGKILL');
        await eventually(() => !processAlive(spawned.pid, spawned.startTime), 'the agent to finish while runledger is down', 90000, 200);
        const requestsBefore = fake.requests.filter((r) => r.kind === 'main').length;

        await start();
        const after = await eventually(async () => {
          const s = await session(spawned.id);
          return s.status === 'exited' ? s : null;
        }, 'the restarted runledger to record the finished agent as exited', 90000, 200);
        expect(after).toMatchObject({ exit: { finished: true }, runs: { open: 0 } });
        expect((await events(spawned.id)).filter((e) => e.type === 'SessionRuntimeLaunched')).toHaveLength(1);
        expect(fake.requests.filter((r) => r.kind === 'main').length).toBe(requestsBefore); // nothing re-run
        const transcripts = transcriptsOf(home.home, spawned.worktree);
        expect(transcripts).toHaveLength(1);

        const { logged } = await logEqualsTranscript(spawned.id, transcripts[0]);
        const sleep = logged.find((c) => String(c.input?.command).startsWith('sleep'))!;
        expect(sleep).toMatchObject({ status: 'completed', source: 'transcript' });
        expect(sleep.dispatchSource).toBeUndefined(); // seen live, its result healed
        const missed = logged.find((c) => String(c.input?.command).startsWith('echo after'))!;
        expect(missed).toMatchObject({ dispatchSource: 'transcript', source: 'transcript' });
        const kinds = (after.divergences ?? []).map((d: { kind: string }) => d.kind).sort();
        expect(kinds).toEqual(['call_only_in_transcript', 'result_only_in_transcript']);

        const again = (await api.post(`/sessions/${spawned.id}/reconcile`)).body;
        expect(again).toMatchObject({ appended: 0, outcome: 'unchanged' });
      });

      it('runledger and the agent both killed mid-run: after the restart the same Claude session continues natively under the same id', async () => {
        const long = 'node -e "setTimeout(() => {}, 30000)"'; // the CLI refuses a long `sleep`
        fake.push({ tools: [{ name: 'Bash', input: { command: long, description: 'cut short' } }] });
        const spawned = await spawnClaude('a job cut short');
        await eventually(async () => (await toolCalls(spawned.id)).some((c) => c.status === 'dispatched' && c.input?.command === long), 'the long call to be dispatched', 60000, 100);
        const agentSessionId = (await session(spawned.id)).agentSessionId as string;
        // Killed once the transcript holds the call too: the PreToolUse answer can come back before Claude Code writes
        // the call's line (or the file), and a call killed before then is in the log only (the log knows more than the
        // transcript).
        const transcript = await eventually(() => {
          const [file] = transcriptsOf(home.home, spawned.worktree);
          return file && transcriptToolUses(file).some((u) => (u.input as { command?: string }).command === long) ? file : null;
        }, 'the transcript to hold the long call', 30000, 50);
        const linesBefore = readTranscript(transcript).length;
        await server.stop('SIGKILL');
        // The agent and every process of it: Claude Code runs the long call in a process group of its own, which a kill
        // of the agent's group leaves running (the boot reconcile would adopt it and the resume wait for its 30 s).
        const sessionPids = () => listPidsWithEnv(`RUNLEDGER_SESSION_ID=${spawned.id}`).filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`HOME=${home.home}`); // this suite's agents only
          } catch {
            return false; // gone meanwhile
          }
        });
        killProcessGroups([spawned.pid, ...sessionPids()]);
        for (const pid of sessionPids()) killProcess(pid);
        await eventually(() => !processAlive(spawned.pid, spawned.startTime) && sessionPids().length === 0, 'the agent and its call to be gone');

        fake.push({ tools: [{ name: 'Bash', input: { command: 'echo resumed > resumed.txt', description: 'after the resume' } }] }, { text: 'Resumed and done.' });
        await start();
        const done = await eventually(async () => {
          const s = await session(spawned.id);
          return s.status === 'exited' && s.resumeMode ? s : null;
        }, 'the resumed agent to finish', 90000, 200);
        expect(done).toMatchObject({ id: spawned.id, agentSessionId, resumeMode: 'native', exit: { finished: true } });
        const launches = (await events(spawned.id)).filter((e) => e.type === 'SessionRuntimeLaunched');
        expect(launches).toHaveLength(2);
        expect(launches[1].data).toMatchObject({ resumeMode: 'native', runtime: { command: expect.arrayContaining(['--resume', agentSessionId]) } });
        agents.push(launches[1].data.runtime.pid);

        const transcripts = transcriptsOf(home.home, spawned.worktree);
        expect(transcripts.map((t) => basename(t))).toEqual([`${agentSessionId}.jsonl`]); // no second transcript
        expect(readTranscript(transcripts[0]).length).toBeGreaterThan(linesBefore);
        expect(readFileSync(join(spawned.worktree, 'resumed.txt'), 'utf8')).toBe('resumed\n');
        // The conversation continued: the first request after the restart carried the earlier turns, and the
        // original prompt was not sent again as a new prompt.
        const resumedRequest = fake.requests.filter((r) => r.kind === 'main').at(-2)!;
        const userTexts = resumedRequest.body.messages!.filter((m) => m.role === 'user').map((m) => JSON.stringify(m.content));
        expect(userTexts.filter((t) => t.includes('a job cut short'))).toHaveLength(1);
        const { logged } = await logEqualsTranscript(spawned.id, transcripts[0]);
        expect(logged.find((c) => c.input?.command === long)).toMatchObject({ status: 'interrupted', lateResults: [{ status: 'failed', source: 'transcript' }] });
      });
    });
  }
});
