import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'hook-health-admin-token-0123456789';

/**
 * Hook-channel health (docs/ARCHITECTURE.md §4a) of a Claude session recorded through installed hooks, whose
 * PostToolUse never arrived: the snapshot carries `unfinished_call`, the worker reconciles it with the transcript (the
 * result the transcript holds is healed in), and the metrics count the flag and the reconcile.
 */
describe('hook-channel health: a call dispatched without its result', () => {
  let root: string;
  let server: ServerProcess;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-hook-health-'));
    server = await startServerProcess({
      RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '',
      RUNLEDGER_HEALTH_INTERVAL_MS: '300', RUNLEDGER_HEALTH_UNFINISHED_MS: '500',
    });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('flags unfinished_call, heals the result the transcript holds, keeps the flag for the call it lacks, and counts both', async () => {
    const api = apiClient(server.url, TOKEN);
    const repo = makeRepo(join(root, 'repo'));
    expect((await api.post('/projects', { id: 'hh', name: 'hh', repoPath: repo })).status).toBe(201);
    const dir = join(root, 'home', '.claude', 'projects', 'x');
    mkdirSync(dir, { recursive: true });
    const transcript = join(dir, 'cc-health.jsonl');
    const line = (o: Record<string, unknown>) => JSON.stringify({ sessionId: 'cc-health', cwd: repo, ...o });
    writeFileSync(transcript, [
      line({ type: 'user', uuid: 'u1', timestamp: '2026-01-01T00:00:01.000Z', message: { role: 'user', content: 'go' } }),
      line({ type: 'assistant', uuid: 'a1', timestamp: '2026-01-01T00:00:02.000Z', message: { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_healed', name: 'Bash', input: { command: 'echo hi' } }] } }),
      line({ type: 'user', uuid: 'r1', timestamp: '2026-01-01T00:00:03.000Z', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_healed', content: 'hi' }] }, toolUseResult: { stdout: 'hi' } }),
      line({ type: 'assistant', uuid: 'a2', timestamp: '2026-01-01T00:00:04.000Z', message: { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_open', name: 'Bash', input: { command: 'sleep 1000' } }] } }),
    ].join('\n') + '\n');
    const hook = (input: Record<string, unknown>) => api.post('/hooks/claude-code', { session_id: 'cc-health', transcript_path: transcript, cwd: repo, ...input });
    expect((await hook({ hook_event_name: 'SessionStart', source: 'startup' })).status).toBe(200);
    expect((await hook({ hook_event_name: 'UserPromptSubmit', prompt: 'go', prompt_id: 'u1' })).status).toBe(200);
    for (const [id, command] of [['toolu_healed', 'echo hi'], ['toolu_open', 'sleep 1000']]) {
      expect((await hook({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command }, tool_use_id: id })).status).toBe(200);
    }
    // The PostToolUse of toolu_healed is lost; the transcript has its result.
    const [session] = (await api.get('/sessions?agentSessionId=cc-health')).body.sessions;
    const calls = await eventually(async () => {
      const list = (await api.get(`/sessions/${session.id}/tool-calls`)).body.toolCalls as Array<Record<string, any>>;
      return list.find((c) => c.callId === 'toolu_healed')?.status === 'completed' ? list : null;
    }, 'the lost result to be healed from the transcript', 30_000, 100);
    expect(calls.find((c) => c.callId === 'toolu_healed')).toMatchObject({ status: 'completed', source: 'transcript' });
    expect(calls.find((c) => c.callId === 'toolu_open')).toMatchObject({ status: 'dispatched' });
    expect((await api.get(`/sessions/${session.id}`)).body.health).toEqual(['unfinished_call']);
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${server.url}/api/v1/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      return /runledger_sessions_health\{flag="unfinished_call"\} 1/.test(text) ? text : null;
    }, 'the health gauge to count the flagged session', 10_000, 100);
    expect(metrics).toMatch(/runledger_health_reconciles_total\{flag="unfinished_call"\} [1-9]/);
    expect(metrics).toMatch(/runledger_sessions_health\{flag="no_signal"\} 0/);
  });
});
