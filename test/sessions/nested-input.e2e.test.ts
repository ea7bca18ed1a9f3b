import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo';
import { apiClient } from '../support/http-client';
import { ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'nested-input-token-0123456789';
/** The named limits of the DTOs (apps/api/src/**\/dto), repeated here so a silent change of one fails a test. */
const LIMITS = { importItems: 100_000, importText: 1_000_000, importSubagents: 10_000, projectRepos: 50, argv: 200, envNames: 500 };

/**
 * Every DTO's nested shapes refused the same way (invariant 13): an array of objects holding null, an array or a plain
 * value, a nested object missing, null or an array, a nested field missing or of the wrong type, an array or a string
 * past its named limit. Each refusal is a 4xx in the error shape naming the field, and the log, the live session's
 * stream and the lists are unchanged.
 */
describe('nested shapes of every request body are checked at the boundary', () => {
  let root: string;
  let repo: string;
  let server: ServerProcess;
  let api: ReturnType<typeof apiClient>;
  let sessionId: string;
  let imports = 0;

  /** What a refusal must leave as it was: the global head, the live session's revision, the sessions and projects. */
  const observed = async () => ({
    head: (await api.get('/health')).body.headPosition as number,
    revision: (await api.get(`/sessions/${sessionId}`)).body.revision as number,
    sessions: (await api.get('/sessions')).body.sessions.length as number,
    projects: (await api.get('/projects')).body.projects.length as number,
  });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-nested-'));
    repo = makeRepo(join(root, 'repo'));
    server = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { name: 'p', id: 'p', repoPath: repo })).status).toBe(201);
    sessionId = (await api.post('/sessions', { projectId: 'p', agent: 'command', command: ['sh', '-c', 'exec sleep 120'] })).body.id;
    expect(sessionId).toBeTruthy();
  });
  afterAll(async () => {
    if (sessionId) await api.post(`/sessions/${sessionId}/kill`);
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  // Well-formed bodies (each accepted: see the last tests); every case breaks one nested part of one of them.
  const call = () => ({ callId: 'c1', runId: 'r1', tool: 'Bash', input: { command: 'ls' }, requestedAt: '2026-01-01T00:00:01.000Z', line: 2, result: { status: 'completed', output: 'ok', at: '2026-01-01T00:00:02.000Z', line: 3 } });
  const run = () => ({ runId: 'r1', prompt: 'list', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:03.000Z', line: 1 });
  const transcript = (over: Record<string, unknown> = {}) => ({ agentSessionId: `agent-${++imports}`, cwd: repo, runs: [run()], toolCalls: [call()], skippedLines: [{ line: 4, reason: 'invalid_json' }], ...over });
  const subagent = (over: Record<string, unknown> = {}) => ({ path: join(root, 'agent-1.jsonl'), transcript: { runs: [], toolCalls: [], skippedLines: [], ...over } });
  const importBody = (over: Record<string, unknown> = {}) => ({ projectId: 'p', transcriptPath: join(root, 'main.jsonl'), transcript: transcript(), subagents: [subagent()], ...over });
  const withTranscript = (over: Record<string, unknown>) => importBody({ transcript: transcript(over) });
  const withCall = (over: Record<string, unknown>) => withTranscript({ toolCalls: [{ ...call(), ...over }] });

  // Bodies are built when the case runs (after beforeAll made the repository they name).
  const post = (path: string, body: () => unknown) => () => api.post(path, body());
  const imp = (body: () => unknown) => post('/imports/claude-code', body);
  const many = <T>(n: number, item: () => T): T[] => Array.from({ length: n }, item);

  const cases: [string, () => Promise<{ status: number; body: any }>, string][] = [
    // POST /imports/claude-code: the transcript, its runs, calls, results and skipped lines, and the sub-agents.
    ['import: transcript missing', imp(() => importBody({ transcript: undefined })), 'transcript'],
    ['import: transcript null', imp(() => importBody({ transcript: null })), 'transcript'],
    ['import: transcript an array', imp(() => importBody({ transcript: [transcript()] })), 'transcript'],
    ['import: transcript a string', imp(() => importBody({ transcript: 'x' })), 'transcript'],
    ['import: runs missing', imp(() => withTranscript({ runs: undefined })), 'transcript.runs'],
    ['import: runs an object', imp(() => withTranscript({ runs: run() })), 'transcript.runs'],
    ['import: a run null', imp(() => withTranscript({ runs: [run(), null] })), 'transcript.runs[1]'],
    ['import: a run an array', imp(() => withTranscript({ runs: [[run()]] })), 'transcript.runs[0]'],
    ['import: a run without its prompt', imp(() => withTranscript({ runs: [{ ...run(), prompt: undefined }] })), 'transcript.runs[0].prompt'],
    ['import: a run prompt that is a number', imp(() => withTranscript({ runs: [{ ...run(), prompt: 7 }] })), 'transcript.runs[0].prompt'],
    ['import: toolCalls missing', imp(() => withTranscript({ toolCalls: undefined })), 'transcript.toolCalls'],
    ['import: a call a number', imp(() => withTranscript({ toolCalls: [call(), 42] })), 'transcript.toolCalls[1]'],
    ['import: a call an array', imp(() => withTranscript({ toolCalls: [call(), [call()]] })), 'transcript.toolCalls[1]'],
    ['import: a call without its callId', imp(() => withCall({ callId: undefined })), 'transcript.toolCalls[0].callId'],
    ['import: a call without its input', imp(() => withCall({ input: undefined })), 'transcript.toolCalls[0].input'],
    ['import: a call tool that is an object', imp(() => withCall({ tool: { name: 'Bash' } })), 'transcript.toolCalls[0].tool'],
    ['import: a call result an array', imp(() => withCall({ result: [] })), 'transcript.toolCalls[0].result'],
    ['import: a call result a string', imp(() => withCall({ result: 'completed' })), 'transcript.toolCalls[0].result'],
    ['import: a call result without its status', imp(() => withCall({ result: { ...call().result, status: undefined } })), 'transcript.toolCalls[0].result.status'],
    ['import: a result time with a huge fraction', imp(() => withCall({ result: { ...call().result, at: `2026-01-01T00:00:02.${'1'.repeat(5000)}Z` } })), 'transcript.toolCalls[0].result.at'],
    ['import: skippedLines holding a number', imp(() => withTranscript({ skippedLines: [4] })), 'transcript.skippedLines[0]'],
    ['import: a skipped line without its reason', imp(() => withTranscript({ skippedLines: [{ line: 4 }] })), 'transcript.skippedLines[0].reason'],
    ['import: subagents missing', imp(() => importBody({ subagents: undefined })), 'subagents'],
    ['import: a sub-agent null', imp(() => importBody({ subagents: [null] })), 'subagents[0]'],
    ['import: a sub-agent without its transcript', imp(() => importBody({ subagents: [{ path: join(root, 'agent-1.jsonl') }] })), 'subagents[0].transcript'],
    ['import: a sub-agent transcript an array', imp(() => importBody({ subagents: [{ path: join(root, 'a.jsonl'), transcript: [] }] })), 'subagents[0].transcript'],
    ['import: a sub-agent call without its tool', imp(() => importBody({ subagents: [subagent({ toolCalls: [{ ...call(), tool: undefined }] })] })), 'subagents[0].transcript.toolCalls[0].tool'],
    [`import: ${LIMITS.importItems + 1} skipped lines`, imp(() => withTranscript({ skippedLines: many(LIMITS.importItems + 1, () => ({ line: 0, reason: 'invalid_json' })) })), 'transcript.skippedLines'],
    [`import: a prompt of ${LIMITS.importText + 1} characters`, imp(() => withTranscript({ runs: [{ ...run(), prompt: 'x'.repeat(LIMITS.importText + 1) }] })), 'transcript.runs[0].prompt'],
    [`import: ${LIMITS.importSubagents + 1} sub-agents`, imp(() => importBody({ subagents: many(LIMITS.importSubagents + 1, () => subagent()) })), 'subagents'],

    // POST /projects: a workspace's repos, the env map.
    ['project: repos an object', post('/projects', () => ({ name: 'w', repos: { name: 'a', path: repo } })), 'repos'],
    ['project: a repo null', post('/projects', () => ({ name: 'w', repos: [null] })), 'repos[0]'],
    ['project: a repo an array', post('/projects', () => ({ name: 'w', repos: [[{ name: 'a', path: repo }]] })), 'repos[0]'],
    ['project: a repo without its path', post('/projects', () => ({ name: 'w', repos: [{ name: 'a' }] })), 'repos[0].path'],
    ['project: a repo name that is a number', post('/projects', () => ({ name: 'w', repos: [{ name: 7, path: repo }] })), 'repos[0].name'],
    [`project: ${LIMITS.projectRepos + 1} repos`, post('/projects', () => ({ name: 'w', repos: many(LIMITS.projectRepos + 1, () => ({ name: 'a', path: repo })) })), 'repos'],
    ['project: env an array', post('/projects', () => ({ name: 'e', repoPath: repo, env: ['A=1'] })), 'env'],
    ['project: an env value null', post('/projects', () => ({ name: 'e', repoPath: repo, env: { A: null } })), 'env'],
    ['project: an env value an object', post('/projects', () => ({ name: 'e', repoPath: repo, env: { A: { v: '1' } } })), 'env'],
    ['project: a name of 300,000 characters', post('/projects', () => ({ name: 'n'.repeat(300_000), repoPath: repo })), 'name'],

    // POST /sessions and POST /projects/:id/orchestrator: argv arrays of strings.
    ['spawn: a command holding a number', post('/sessions', () => ({ projectId: 'p', agent: 'command', command: ['sh', 1] })), 'command'],
    ['spawn: a command holding null', post('/sessions', () => ({ projectId: 'p', agent: 'command', command: [null] })), 'command'],
    ['spawn: a command holding an array', post('/sessions', () => ({ projectId: 'p', agent: 'command', command: [['sh']] })), 'command'],
    ['spawn: a command that is null', post('/sessions', () => ({ projectId: 'p', agent: 'command', command: null })), 'command'],
    [`spawn: a command of ${LIMITS.argv + 1} arguments`, post('/sessions', () => ({ projectId: 'p', agent: 'command', command: many(LIMITS.argv + 1, () => 'x') })), 'command'],
    ['orchestrator: a command holding an object', post('/projects/p/orchestrator', () => ({ agent: 'command', command: [{}] })), 'command'],
    ['orchestrator: NUL in a command argument', post('/projects/p/orchestrator', () => ({ agent: 'command', command: ['sh\u0000'] })), 'command'],
    ['orchestrator: NUL in the prompt', post('/projects/p/orchestrator', () => ({ agent: 'command', command: ['true'], prompt: 'a\u0000b' })), 'prompt'],
    ['orchestrator: clean null', post('/projects/p/orchestrator', () => ({ clean: null, agent: 'command', command: ['true'] })), 'clean'],
    ['orchestrator: a control character in the agent', post('/projects/p/orchestrator', () => ({ agent: 'comm\u0001and' })), 'agent'],

    // POST /projects/:id/env/forget: names.
    ['forget-env: names holding a number', post('/projects/p/env/forget', () => ({ names: [1] })), 'names'],
    ['forget-env: names holding null', post('/projects/p/env/forget', () => ({ names: [null] })), 'names'],
    ['forget-env: names null', post('/projects/p/env/forget', () => ({ names: null })), 'names'],
    [`forget-env: ${LIMITS.envNames + 1} names`, post('/projects/p/env/forget', () => ({ names: many(LIMITS.envNames + 1, () => 'A') })), 'names'],

    // Tool calls, results, kill, resume, the web login.
    ['tool call: input missing', () => api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'Bash', mode: 'observed' }), 'input'],
    ['tool call: input null', () => api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'Bash', input: null, mode: 'observed' }), 'input'],
    ['tool call: a tool that is an array', () => api.post(`/sessions/${sessionId}/tool-calls`, { tool: ['Bash'], input: {}, mode: 'observed' }), 'tool'],
    ['tool call: a runId that is an object', () => api.post(`/sessions/${sessionId}/tool-calls`, { tool: 'Bash', input: {}, mode: 'observed', runId: {} }), 'runId'],
    ['result: status missing', () => api.post(`/sessions/${sessionId}/tool-calls/nope/result`, { output: 'x' }), 'status'],
    ['result: an attempt that is an object', () => api.post(`/sessions/${sessionId}/tool-calls/nope/result`, { status: 'completed', attempt: { n: 1 } }), 'attempt'],
    ['result: an error of 200,000 characters', () => api.post(`/sessions/${sessionId}/tool-calls/nope/result`, { status: 'failed', error: 'e'.repeat(200_000) }), 'error'],
    ['kill: a reason that is an object', () => api.post(`/sessions/${sessionId}/kill`, { reason: { text: 'x' } }), 'reason'],
    ['resume: NUL in the prompt', () => api.post(`/sessions/${sessionId}/resume`, { prompt: 'go\u0000on' }), 'prompt'],
    ['resume: a prompt that is an array', () => api.post(`/sessions/${sessionId}/resume`, { prompt: ['go'] }), 'prompt'],
    ['web login: a token that is an object', post('/ui/session', () => ({ token: { value: TOKEN } })), 'token'],

    // POST /hooks/claude-code: Claude's own shape, checked by the hook protocol.
    ['hook: a body that is an array', post('/hooks/claude-code', () => [{ hook_event_name: 'SessionStart', session_id: 's-1' }]), 'body'],
    ['hook: PostToolBatch tool_calls an object', post('/hooks/claude-code', () => ({ hook_event_name: 'PostToolBatch', session_id: 's-1', cwd: repo, tool_calls: {} })), 'tool_calls'],
    ['hook: effort an array', post('/hooks/claude-code', () => ({ hook_event_name: 'SessionStart', session_id: 's-1', cwd: repo, effort: [] })), 'effort'],
    ['hook: a tool_name that is an object', post('/hooks/claude-code', () => ({ hook_event_name: 'PreToolUse', session_id: 's-1', cwd: repo, tool_name: {}, tool_use_id: 't', tool_input: {} })), 'tool_name'],
  ];

  it.each(cases)('refuses %s with a 4xx naming the field, changing nothing', async (_, request, field) => {
    const before = await observed();
    const response = await request();
    expect({ field, status: response.status }).toEqual({ field, status: 400 });
    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String), code: expect.any(String), details: expect.objectContaining({ field }) });
    expect(JSON.stringify(response.body).length).toBeLessThan(20_000); // a huge bad array gets a short answer
    expect(await observed()).toEqual(before);
  });

  it('accepts the well-formed bodies the cases break (so each refusal is the broken part)', async () => {
    const imported = await api.post('/imports/claude-code', importBody());
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({ toolCalls: 1, skippedLines: 1 });
    const workspace = await api.post('/projects', { name: 'w', repos: [{ name: 'a', path: repo }], env: { A: '1' } });
    expect(workspace.status).toBe(201);
    expect((await api.post('/projects/w/env/forget', { names: ['A'] })).status).toBe(200);
    expect((await api.post(`/sessions/${sessionId}/tool-calls`, { callId: 'ok-1', tool: 'Bash', input: {}, mode: 'observed' })).status).toBe(201);
    expect((await api.post(`/sessions/${sessionId}/tool-calls/ok-1/result`, { status: 'completed', output: 'x' })).status).toBe(200);
  });
});
