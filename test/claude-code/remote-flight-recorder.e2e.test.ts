import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { freePort } from '../support/free-port';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';
import { describeWithClaude, prepareClaudeHome, runClaude, subagentFiles, transcriptsOf, transcriptToolUses } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';

/** True while a `bin/runledger-hook` process runs with HOME `home` (the laptop's), e.g. its detached re-ship after SessionEnd. */
const laptopHooksRunning = (home: string): boolean =>
  readdirSync('/proc').filter((name) => /^\d+$/.test(name)).some((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('runledger-hook') && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`HOME=${home}`);
    } catch {
      return false; // gone meanwhile
    }
  });

const ADMIN = 'remote-recorder-admin-token-0123456789';
/** Bash calls of the main agent; the server is restarted after the second one completed. */
const CALLS = 6;

/**
 * The remote flight recorder (docs/ARCHITECTURE.md §4f): the real Claude Code CLI runs by hand in a repository and a
 * HOME the server is never told about (the server has its own data directory, HOME and registered repository), with
 * hooks installed by `claude install-hooks --server … --token-file …`. The hooks post to the server with a person's
 * token and ship the transcript's new bytes; the server is restarted mid-run (SIGTERM, back after 3 s). The server's log
 * equals the transcript call for call, its archive equals the transcript (and the sub-agent's) byte for byte, no call is
 * denied or unrecorded, and bytes written to the laptop's transcript without a hook never reach the server's archive
 * (it never reads that path).
 */
