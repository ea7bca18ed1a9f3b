import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithClaude, prepareClaudeHome, runClaude } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, MessagesRequest, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';
import { git, makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';

/** The files a call changed, as `GET .../diff` lists them, sorted by path. */
type Changed = Array<{ path: string; status: string; additions: number | null; deletions: number | null }>;

/** A sub-agent's requests carry the prompt the main agent gave it; the main agent's never do. */
const SUB_PROMPT = 'write sub.txt for the parent';
const fromSubagent = (request: MessagesRequest): boolean => JSON.stringify(request.messages?.[0] ?? '').includes(SUB_PROMPT);

/** What the user's repository holds that runledger must never change: objects, refs and the index's bytes. */
const repositoryPrint = (repo: string) => ({
  objects: git(repo, 'count-objects', '-v'),
  refs: git(repo, 'for-each-ref'),
  index: createHash('sha256').update(readFileSync(join(repo, '.git', 'index'))).digest('hex'),
});

/**
 * File effects with the real Claude Code CLI against the scripted Messages API (docs/ARCHITECTURE.md §4e): each call's
 * diff holds exactly its own changes (Write, Edit, Bash `sed -i`/`mv`/`rm`, a sub-agent's Write), a hand edit between
 * two calls belongs to neither, a rewind to before the Bash call restores its files byte for byte and keeps the later
 * state on a ref, and a flight-recorder run leaves the user's repository without a new object, ref or index change.
 */
describeWithClaude('file effects with the real Claude Code CLI', () => {
  let root: string;
  let fake: FakeAnthropicApi;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let cli: Record<string, string>;
  let home: ReturnType<typeof prepareClaudeHome>;
  /** The launched session's worktree, known once it is spawned (the scripted turns name absolute paths in it). */
  let worktree = '';
  /** The admin token, generated into the data directory (where the CLI, and so the installed hooks, read it). */
  let token = '';

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-file-effects-'));
    // The sub-agent's requests are answered apart from the main agent's queue: a Write, then its final answer.
    fake = await startFakeAnthropicApi({
      choose: (request) => {
        if (!fromSubagent(request)) return undefined;
        const answered = (request.messages ?? []).some((m) => JSON.stringify(m.content).includes('tool_result'));
        return answered ? { text: 'Sub-agent done.' } : { tools: [{ name: 'Write', input: { file_path: join(worktree, 'sub.txt'), content: 'from the sub-agent\n' } }] };
      },
    });
    home = prepareClaudeHome(join(root, 'home'), { apiUrl: fake.url });
    server = await startServerProcess({ ...home.env, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: '', DATABASE_URL: '' });
    token = readFileSync(join(root, 'data', 'token'), 'utf8').trim();
    api = apiClient(server.url, token);
    cli = { RUNLEDGER_URL: server.url, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: '' };
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await fake?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('gives each call exactly its own changes, leaves a hand edit to no call, and rewinds to before a Bash call byte for byte', async () => {
    const repo = makeRepo(join(root, 'repo'));
    writeFileSync(join(repo, 'data.txt'), 'alpha\nbeta\n');
    writeFileSync(join(repo, 'old.txt'), 'to be moved\n');
    writeFileSync(join(repo, 'gone.txt'), 'to be removed\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'fixtures');
    expect((await api.post('/projects', { id: 'fx', name: 'fx', repoPath: repo })).status).toBe(201);

    fake.push(
      () => ({ tools: [{ name: 'Write', input: { file_path: join(worktree, 'notes.txt'), content: 'first line\n' } }] }),
      () => ({ tools: [{ name: 'Edit', input: { file_path: join(worktree, 'notes.txt'), old_string: 'first line', new_string: 'first line\nsecond line' } }] }),
      { tools: [{ name: 'Bash', input: { command: "sed -i 's/alpha/ALPHA/' data.txt && mv old.txt new.txt && rm gone.txt", description: 'edit, move, remove' } }] },
      () => {
        // A person edits a file while the agent thinks: between the Bash call's end and the next call's start.
        writeFileSync(join(worktree, 'hand.txt'), 'typed by a person\n');
        return { tools: [{ name: 'Agent', input: { description: 'write a file', prompt: SUB_PROMPT, subagent_type: 'general-purpose' } }] };
      },
      { text: 'All done.' },
    );
    const spawned = await api.post('/sessions', { projectId: 'fx', agent: 'claude-code', prompt: 'change the files' });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id as string;
    worktree = spawned.body.worktrees[0].path;
    await eventually(async () => ((await api.get(`/sessions/${id}`)).body.status === 'exited' ? true : null), 'the run to finish', 120_000, 200);

    const calls = (await api.get(`/sessions/${id}/tool-calls`)).body.toolCalls as Array<{ callId: string; tool: string; runId?: string }>;
    expect(calls.map((c) => c.tool)).toEqual(['Write', 'Edit', 'Bash', 'Agent', 'Write']);
    const diffOf = async (callId: string) => {
      const response = await api.get(`/sessions/${id}/tool-calls/${callId}/diff`);
      expect(response.status).toBe(200);
      return response.body as { files: Changed; patch: string; before: string; after: string; runId?: string };
    };
    const [write, edit, bash, agent, subWrite] = calls;
    expect((await diffOf(write.callId)).files).toEqual([{ path: 'notes.txt', status: 'added', additions: 1, deletions: 0 }]);
    const edited = await diffOf(edit.callId);
    expect(edited.files).toEqual([{ path: 'notes.txt', status: 'modified', additions: 1, deletions: 0 }]);
    expect(edited.patch).toContain('+second line');
    const bashed = await diffOf(bash.callId);
    expect(bashed.files).toEqual([
      { path: 'data.txt', status: 'modified', additions: 1, deletions: 1 },
      { path: 'gone.txt', status: 'deleted', additions: 0, deletions: 1 },
      { path: 'new.txt', status: 'added', additions: 1, deletions: 0 },
      { path: 'old.txt', status: 'deleted', additions: 0, deletions: 1 },
    ]);
    // The sub-agent's Write: its own file, in the sub-agent's run. Claude Code 2.1 runs the sub-agent in the background:
    // the Agent call that started it returned before the Write, and changed nothing itself.
    const subDiff = await diffOf(subWrite.callId);
    expect(subDiff.files).toEqual([{ path: 'sub.txt', status: 'added', additions: 1, deletions: 0 }]);
    expect(subWrite.runId).toMatch(/^subagent:/);
    expect(agent.runId).not.toMatch(/^subagent:/);
    expect((await diffOf(agent.callId)).files).toEqual([]);
    // The hand edit is in no call's diff: the snapshot before the Agent call records it as outside any call.
    for (const call of calls) expect((await diffOf(call.callId)).files.map((f) => f.path)).not.toContain('hand.txt');
    const events = (await api.get(`/sessions/${id}/events`)).body.events as Array<{ revision: number; type: string; data: any }>;
    const outside = events.filter((e) => e.type === 'FilesSnapshotted' && e.data.phase !== 'after' && e.data.changed.some((c: any) => c.path === 'hand.txt'));
    expect(outside).toHaveLength(1);
    expect(outside[0].data).toMatchObject({ phase: 'before', callId: agent.callId, changed: [{ path: 'hand.txt', status: 'added' }] });
    expect(outside[0].data.callsInFlight).toBeUndefined();
    // A snapshot taken while the sub-agent's Write ran (the main agent's run ended meanwhile) names that call.
    const during = events.filter((e) => e.type === 'FilesSnapshotted' && e.data.phase !== 'after' && e.data.changed.some((c: any) => c.path === 'sub.txt'));
    for (const e of during) expect(e.data.callsInFlight).toContain(subWrite.callId);

    // Reading the files at a revision: when the Bash call was dispatched, data.txt still said alpha.
    const bashDispatched = events.find((e) => e.type === 'ToolCallDispatched' && e.data.callId === bash.callId)!;
    const bashResult = events.find((e) => e.type === 'ToolCallCompleted' && e.data.callId === bash.callId)!;
    const atBefore = await fetch(`${server.url}/api/v1/sessions/${id}/files?at=${bashDispatched.revision}&path=data.txt`, { headers: { authorization: `Bearer ${token}` } });
    expect(atBefore.status).toBe(200);
    expect(atBefore.headers.get('content-type')).toContain('application/octet-stream');
    expect(await atBefore.text()).toBe('alpha\nbeta\n');
    const listing = (await api.get(`/sessions/${id}/files?at=${bashResult.revision}`)).body;
    expect(listing.entries.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['data.txt', 'new.txt', 'notes.txt']));
    expect(listing.entries.map((e: { path: string }) => e.path)).not.toContain('old.txt');

    // CLI: the history marks the calls that changed files, diff shows a call's patch.
    const history = await runCli(['history', id], cli);
    expect(history.stdout).toMatch(/Bash \S+ completed .*, files \+2 −3 in 4 files/);
    const cliDiff = await runCli(['diff', id, '--call', bash.callId], cli);
    expect(cliDiff.code).toBe(0);
    expect(cliDiff.stdout).toContain('-alpha');
    expect(cliDiff.stdout).toContain('+ALPHA');

    // Rewind to before the Bash call: its files come back byte for byte, what came later is kept on a ref.
    const later = { notes: readFileSync(join(worktree, 'notes.txt')), sub: readFileSync(join(worktree, 'sub.txt')) };
    const rewound = await api.post(`/sessions/${id}/rewind`, { callId: bash.callId, phase: 'before' });
    expect(rewound.status).toBe(200);
    expect(rewound.body.preservedRef).toBe('refs/runledger/rewinds/1');
    expect(readFileSync(join(worktree, 'data.txt'), 'utf8')).toBe('alpha\nbeta\n');
    expect(readFileSync(join(worktree, 'old.txt'), 'utf8')).toBe('to be moved\n');
    expect(readFileSync(join(worktree, 'gone.txt'), 'utf8')).toBe('to be removed\n');
    for (const file of ['new.txt', 'sub.txt', 'hand.txt']) expect(existsSync(join(worktree, file))).toBe(false);
    expect(readFileSync(join(worktree, 'notes.txt'), 'utf8')).toBe('first line\nsecond line\n');
    const preserved = await api.get(`/sessions/${id}/files?at=${rewound.body.session.revision}`);
    expect(preserved.body.tree).toBe(rewound.body.tree);
    // The revision before the rewind holds the state it preserved; from there to the rewind, everything since the Bash call goes.
    const undone = (await api.get(`/sessions/${id}/diff?from=${rewound.body.session.revision - 1}&to=${rewound.body.session.revision}`)).body;
    expect(undone.before).toBe(rewound.body.preservedTree);
    expect(undone.files.map((f: { path: string }) => f.path).sort()).toEqual(['data.txt', 'gone.txt', 'hand.txt', 'new.txt', 'old.txt', 'sub.txt']);
    expect((await api.get(`/sessions/${id}/diff?from=${bashDispatched.revision}&to=${rewound.body.session.revision}`)).body.files).toEqual([]);
    expect(later.notes.toString()).toBe('first line\nsecond line\n');
    expect(later.sub.toString()).toBe('from the sub-agent\n');

    // Fork after the Edit call: a new session, its own worktree holding exactly the files of that moment, and Claude
    // Code's conversation up to that call's result (resumed natively from a copy, under a new agent session).
    const requestsBeforeFork = fake.requests.length;
    const forked = await api.post(`/sessions/${id}/fork`, { callId: edit.callId, phase: 'after', prompt: 'go on from here' });
    expect(forked.status).toBe(201);
    expect(forked.body).toMatchObject({ status: 'running', forkedFrom: { sessionId: id, callId: edit.callId, phase: 'after', forkMode: 'conversation' } });
    expect(forked.body.agentSessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(forked.body.agentSessionId).not.toBe((await api.get(`/sessions/${id}`)).body.agentSessionId);
    const forkTree = forked.body.worktrees[0].path as string;
    expect(forkTree).not.toBe(worktree);
    expect(readFileSync(join(forkTree, 'notes.txt'), 'utf8')).toBe('first line\nsecond line\n');
    expect(readFileSync(join(forkTree, 'data.txt'), 'utf8')).toBe('alpha\nbeta\n');
    expect(readFileSync(join(forkTree, 'old.txt'), 'utf8')).toBe('to be moved\n');
    for (const file of ['new.txt', 'sub.txt', 'hand.txt']) expect(existsSync(join(forkTree, file))).toBe(false);

    expect((await api.get(`/sessions/${id}/tool-calls/nope/diff`)).status).toBe(404);

    // The store's size in `runledger status`; pruning the session's snapshots frees it and leaves a trace.
    const sizeBefore = (await api.get('/status')).body.snapshots.bytes as number;
    expect(sizeBefore).toBeGreaterThan(0);
    expect((await runCli(['status'], cli)).stdout).toMatch(/snapshots +\d+\.\d MiB of file snapshots/);
    const pruned = await api.raw('DELETE', `/sessions/${id}/snapshots`, { reason: 'done debugging' });
    expect(pruned.status).toBe(200);
    expect((await api.get('/status')).body.snapshots.bytes).toBeLessThan(sizeBefore);
    const gone = await api.get(`/sessions/${id}/tool-calls/${bash.callId}/diff`);
    expect(gone).toMatchObject({ status: 409, body: { code: 'FILES.PRUNED' } });
    expect((await api.raw('DELETE', `/sessions/${id}/snapshots`, {})).status).toBe(200); // twice: nothing more appended
    // The fork's own snapshots hold its files: pruning the session it came from leaves them whole.
    const forkId = forked.body.id as string;
    await eventually(async () => ((await api.get(`/sessions/${forkId}`)).body.status === 'exited' ? true : null), 'the fork\'s run to finish', 120_000, 200);
    // The forked agent's first model request carries the conversation through the Edit call's result and nothing after
    // it, then the fork's prompt; its hooks were its own (linked before the launch: no stale-hook divergence).
    const forkRequest = fake.requests.slice(requestsBeforeFork).find((r) => r.kind === 'main')!;
    const sent = JSON.stringify(forkRequest.body.messages);
    expect(sent).toContain(write.callId);
    expect(sent).toContain(edit.callId);
    expect(sent).not.toContain(bash.callId);
    expect(sent).toContain('go on from here');
    const forkView = (await api.get(`/sessions/${forkId}`)).body;
    expect(forkView.divergences ?? []).toEqual([]);
    const forkFile = await fetch(`${server.url}/api/v1/sessions/${forkId}/files?path=notes.txt`, { headers: { authorization: `Bearer ${token}` } });
    expect(await forkFile.text()).toBe('first line\nsecond line\n');

    // Bad input: 400 naming the field; an unknown call 404.
    expect((await api.post(`/sessions/${id}/rewind`, { callId: bash.callId, phase: 'during' })).body.details.field).toBe('phase');
  });

  it('snapshots a managed call that runledger runs itself, around its dispatch and its result', async () => {
    const spawned = await api.post('/sessions', { projectId: 'fx', agent: 'command', command: ['sh', '-c', 'exec sleep 600'] });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id as string;
    const call = await api.post(`/sessions/${id}/tool-calls?wait=true`, { callId: 'managed-1', tool: 'write_file', input: { path: 'managed.txt', content: 'by runledger\n' }, mode: 'managed' });
    expect(call.body).toMatchObject({ status: 'completed' });
    const diff = await api.get(`/sessions/${id}/tool-calls/managed-1/diff`);
    expect(diff.body.files).toEqual([{ path: 'managed.txt', status: 'added', additions: 1, deletions: 0 }]);
    expect((await api.post(`/sessions/${id}/kill`)).status).toBe(200);
  });

  it('records a flight-recorder run by hand without a new object, ref or index change in the user\'s repository', async () => {
    const repo = makeRepo(join(root, 'own'));
    const hookCli = cli;
    expect((await runCli(['project', 'add', '--id', 'own'], hookCli, repo)).code).toBe(0);
    expect((await runCli(['claude', 'install-hooks'], hookCli, repo)).code).toBe(0);
    const before = repositoryPrint(repo);
    const hand = await startFakeAnthropicApi({
      script: [
        { tools: [{ name: 'Write', input: { file_path: join(repo, 'by-hand.txt'), content: 'one\n' } }] },
        { tools: [{ name: 'Bash', input: { command: 'echo two >> by-hand.txt && echo x >> README.md', description: 'append' } }] },
        { text: 'Done.' },
      ],
    });
    try {
      const run = await runClaude(['-p', 'write and append'], { cwd: repo, home: prepareClaudeHome(join(root, 'home2'), { apiUrl: hand.url }), timeoutMs: 120_000 });
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      await hand.close();
    }
    const session = await eventually(async () => {
      const sessions = (await api.get('/sessions?projectId=own')).body.sessions;
      return sessions.length === 1 && sessions[0].toolCalls.completed === 2 ? sessions[0] : null;
    }, 'the external session with both calls', 30_000).catch(async (error) => {
      throw new Error(`${(error as Error).message}: ${JSON.stringify((await api.get('/sessions?projectId=own')).body)}`);
    });
    const calls = (await api.get(`/sessions/${session.id}/tool-calls`)).body.toolCalls;
    const bashDiff = (await api.get(`/sessions/${session.id}/tool-calls/${calls[1].callId}/diff`)).body;
    expect(bashDiff.files).toEqual([
      { path: 'README.md', status: 'modified', additions: 1, deletions: 0 },
      { path: 'by-hand.txt', status: 'modified', additions: 1, deletions: 0 },
    ]);
    expect(repositoryPrint(repo)).toEqual(before);
    expect((await runCli(['claude', 'uninstall-hooks'], hookCli, repo)).code).toBe(0);
  });
});
