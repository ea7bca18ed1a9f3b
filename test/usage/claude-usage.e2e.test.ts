import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { costMicros, DEFAULT_PRICE_TABLE, ModelPrice, priceOf, toUsd } from '@runledger/domain';
import { describeWithClaude, prepareClaudeHome, readTranscript, transcriptsOf } from '../support/claude-code/claude-env';
import { FakeAnthropicApi, ScriptedUsage, startFakeAnthropicApi } from '../support/claude-code/fake-anthropic-api';
import { makeRepo } from '../support/git-repo';
import { apiClient, eventually } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { runCli, ServerProcess, startServerProcess } from '../support/server-process';

const TOKEN = 'usage-e2e-admin-token-0123456789';

/** Token sums of a transcript the way its reader must count them: one model call per message id, its last line's usage. */
const transcriptUsage = (file: string) => {
  const last = new Map<string, { id: string; model: string; usage: Record<string, number> }>();
  for (const line of readTranscript(file)) {
    if (line.type !== 'assistant' || !line.message?.usage || line.message.model === '<synthetic>') continue;
    last.set(line.message.id, { id: line.message.id, model: line.message.model, usage: line.message.usage });
  }
  const calls = [...last.values()];
  const sum = (field: string) => calls.reduce((n, c) => n + (c.usage[field] ?? 0), 0);
  const tokens = {
    inputTokens: sum('input_tokens'),
    outputTokens: sum('output_tokens'),
    cacheReadTokens: sum('cache_read_input_tokens'),
    cacheCreationTokens: sum('cache_creation_input_tokens'),
  };
  const models = [...new Set(calls.map((c) => c.model))];
  return { calls: calls.length, ...tokens, models, perCall: calls };
};

/**
 * The project's own price for every Claude model the shipped table does not name (a prefix: the CLI under test asks for
 * models newer than the table, whose prices runledger must not guess); the shipped prices still win for the models they name.
 */
const PROJECT_PRICES = { 'claude-': { inputPerMTok: 2, outputPerMTok: 10, cacheReadPerMTok: 0.2, cacheCreationPerMTok: 2.5 } };

/** USD of the calls at the shipped price table with the project's prices (null when a model has none), computed here from the transcript alone. */
const expectedCost = (perCall: Array<{ model: string; usage: Record<string, number> }>, prices: Record<string, ModelPrice> = { ...DEFAULT_PRICE_TABLE.models, ...PROJECT_PRICES }): number | null => {
  let micros = 0;
  for (const c of perCall) {
    const price = priceOf(prices, c.model);
    if (!price) return null;
    micros += costMicros(price, {
      inputTokens: c.usage.input_tokens ?? 0, outputTokens: c.usage.output_tokens ?? 0,
      cacheReadTokens: c.usage.cache_read_input_tokens ?? 0, cacheCreationTokens: c.usage.cache_creation_input_tokens ?? 0,
    });
  }
  return toUsd(micros);
};

const u = (input: number, output: number, cacheRead: number, cacheCreation: number): ScriptedUsage => ({
  input_tokens: input, output_tokens: output, cache_read_input_tokens: cacheRead, cache_creation_input_tokens: cacheCreation,
});

/**
 * docs/ARCHITECTURE.md §4g with the real Claude Code CLI against the scripted Messages API, whose answers carry known
 * usage, a sub-agent included: `runledger usage` equals the transcript's usage per run and session, the sub-agent
 * rolled into its session, cost from the price table; an import of the same transcript into another server gives the
 * same figures, and a second import appends nothing.
 */
