import { cpSync, readdirSync, readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { findSubagentTranscripts } from '@runledger/infra/agents/claude-code/subagent-transcripts';
import { parseTranscriptFile } from '@runledger/infra/agents/claude-code/transcript-parser';
import { hookCallsFromTranscript } from '../support/claude-code/hook-synthesis';
import { makeRepo } from '../support/git-repo';
import { apiClient } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const FIXTURES = resolve(__dirname, '../fixtures/claude-code');
const TOKEN = 'claude-code-e2e-token-0123';

/** The README table of the fixtures: tool calls, of them failed (is_error), sub-agent tool calls. */
const TABLE: Record<string, { toolCalls: number; failed: number; subagentToolCalls: number }> = {
  'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl': { toolCalls: 242, failed: 12, subagentToolCalls: 12 },
  'fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl': { toolCalls: 197, failed: 8, subagentToolCalls: 46 },
  '258c7280-ae70-4798-800f-63464d01a85d.jsonl': { toolCalls: 186, failed: 7, subagentToolCalls: 2 },
  'tool_heavy.jsonl': { toolCalls: 6, failed: 0, subagentToolCalls: 0 },
  'short.jsonl': { toolCalls: 2, failed: 2, subagentToolCalls: 0 },
};

/** An independent scan of a transcript (not our parser): tool_use inputs and tool_result contents by id. */
const scan = (file: string) => {
  const uses = new Map<string, { name: string; input: unknown }>();
  const results = new Map<string, { content: unknown; isError: boolean }>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let row: any;
    try {
      row = JSON.parse(line);
    } catch {
      continue;
    }
    const content = row?.message?.content;
    if (!Array.isArray(content)) continue;
    for (const block of content) {
      if (block?.type === 'tool_use') uses.set(block.id, { name: block.name, input: block.input });
      if (block?.type === 'tool_result') results.set(block.tool_use_id, { content: block.content, isError: block.is_error === true });
    }
  }
  return { uses, results };
};