describeWithClaude('remote flight recorder: a laptop\'s claude -p recorded into a team server that cannot read its disk', () => {
  let root: string;
  let server: ServerProcess | undefined;
  let anthropic: FakeAnthropicApi | undefined;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rl-remote-'));
  });

  afterAll(async () => {
    await anthropic?.close();
    await server?.stop();
    if (root) rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('hooks and shipped bytes record the session under its person and machine; log equals transcript call for call, archive equals it byte for byte, across a server restart', async () => {
    // The team server: its own data directory, HOME and repository.
    const port = await freePort();
    const serverEnv = { RUNLEDGER_DATA_DIR: join(root, 'server', 'data'), RUNLEDGER_TOKEN: ADMIN, DATABASE_URL: '', PORT: String(port), HOME: join(root, 'server', 'home') };
    mkdirSync(serverEnv.HOME, { recursive: true });
    server = await startServerProcess(serverEnv);
    const admin = apiClient(server.url, ADMIN);
    expect((await admin.post('/projects', { name: 'team', id: 'team', repoPath: makeRepo(join(root, 'server', 'repo')) })).status).toBe(201);
    const added = await admin.post('/users', { name: 'alice', role: 'writer' });
    expect(added.status).toBe(201);

    // The laptop: a repository and a HOME of its own; alice's token in a file only she can read.
    const repo = makeRepo(join(root, 'laptop', 'app'));
    const tokenFile = join(root, 'laptop', 'alice.token');
    writeFileSync(tokenFile, `${added.body.token}\n`, { mode: 0o644 });
    anthropic = await startFakeAnthropicApi({
      script: [
        ...Array.from({ length: CALLS }, (_, i) => ({ tools: [{ name: 'Bash', input: { command: `sleep 1 && echo call-${i + 1} >> calls.txt`, description: `step ${i + 1}` } }] })),
        { tools: [{ name: 'Agent', input: { description: 'look around', prompt: 'echo once', subagent_type: 'general-purpose' } }] },
        { tools: [{ name: 'Bash', input: { command: 'echo from-the-sub-agent', description: 'sub-agent call' } }] },
        { text: 'Sub-agent done.' },
        { text: 'All done.' },
      ],
    });
    const home = prepareClaudeHome(join(root, 'laptop', 'home'), { apiUrl: anthropic.url });
    // The CLI on the laptop knows no local runledger: RUNLEDGER_URL points nowhere, no token, no data directory.
    const laptop = { HOME: home.home, RUNLEDGER_URL: 'http://127.0.0.1:9', RUNLEDGER_TOKEN: '', RUNLEDGER_DATA_DIR: join(root, 'laptop', 'none') };
    const install = ['claude', 'install-hooks', '--server', server.url, '--token-file', tokenFile, '--project', 'team', '--json'];
    const loose = await runCli(install, laptop, repo);
    expect({ code: loose.code, stderr: loose.stderr }).toEqual({ code: 2, stderr: expect.stringContaining(`--token-file ${tokenFile} has mode 0644`) });
    chmodSync(tokenFile, 0o600);
    const installed = await runCli(install, laptop, repo);
    expect(installed.stderr).toBe('');
    const settingsFile = join(repo, '.claude', 'settings.local.json');
    expect(JSON.parse(installed.stdout)).toEqual({ changes: [{ file: settingsFile, action: 'installed' }], roots: [repo], server: server.url, project: 'team' });
    expect(readFileSync(settingsFile, 'utf8')).not.toContain(added.body.token); // the hooks name the file, never the token
    const status = JSON.parse((await runCli(['claude', 'status', '--server', server.url, '--token-file', tokenFile, '--json'], laptop, repo)).stdout);
    expect(status.settings).toEqual(expect.arrayContaining([{ scope: 'local', file: settingsFile, installed: true, runner: 'shim', records: { url: server.url, project: 'team' } }]));

    // A person runs Claude Code by hand; the server is stopped after two calls and back 3 s later.
    const run = runClaude(['-p', 'run the steps, then use a sub-agent'], { cwd: repo, home, env: { RUNLEDGER_TOKEN: '' }, timeoutMs: 240_000 });
    const sessionOf = async () => (await admin.get('/sessions?projectId=team')).body.sessions[0];
    await eventually(async () => ((await sessionOf())?.toolCalls.completed ?? 0) >= 2, 'two calls recorded', 120_000, 100);
    await server.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 3000)); // the server is away: the agent's next hook holds
    server = await startServerProcess(serverEnv);
    const finished = await run;
    expect({ code: finished.code, stderr: finished.stderr }).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(join(repo, 'calls.txt'), 'utf8')).toBe(Array.from({ length: CALLS }, (_, i) => `call-${i + 1}\n`).join('')); // none denied

    const [transcript] = transcriptsOf(home.home, repo);
    const subs = subagentFiles(transcript);
    expect(subs).toHaveLength(1);
    const uses = [...transcriptToolUses(transcript), ...transcriptToolUses(subs[0])];
    expect(uses.map((u) => u.name)).toEqual([...Array(CALLS).fill('Bash'), 'Agent', 'Bash']);
    const session = await eventually(async () => {
      const s = await sessionOf();
      return s?.toolCalls.completed === uses.length ? s : null;
    }, 'every call completed', 30_000);
    expect(session).toMatchObject({ agent: 'external', projectId: 'team', transcriptPath: transcript, remote: { host: hostname(), person: 'alice' } });
    const started = (await admin.get(`/sessions/${session.id}/events?limit=1`)).body.events[0];
    expect(started).toMatchObject({ type: 'SessionStarted', metadata: { actor: 'user:alice', via: 'claude-code-hook' } });

    // Log equals transcript, call for call: every call recorded by its own hooks, none interrupted or late.
    const calls = (await admin.get(`/sessions/${session.id}/tool-calls`)).body.toolCalls as Array<Record<string, any>>;
    const byId = (rows: unknown[][]) => [...rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(byId(calls.map((c) => [c.callId, c.tool, c.status, c.source, c.attempt]))).toEqual(byId(uses.map((u) => [u.id, u.name, 'completed', 'hook', 1])));
    await eventually(async () => (await admin.post(`/sessions/${session.id}/reconcile`, {})).body.appended === 0, 'a reconcile that appends nothing', 30_000);

    // The archive equals the transcripts byte for byte; it came through the shipping route only: bytes written to the
    // laptop's transcript without a hook are not in it after a reconcile and an export (the server never reads the path).
    const archived = async (subagent?: string): Promise<Buffer> => {
      const response = await fetch(`${server!.url}/api/v1/sessions/${session.id}/transcript${subagent ? `?subagent=${subagent}` : ''}`, { headers: { authorization: `Bearer ${ADMIN}` } });
      return Buffer.from(await response.arrayBuffer());
    };
    await eventually(async () => (await archived()).equals(readFileSync(transcript)), 'the main transcript shipped whole', 30_000);
    expect((await archived(basename(subs[0]))).equals(readFileSync(subs[0]))).toBe(true);
    // The hook ships again 1 s and 3 s after SessionEnd, detached (bin/runledger-hook): bytes written before those
    // re-ships end are shipped by a hook. Only bytes written after them are written without one.
    await eventually(() => !laptopHooksRunning(home.home) || null, "the laptop hook's delayed re-ships after SessionEnd to end", 30_000, 100);
    const shipped = readFileSync(transcript);
    appendFileSync(transcript, '{"type":"written-without-a-hook"}\n');
    expect((await admin.post(`/sessions/${session.id}/reconcile`, {})).body).toMatchObject({ appended: 0 });
    expect((await archived()).equals(shipped)).toBe(true);

    // Uninstall restores the laptop's settings exactly (there were none).
    expect(JSON.parse((await runCli(['claude', 'uninstall-hooks', '--json'], laptop, repo)).stdout).changes).toEqual([{ file: settingsFile, action: 'removed-file' }]);
    expect(existsSync(settingsFile)).toBe(false);
  });
});
