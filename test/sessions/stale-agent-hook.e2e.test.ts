import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'stale-hook-token-0123456789';

/** A transcript whose conversation began at `startedAt` (the head line every agent's transcript carries). */
const transcript = (dir: string, name: string, startedAt: Date): string => {
  const file = join(dir, `${name}.jsonl`);
  writeFileSync(file, `${JSON.stringify({ type: 'file-history-snapshot', snapshot: {} })}\n${JSON.stringify({ type: 'user', timestamp: startedAt.toISOString(), sessionId: name })}\n`);
  return file;
};

/**
 * A hook held across a restart from an agent that died meanwhile reaches the session after it was relaunched: its
 * conversation began before the current runtime, so it must neither link the session to that dead conversation nor
 * be recorded as the current agent's call (docs/ARCHITECTURE.md §4a).
 */
describe('a hook from a previous runtime\'s agent', () => {
  let root: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-stale-hook-'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '', RUNLEDGER_SNAPSHOTS: 'off' });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { id: 'st', name: 'st', repoPath: makeRepo(join(root, 'repo')) })).status).toBe(201);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('is refused as a divergence (a PreToolUse denied), while the current agent\'s hooks link and record as before', async () => {
    const spawned = await api.post('/sessions', { projectId: 'st', agent: 'command', command: ['sh', '-c', 'exec sleep 120'] });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id as string;
    const hook = (body: Record<string, unknown>) => api.post('/hooks/claude-code', { cwd: root, ...body }, { 'x-runledger-session': id });
    const dead = transcript(root, 'dead-conversation', new Date(Date.now() - 60_000));
    const start = await hook({ hook_event_name: 'SessionStart', session_id: 'dead-conversation', transcript_path: dead, source: 'startup' });
    expect(start.status).toBe(200);
    const pre = await hook({ hook_event_name: 'PreToolUse', session_id: 'dead-conversation', transcript_path: dead, tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'toolu_dead' });
    expect(pre.body.hookSpecificOutput).toMatchObject({ permissionDecision: 'deny' });
    let snapshot = (await api.get(`/sessions/${id}`)).body;
    expect(snapshot.agentSessionId).toBeUndefined();
    expect(snapshot.toolCalls.total).toBe(0);
    expect(snapshot.divergences.map((d: { kind: string; detail: string }) => [d.kind, d.detail.split(' ')[0]])).toEqual([['stale_agent_hook', 'SessionStart'], ['stale_agent_hook', 'PreToolUse']]);

    // The current agent's conversation may begin before its launch is recorded (an agent starts fast, a loaded runledger
    // records late): it is judged against the runtime's start, taken before the spawn, never the launch event's time.
    const launchedEvent = ((await api.get(`/sessions/${id}/events?limit=100`)).body.events as Array<{ type: string; data: { at: string; runtime: { startedAt: string } } }>).find((e) => e.type === 'SessionRuntimeLaunched')!;
    const liveStart = new Date(Date.parse(launchedEvent.data.runtime.startedAt) + 1);
    expect(liveStart.getTime()).toBeLessThan(Date.parse(launchedEvent.data.at));
    const live = transcript(root, 'live-conversation', liveStart);
    expect((await hook({ hook_event_name: 'SessionStart', session_id: 'live-conversation', transcript_path: live, source: 'startup' })).status).toBe(200);
    const allowed = await hook({ hook_event_name: 'PreToolUse', session_id: 'live-conversation', transcript_path: live, tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'toolu_live' });
    expect(allowed.body.hookSpecificOutput).toMatchObject({ permissionDecision: 'allow' });
    snapshot = (await api.get(`/sessions/${id}`)).body;
    expect(snapshot).toMatchObject({ agentSessionId: 'live-conversation', toolCalls: { total: 1 } });
    // The linked conversation's own hooks pass whatever their transcript's age (a native resume continues an old one).
    const resumed = await hook({ hook_event_name: 'Stop', session_id: 'live-conversation', transcript_path: live });
    expect(resumed.status).toBe(200);
    expect((await api.post(`/sessions/${id}/kill`)).status).toBe(200);
  });
});