describe('Claude Code transcripts: import and hooks', () => {
  let root: string;
  let repo: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  const imported: Record<string, string> = {};

  beforeAll(async () => {
    expect(existsSync(FIXTURES)).toBe(true);
    root = mkdtempSync(join(tmpdir(), 'rl-claude-'));
    repo = makeRepo(join(root, 'repo'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'spotter', repoPath: repo })).status).toBe(201);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('has every fixture of the README table', () => {
    expect(readdirSync(FIXTURES).filter((f) => f.endsWith('.jsonl')).sort()).toEqual(Object.keys(TABLE).sort());
  });

  const importFile = async (file: string) => {
    const transcript = await parseTranscriptFile(file);
    const subagents = await Promise.all((await findSubagentTranscripts(file)).map(async (path) => ({ path, transcript: await parseTranscriptFile(path) })));
    return api.post('/imports/claude-code', { projectId: 'spotter', transcriptPath: file, transcript, subagents });
  };

  it.each(Object.keys(TABLE))('imports %s with exactly the README counts, inputs and results, and a repeat changes nothing', async (name) => {
    const file = join(FIXTURES, name);
    const expected = TABLE[name];
    const response = await importFile(file);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      toolCalls: expected.toolCalls,
      completed: expected.toolCalls - expected.failed,
      failed: expected.failed,
      subagentToolCalls: expected.subagentToolCalls,
    });
    const sessionId = response.body.sessionId;
    imported[name] = sessionId;

    const { body } = await api.get(`/sessions/${sessionId}/tool-calls`);
    const { uses, results } = scan(file);
    const subagentIds = new Set<string>();
    for (const sub of await findSubagentTranscripts(file)) for (const id of scan(sub).uses.keys()) subagentIds.add(id);
    const main = body.toolCalls.filter((c: { callId: string }) => !subagentIds.has(c.callId));
    expect(main).toHaveLength(expected.toolCalls);
    expect(body.toolCalls).toHaveLength(expected.toolCalls + expected.subagentToolCalls);
    for (const call of main) {
      const use = uses.get(call.callId)!;
      expect({ tool: call.tool, input: call.input }).toEqual({ tool: use.name, input: use.input });
      const result = results.get(call.callId)!;
      expect(call.status).toBe(result.isError ? 'failed' : 'completed');
      expect(call.result.output).toEqual(result.content);
      expect(call.source).toBe('import');
    }
    const events = (await api.get(`/sessions/${sessionId}/events?limit=5`)).body.events;
    expect(events.some((e: { metadata: { occurredAt?: string } }) => typeof e.metadata.occurredAt === 'string')).toBe(true);

    const head = (await api.get('/health')).body.headPosition;
    const again = await importFile(file);
    expect(again.body).toMatchObject({ sessionId, appended: 0 });
    expect((await api.get('/health')).body.headPosition).toBe(head);
  });

  it.each(['tool_heavy.jsonl', 'short.jsonl', '258c7280-ae70-4798-800f-63464d01a85d.jsonl'])(
    'replays %s as the hook calls Claude Code would have made and gets the same tool calls as the import',
    async (name) => {
      const file = join(FIXTURES, name);
      const parsed = await parseTranscriptFile(file);
      const agentSessionId = `${parsed.agentSessionId}-via-hooks`;
      // The hooks name a transcript path that is not written yet: the fixture holds the whole session, and a Stop
      // reconcile against it would heal calls whose hooks have not been replayed yet. It is put in place afterwards.
      const transcriptDir = mkdtempSync(join(tmpdir(), 'rl-replay-'));
      const transcript = join(transcriptDir, name);
      let sessionId: string | undefined;
      for (const call of hookCallsFromTranscript(parsed, { transcriptPath: transcript })) {
        const response = await api.post('/hooks/claude-code', { ...call, session_id: agentSessionId, cwd: repo, transcript_path: transcript });
        expect(response.status).toBe(200);
        if (call.hook_event_name === 'PreToolUse') {
          expect(response.body.hookSpecificOutput).toMatchObject({ hookEventName: 'PreToolUse', permissionDecision: 'allow' });
          // The checkpoint is committed before the answer: the call is already in the log.
          sessionId ??= (await api.get(`/sessions?agentSessionId=${agentSessionId}`)).body.sessions[0].id;
          const calls = (await api.get(`/sessions/${sessionId}/tool-calls`)).body.toolCalls;
          expect(calls.find((c: { callId: string }) => c.callId === (call as { tool_use_id: string }).tool_use_id)?.status).toBe('dispatched');
        }
      }
      sessionId ??= (await api.get(`/sessions?agentSessionId=${agentSessionId}`)).body.sessions[0].id;
      const viaHooks = (await api.get(`/sessions/${sessionId}/tool-calls`)).body.toolCalls;
      const viaImport = (await api.get(`/sessions/${imported[name]}/tool-calls`)).body.toolCalls;
      const subagentIds = new Set<string>();
      for (const sub of await findSubagentTranscripts(file)) for (const id of scan(sub).uses.keys()) subagentIds.add(id);
      const shape = (calls: any[]) =>
        calls.filter((c) => !subagentIds.has(c.callId)).map((c) => ({ callId: c.callId, tool: c.tool, status: c.status, input: c.input })).sort((a, b) => a.callId.localeCompare(b.callId));
      expect(shape(viaHooks)).toEqual(shape(viaImport));
      expect(shape(viaHooks)).toHaveLength(TABLE[name].toolCalls);
      const snapshot = (await api.get(`/sessions/${sessionId}`)).body;
      expect(snapshot).toMatchObject({ agentSessionId, transcriptPath: transcript });
      expect(basename(snapshot.transcriptPath)).toBe(name);

      // With the transcript in place, reconcile finds the log of the hooks equal to it: only the sub-agents' calls
      // (no hook replayed them) come from the transcript; a second reconcile appends nothing.
      cpSync(file, transcript);
      const subagents = join(FIXTURES, name.replace(/\.jsonl$/, ''));
      if (existsSync(subagents)) cpSync(subagents, join(transcriptDir, name.replace(/\.jsonl$/, '')), { recursive: true });
      const first = (await api.post(`/sessions/${sessionId}/reconcile`)).body;
      expect(first.counts).toEqual({ callsFromTranscript: subagentIds.size, resultsFromTranscript: 0, callsOnlyInLog: 0, toolCallsInterrupted: 0 });
      expect((await api.post(`/sessions/${sessionId}/reconcile`)).body).toMatchObject({ appended: 0 });
      rmSync(transcriptDir, { recursive: true, force: true });
    },
  );

  it('refuses a hook from a Claude session whose cwd no project holds, and a hook with no event name', async () => {
    const lost = await api.post('/hooks/claude-code', { hook_event_name: 'SessionStart', session_id: 'lost-1', cwd: '/nowhere/at/all' });
    expect(lost.status).toBe(404);
    expect(lost.body.code).toBe('PROJECT.NOT_FOUND_FOR_CWD');
    const bad = await api.post('/hooks/claude-code', { session_id: 'x', cwd: repo });
    expect(bad.status).toBe(400);
    expect(bad.body.details.field).toBe('hook_event_name');
  });
});
