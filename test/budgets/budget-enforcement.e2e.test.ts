import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PRICE_TABLE } from '@runledger/domain';
import { describeWithClaude, prepareClaudeHome, readTranscript, transcriptsOf } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'budget-e2e-admin-token-0123456789';
/**
 * Every Claude model at $1000 per million tokens (the project's own price over each shipped Claude entry, so it wins
 * whatever model the CLI asks for): 3,000 input tokens cost $3, few enough that Claude Code's context stays small.
 */
const PRICE = { inputPerMTok: 1000, outputPerMTok: 1000, cacheReadPerMTok: 1000, cacheCreationPerMTok: 1000 };
const PRICES = Object.fromEntries(['claude-', ...Object.keys(DEFAULT_PRICE_TABLE.models).filter((m) => m.startsWith('claude'))].map((m) => [m, PRICE]));
const big = { input_tokens: 3000, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
const small = { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

/** The tool results of a transcript, by the tool_use id they answer. */
const toolResults = (file: string): Map<string, string> => {
  const out = new Map<string, string>();
  for (const line of readTranscript(file)) {
    if (line.type !== 'user' || !Array.isArray(line.message?.content)) continue;
    for (const block of line.message.content) if (block.type === 'tool_result') out.set(block.tool_use_id, typeof block.content === 'string' ? block.content : JSON.stringify(block.content));
  }
  return out;
};

/**
 * docs/ARCHITECTURE.md §4g with the real Claude Code CLI against the scripted Messages API: a model call whose usage
 * spends an enforced budget stops the agent's next tool call with the reason in its transcript, the crossings are in
 * the log, a spawn is refused 409 BUDGET.EXCEEDED; raising the budget lets the resumed run's next call go on.
 */
describeWithClaude('an enforced budget stops the next tool call of a real Claude Code run', () => {
  let root: string;
  let fake: FakeAnthropicApi;
  let server: ServerProcess;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-budget-'));
    fake = await startFakeAnthropicApi();
    const home = prepareClaudeHome(join(root, 'home'), { apiUrl: fake.url });
    server = await startServerProcess({ ...home.env, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    (globalThis as { claudeHome?: string }).claudeHome = home.home;
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await fake?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('blocks the call after the expensive model call, refuses spawns, and lets the run go on once raised', async () => {
    const api = apiClient(server.url, TOKEN);
    const cli = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN };
    expect((await api.post('/projects', { id: 'bg', name: 'bg', repoPath: makeRepo(join(root, 'repo')), prices: PRICES })).status).toBe(201);
    // Bad input names its field and changes nothing.
    expect((await api.raw('PUT', '/projects/bg/budget', { usd: -1, enforce: true })).body).toMatchObject({ statusCode: 400, details: expect.objectContaining({ field: 'usd' }) });
    expect((await api.raw('PUT', '/projects/bg/budget', { usd: 1, enforce: 'yes' })).status).toBe(400);
    expect((await api.post('/sessions', { projectId: 'bg', agent: 'command', command: ['true'], budgetUsd: 0 })).body).toMatchObject({ statusCode: 400, details: expect.objectContaining({ field: 'budgetUsd' }) });
    expect((await api.get('/projects/bg/budget')).body).toMatchObject({ budget: null });
    const set = await runCli(['budget', 'bg', '--usd', '2', '--period', 'total', '--enforce', '--json'], cli);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ budget: { usd: 2, period: 'total', enforce: true }, spentUsd: 0, exceeded: false });

    fake.push(
      { tools: [{ name: 'Bash', input: { command: 'echo one > first.txt', description: 'first call' } }], usage: big },
      { tools: [{ name: 'Bash', input: { command: 'echo two > second.txt', description: 'second call' } }], usage: small },
      { text: 'Stopped: the budget is spent.', usage: small },
    );
    const spawned = await api.post('/sessions', { projectId: 'bg', agent: 'claude-code', prompt: 'write two files' });
    expect(spawned.status).toBe(201);
    const id = spawned.body.id as string;
    const worktree = spawned.body.worktrees[0].path as string;
    await eventually(async () => (await api.get(`/sessions/${id}`)).body.status === 'exited' || null, 'the agent to finish', 90_000, 200);

    const home = (globalThis as { claudeHome?: string }).claudeHome!;
    const [transcript] = transcriptsOf(home, worktree);
    const uses = readTranscript(transcript).flatMap((l) => (l.type === 'assistant' && Array.isArray(l.message?.content) ? l.message.content.filter((b: { type: string }) => b.type === 'tool_use') : []));
    expect(uses).toHaveLength(2);
    const results = toolResults(transcript);
    expect(results.get(uses[1].id)).toMatch(/BUDGET\.EXCEEDED.*project bg spent \$3\.\d+ of its \$2\.0000 budget/);
    expect(results.get(uses[0].id)).not.toMatch(/BUDGET/);
    expect(existsSync(join(worktree, 'first.txt'))).toBe(true);
    expect(existsSync(join(worktree, 'second.txt'))).toBe(false);

    const crossings = ((await api.get('/events?from=0&limit=1000')).body.events as Array<{ type: string; streamId: string; data: Record<string, unknown> }>)
      .filter((e) => e.type === 'BudgetThresholdCrossed');
    expect(crossings.map((e) => [e.streamId, e.data.threshold, e.data.scope])).toEqual([['project-bg', 80, 'project'], ['project-bg', 100, 'project']]);
    const refused = await api.post('/sessions', { projectId: 'bg', agent: 'command', command: ['true'] });
    expect(refused.body).toMatchObject({ statusCode: 409, code: 'BUDGET.EXCEEDED', details: { projectId: 'bg', budgetUsd: 2, scope: 'project' } });

    // Raised: the resumed run's next call goes on.
    expect(JSON.parse((await runCli(['budget', 'bg', '--usd', '100', '--period', 'total', '--enforce', '--json'], cli)).stdout)).toMatchObject({ exceeded: false });
    fake.push(
      { tools: [{ name: 'Bash', input: { command: 'echo three > third.txt', description: 'after the raise' } }], usage: small },
      { text: 'Done.', usage: small },
    );
    expect((await api.post(`/sessions/${id}/resume`, { prompt: 'go on' })).status).toBe(200);
    await eventually(async () => (existsSync(join(worktree, 'third.txt')) && (await api.get(`/sessions/${id}`)).body.status === 'exited') || null, 'the resumed run', 90_000, 200);
    expect((await api.post('/sessions', { projectId: 'bg', agent: 'command', command: ['true'] })).status).toBe(201);
  });
});
