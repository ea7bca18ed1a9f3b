import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port';
import { makeRepo } from '../support/git-repo';
import { apiClient } from '../support/http-client';
import { runCli, runWithInput, ServerProcess, startServerProcess } from '../support/server-process';
import { killProcessGroups } from '../support/process-groups';

const TOKEN = 'cli-e2e-token-0123456789abcdef';
const BIN = join(__dirname, '../../bin/runledger.js');
const FIXTURES = join(__dirname, '../fixtures/claude-code');


/** Runs `runledger <args>` with `input` on stdin (the hook command reads its input there). */
const runCliWithInput = (args: string[], env: Record<string, string | undefined>, input: string) => runWithInput(process.execPath, [BIN, ...args], input, { NO_COLOR: '1', ...env });

/** A 2xx answer (the API answers 200 or 201 depending on the route). */
const ok = (response: { status: number; body: unknown }): void => expect({ status: response.status < 300 ? 'ok' : response.status, body: response.body }).toEqual({ status: 'ok', body: response.body });

const jsonLines = (text: string): any[] => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));

describe('runledger client commands against a real server', () => {
  let root: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let env: Record<string, string>;
  let sessionId: string;
  let running: { id: string; pid: number };
  const pids: number[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-cli-'));
    const repo = makeRepo(join(root, 'repo'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    api = apiClient(server.url, TOKEN);
    // The CLI gets no data dir with a token file: only RUNLEDGER_URL and RUNLEDGER_TOKEN.
    env = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN, RUNLEDGER_DATA_DIR: join(root, 'cli-cwd-data') };

    expect((await api.post('/projects', { id: 'cli', name: 'CLI', repoPath: repo })).status).toBe(201);
    const spawned = await api.post('/sessions', { projectId: 'cli', agent: 'command', command: ['sh', '-c', 'exec sleep 300'] });
    expect(spawned.status).toBe(201);
    sessionId = spawned.body.id;
    pids.push(spawned.body.runtime.pid);
    // A completed call, a failed one, and one in flight when the session is killed (interrupted), then its late result.
    const calls = `/sessions/${sessionId}/tool-calls`;
    ok((await api.post(calls, { callId: 'c1', tool: 'Bash', input: { command: 'ls -la' }, mode: 'observed' })));
    ok((await api.post(`${calls}/c1/result`, { status: 'completed', exitCode: 0, output: 'README.md' })));
    ok((await api.post(calls, { callId: 'c2', tool: 'Bash', input: { command: 'false' }, mode: 'observed' })));
    ok((await api.post(`${calls}/c2/result`, { status: 'failed', exitCode: 2, error: 'boom' })));
    ok((await api.post(calls, { callId: 'c3', tool: 'Read', input: { file_path: '/etc/hostname' }, mode: 'observed' })));
    ok((await api.post(`/sessions/${sessionId}/kill`)));
    ok((await api.post(`${calls}/c3/result`, { status: 'completed', attempt: 1, output: 'late' })));

    const other = await api.post('/sessions', { projectId: 'cli', agent: 'command', command: ['sh', '-c', 'exec sleep 300'] });
    expect(other.status).toBe(201);
    running = { id: other.body.id, pid: other.body.runtime.pid };
    pids.push(running.pid);
  });

  afterAll(async () => {
    killProcessGroups(pids);
    await server?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const allEvents = async (id: string): Promise<any[]> => (await api.get(`/sessions/${id}/events?limit=1000`)).body.events;

  it('exits 3 naming the URL it tried when no server listens', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    for (const args of [['sessions'], ['history', 'x'], ['verify']]) {
      const result = await runCli(args, { RUNLEDGER_URL: url, RUNLEDGER_TOKEN: TOKEN });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(url);
      expect(result.stderr).toMatch(/npm start|runledger start/);
    }
  });

  it('exits 2 on usage errors: bad option values, missing arguments, unknown commands, unknown ids', async () => {
    for (const args of [['replay', sessionId, '--at', 'abc'], ['sessions', '--status', 'bogus'], ['history'], ['nosuch'], ['export', sessionId, '--format', 'xml']]) {
      const result = await runCli(args, env);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
    }
    const unknown = await runCli(['history', 'no-such-session'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/404/);
    const beyond = await runCli(['replay', sessionId, '--at', '100000'], env);
    expect(beyond.code).toBe(2);
    expect(beyond.stderr).toContain('SESSION.REVISION_OUT_OF_RANGE');
  });

  it('exits 1 with the server\'s error on a refused token', async () => {
    const result = await runCli(['sessions'], { ...env, RUNLEDGER_TOKEN: 'wrong-token' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/401/);
  });

  it('sessions --json gives the server\'s snapshots; the table shows them', async () => {
    const json = await runCli(['sessions', '--json'], env);
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout);
    expect(listed).toEqual((await api.get('/sessions')).body);
    expect(listed.sessions.map((s: { id: string }) => s.id)).toEqual(expect.arrayContaining([sessionId, running.id]));

    const filtered = JSON.parse((await runCli(['sessions', '--json', '--project', 'cli', '--status', 'terminated'], env)).stdout);
    expect(filtered.sessions.map((s: { id: string }) => s.id)).toEqual([sessionId]);

    const table = await runCli(['sessions'], env);
    expect(table.code).toBe(0);
    const row = table.stdout.split('\n').find((l) => l.includes(sessionId))!;
    expect(row).toMatch(/terminated/);
    expect(row).toContain('2/3'); // c1 and c2 done, c3 interrupted
  });

  it('history --json prints one line per event; the human lines mark interruptions and late results', async () => {
    const events = await allEvents(sessionId);
    const json = await runCli(['history', sessionId, '--json'], env);
    expect(json.code).toBe(0);
    const lines = jsonLines(json.stdout);
    expect(lines).toHaveLength(events.length);
    expect(lines).toEqual(events);

    const human = await runCli(['history', sessionId], env);
    expect(human.code).toBe(0);
    const text = human.stdout.split('\n').filter(Boolean);
    expect(text).toHaveLength(events.length);
    expect(text.find((l) => l.includes('ToolCallCompleted'))).toMatch(/Bash c1 completed exit 0 in \S+/);
    expect(text.find((l) => l.includes('ToolCallFailed'))).toMatch(/Bash c2 FAILED exit 2 in \S+.*boom/);
    expect(text.find((l) => l.includes('ToolCallInterrupted'))).toMatch(/INTERRUPTED Read c3/);
    expect(text.find((l) => l.includes('ToolCallLateResultRecorded'))).toMatch(/LATE RESULT Read c3 attempt 1 completed/);
  });

  it('replay --at N --json equals GET /state?at=N for every revision; without --at it steps through all of them', async () => {
    const head = (await allEvents(sessionId)).length - 1;
    for (let n = 0; n <= head; n++) {
      const result = await runCli(['replay', sessionId, '--at', String(n), '--json'], env);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual((await api.get(`/sessions/${sessionId}/state?at=${n}`)).body);
    }
    const steps = await runCli(['replay', sessionId, '--json'], env);
    expect(steps.code).toBe(0);
    const parsed = jsonLines(steps.stdout);
    expect(parsed.map((s) => s.revision)).toEqual([...Array(head + 1).keys()]);
    expect(parsed.find((s) => s.type === 'ToolCallInterrupted').changes).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: expect.stringMatching(/c3.*status$/), op: 'change', before: 'dispatched', after: 'interrupted' })]),
    );
    const human = await runCli(['replay', sessionId], env);
    expect(human.stdout.split('\n').filter((l) => /^#\d+ /.test(l))).toHaveLength(head + 1);
  });

  it('export → verify --file passes; one flipped byte in an event\'s dataText fails naming its revision', async () => {
    const file = join(root, 'export.jsonl');
    const exported = await runCli(['export', sessionId, '--output', file], env);
    expect(exported.code).toBe(0);
    const records = jsonLines(readFileSync(file, 'utf8'));
    expect(records).toHaveLength((await allEvents(sessionId)).length);
    const toStdout = await runCli(['export', sessionId], env);
    expect(toStdout.stdout).toBe(readFileSync(file, 'utf8'));

    const ok = await runCli(['verify', '--file', file], env);
    expect({ code: ok.code, stdout: ok.stdout }).toEqual({ code: 0, stdout: expect.stringContaining('intact') });
    // Offline: no server needed.
    const offline = await runCli(['verify', '--file', file, '--json'], { RUNLEDGER_URL: `http://127.0.0.1:${await freePort()}` });
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout)).toEqual({ results: [{ ok: true, streamId: `session-${sessionId}`, events: records.length }] });

    const target = records.findIndex((r) => r.type === 'ToolCallFailed');
    const record = records[target];
    const i = record.dataText.indexOf('boom') + 1;
    const tampered = { ...record, dataText: `${record.dataText.slice(0, i)}x${record.dataText.slice(i + 1)}` };
    expect(tampered.dataText.length).toBe(record.dataText.length);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[target] = JSON.stringify(tampered);
    const bad = join(root, 'tampered.jsonl');
    writeFileSync(bad, lines.join('\n'));
    const failed = await runCli(['verify', '--file', bad], env);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(`revision ${record.revision}`);
    const failedJson = JSON.parse((await runCli(['verify', '--file', bad, '--json'], env)).stdout);
    expect(failedJson.results).toEqual([expect.objectContaining({ ok: false, brokenAt: record.revision })]);

    expect((await runCli(['verify', '--file', join(root, 'missing.jsonl')], env)).code).toBe(2);
  });

  it('verify on the server: one session or every stream, exit 0 when intact', async () => {
    const one = await runCli(['verify', sessionId, '--json'], env);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ results: [expect.objectContaining({ ok: true, streamId: `session-${sessionId}` })] });
    const all = await runCli(['verify'], env);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/all hash chains intact/);
  });

  it('projections rebuild reports the events replayed and the rate', async () => {
    const result = await runCli(['projections', 'rebuild'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/rebuilt the projections from \d+ events in \d+ ms \(\d+ events\/s\)/);
    const json = JSON.parse((await runCli(['projections', 'rebuild', '--json'], env)).stdout);
    expect(json).toEqual({ events: expect.any(Number), ms: expect.any(Number), eventsPerSecond: expect.any(Number) });
  });

  it('import claude-code --json prints exactly the docs/ARCHITECTURE.md §6 counts; the human output lists skipped lines', async () => {
    const json = await runCli(['import', 'claude-code', join(FIXTURES, 'short.jsonl'), '--project', 'cli', '--json'], env);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(Object.keys(body).sort()).toEqual(['completed', 'failed', 'sessionId', 'skippedLines', 'subagentToolCalls', 'toolCalls']);
    expect(body).toMatchObject({ toolCalls: 2, failed: 2, completed: 0, subagentToolCalls: 0 });

    const copy = join(root, 'with-bad-line.jsonl');
    copyFileSync(join(FIXTURES, 'tool_heavy.jsonl'), copy);
    appendFileSync(copy, 'this is not json\n');
    const human = await runCli(['import', 'claude-code', copy, '--project', 'cli'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/tool calls: 6 /);
    expect(human.stdout).toMatch(/skipped lines: 1/);
    expect(human.stdout).toMatch(/with-bad-line\.jsonl:40 invalid_json/);

    expect((await runCli(['import', 'claude-code', join(root, 'nope.jsonl')], env)).code).toBe(2);
  });

  it('hook claude-code: answers with the server\'s JSON; a PreToolUse it cannot record within the hold exits 2, other hooks exit 1', async () => {
    const input = (event: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ session_id: 'claude-abc', transcript_path: '/tmp/t.jsonl', cwd: root, hook_event_name: event, ...extra });
    const pre = input('PreToolUse', { tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'toolu_cli_1' });

    const allowed = await runCliWithInput(['hook', 'claude-code'], { ...env, RUNLEDGER_SESSION_ID: running.id }, pre);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow' } });
    expect((await api.get(`/sessions/${running.id}/tool-calls`)).body.toolCalls).toEqual([expect.objectContaining({ callId: 'toolu_cli_1', status: 'dispatched' })]);

    const post = input('PostToolUse', { tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'toolu_cli_1', tool_response: { stdout: 'x' } });
    const recorded = await runCliWithInput(['hook', 'claude-code'], { ...env, RUNLEDGER_SESSION_ID: running.id }, post);
    expect(recorded.code).toBe(0);

    const unreachable = { RUNLEDGER_URL: `http://127.0.0.1:${await freePort()}`, RUNLEDGER_TOKEN: TOKEN, RUNLEDGER_SESSION_ID: running.id };
    const blocked = await runCliWithInput(['hook', 'claude-code', '--hold', '1'], unreachable, pre);
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toMatch(/this tool call is blocked: .*did not answer for 1 s \(ECONNREFUSED\)/);
    const stop = await runCliWithInput(['hook', 'claude-code', '--hold', '0'], unreachable, input('Stop', { stop_hook_active: false }));
    expect(stop.code).toBe(1);
    expect(stop.stderr).toMatch(/did not answer/);

    const unknownSession = await runCliWithInput(['hook', 'claude-code'], { ...env, RUNLEDGER_SESSION_ID: 'no-such-session' }, pre);
    expect(unknownSession.code).toBe(2);
    expect(unknownSession.stderr).toMatch(/404/);
  });
});