describeWithClaude('usage from the real Claude Code CLI', () => {
  let root: string;
  let fake: FakeAnthropicApi;
  let server: ServerProcess;
  let cli: Record<string, string>;
  let transcript: string;
  let sessionId: string;
  let usageJson: Record<string, any>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rl-usage-'));
    fake = await startFakeAnthropicApi();
    const home = prepareClaudeHome(join(root, 'home'), { apiUrl: fake.url });
    server = await startServerProcess({ ...home.env, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: '' });
    cli = { RUNLEDGER_URL: server.url, RUNLEDGER_TOKEN: TOKEN };
    const api = apiClient(server.url, TOKEN);
    expect((await api.post('/projects', { id: 'us', name: 'us', repoPath: makeRepo(join(root, 'repo')), prices: PROJECT_PRICES })).status).toBe(201);
    fake.push(
      { tools: [{ name: 'Bash', input: { command: 'echo usage-main-call', description: 'main agent call' } }], usage: u(101, 11, 1001, 201) },
      { tools: [{ name: 'Agent', input: { description: 'look around', prompt: 'echo once', subagent_type: 'general-purpose' } }], usage: u(102, 12, 1002, 202) },
      { tools: [{ name: 'Bash', input: { command: 'echo usage-sub-agent-call', description: 'sub-agent call' } }], usage: u(103, 13, 1003, 203) },
      { text: 'Sub-agent done.', usage: u(104, 14, 1004, 204) },
      { text: 'All done.', usage: u(105, 15, 1005, 205) },
    );
    const spawned = await api.post('/sessions', { projectId: 'us', agent: 'claude-code', prompt: 'use a sub-agent' });
    expect(spawned.status).toBe(201);
    sessionId = spawned.body.id;
    await eventually(async () => (await api.get(`/sessions/${sessionId}`)).body.status === 'exited' || null, 'the agent to finish', 90_000, 200);
    [transcript] = transcriptsOf(home.home, spawned.body.worktrees[0].path);
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await fake?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  const subagentFiles = () => {
    const dir = join(transcript.replace(/\.jsonl$/, ''), 'subagents');
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => join(dir, f)) : [];
  };

  it('runledger usage equals the transcript usage per run and session, the sub-agent rolled up, cost from the price table', async () => {
    const [sub] = subagentFiles();
    expect(sub).toBeDefined();
    const main = transcriptUsage(transcript);
    const child = transcriptUsage(sub);
    // Each model call of the transcripts carries the usage the stand-in answered it with (matched by message id).
    const answered = new Map(fake.requests.flatMap((r) => ('id' in r.answer ? [[r.answer.id, r.answer.usage] as const] : [])));
    for (const call of [...main.perCall, ...child.perCall]) {
      expect(answered.has(call.id)).toBe(true);
      expect(call.usage).toMatchObject(answered.get(call.id)!);
    }
    expect([...main.perCall, ...child.perCall].map((c) => c.usage.input_tokens)).toEqual(expect.arrayContaining([101, 102, 103]));

    usageJson = await eventually(async () => {
      const run = await runCli(['usage', sessionId, '--json'], cli);
      const body = run.code === 0 ? JSON.parse(run.stdout) : null;
      return body && body.calls === main.calls + child.calls ? body : null;
    }, 'the usage of every model call to be recorded', 30_000, 250);

    const field = (t: Record<string, number>) => ({ inputTokens: t.inputTokens, outputTokens: t.outputTokens, cacheReadTokens: t.cacheReadTokens, cacheCreationTokens: t.cacheCreationTokens });
    const both = {
      inputTokens: main.inputTokens + child.inputTokens, outputTokens: main.outputTokens + child.outputTokens,
      cacheReadTokens: main.cacheReadTokens + child.cacheReadTokens, cacheCreationTokens: main.cacheCreationTokens + child.cacheCreationTokens,
    };
    expect(field(usageJson)).toEqual(both);
    expect(usageJson.costUsd).toBe(expectedCost([...main.perCall, ...child.perCall]));
    expect(usageJson.costUsd).not.toBeNull();
    expect(usageJson.prices.projectOverrides).toEqual(['claude-']);
    // Without the project's prices, a model the shipped table does not name has no cost, and says which (never a guess).
    const shippedOnly = expectedCost([...main.perCall, ...child.perCall], DEFAULT_PRICE_TABLE.models);
    const models = [...new Set([...main.models, ...child.models])];
    if (shippedOnly === null) expect(models.some((m) => priceOf(DEFAULT_PRICE_TABLE.models, m) === undefined)).toBe(true);
    const subRun = `subagent:${basename(sub, '.jsonl')}`;
    expect(usageJson.subagents).toEqual([expect.objectContaining({ subagent: basename(sub), runId: subRun, ...field(child as never), calls: child.calls })]);
    const runs = usageJson.runs as Array<Record<string, any>>;
    expect(field(runs.find((r) => r.runId === subRun)!)).toEqual(field(child as never));
    const mainRuns = runs.filter((r) => r.subagent === undefined);
    expect(mainRuns).toHaveLength(1);
    expect(field(mainRuns[0])).toEqual(field(main as never));
    const text = await runCli(['usage', sessionId], cli);
    expect(text.stdout).toContain(`sub-agent ${basename(sub)}`);

    const byProject = JSON.parse((await runCli(['usage', '--project', 'us', '--group-by', 'session', '--json'], cli)).stdout);
    expect(byProject.groups).toEqual([expect.objectContaining({ key: sessionId, ...both, costUsd: usageJson.costUsd })]);
  });

  it('an import of the same transcript (into a server on PostgreSQL) gives the same figures, and a second import appends nothing', async () => {
    const pg = chosenPostgres();
    if ('skip' in pg) return console.warn(`import on PostgreSQL skipped: ${pg.skip}`);
    const copy = join(root, 'copy');
    cpSync(transcript, join(copy, basename(transcript)));
    cpSync(transcript.replace(/\.jsonl$/, ''), join(copy, basename(transcript, '.jsonl')), { recursive: true });
    const { url, drop } = await createTestDatabase(pg);
    const other = await startServerProcess({ RUNLEDGER_DATA_DIR: join(root, 'data-pg'), RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: url });
    try {
      const env = { RUNLEDGER_URL: other.url, RUNLEDGER_TOKEN: TOKEN };
      expect((await apiClient(other.url, TOKEN).post('/projects', { id: 'imp', name: 'imp', repoPath: makeRepo(join(root, 'repo-imp')), prices: PROJECT_PRICES })).status).toBe(201);
      const file = join(copy, basename(transcript));
      const first = await runCli(['import', 'claude-code', file, '--project', 'imp', '--json'], env);
      expect(first.code).toBe(0);
      const imported = JSON.parse(first.stdout).sessionId as string;
      const figures = async () => {
        const body = JSON.parse((await runCli(['usage', imported, '--json'], env)).stdout);
        return { calls: body.calls, inputTokens: body.inputTokens, outputTokens: body.outputTokens, cacheReadTokens: body.cacheReadTokens, cacheCreationTokens: body.cacheCreationTokens, costUsd: body.costUsd, subagents: body.subagents };
      };
      const expected = {
        calls: usageJson.calls, inputTokens: usageJson.inputTokens, outputTokens: usageJson.outputTokens, cacheReadTokens: usageJson.cacheReadTokens,
        cacheCreationTokens: usageJson.cacheCreationTokens, costUsd: usageJson.costUsd, subagents: usageJson.subagents,
      };
      expect(await eventually(async () => { const f = await figures(); return f.calls === expected.calls ? f : null; }, 'the imported usage', 15_000)).toEqual(expected);
      const events = async () => (await apiClient(other.url, TOKEN).get(`/sessions/${imported}/events?limit=1000`)).body.events as Array<{ type: string }>;
      const before = await events();
      expect(before.filter((e) => e.type === 'UsageRecorded')).toHaveLength(usageJson.calls);
      const again = await runCli(['import', 'claude-code', file, '--project', 'imp', '--json'], env);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ sessionId: imported });
      expect(await events()).toHaveLength(before.length);
      expect(await figures()).toEqual(expected);
    } finally {
      await other.stop();
      await drop();
    }
  });
});
