import { given } from '../shared/given-when-then';
import type { SessionEvent } from '../session/session.events';
import { reviveSession, sessionDecider, type Session } from '../session/session.decider';
import { usageCommands } from '../session/reconcile.policy';
import { DEFAULT_PRICE_TABLE, priceOf } from './price-table';
import type { RecordUsage, UsageRecorded } from './usage.events';
import { sessionUsage, usageReport, type UsageRollupRow } from './usage.view';

const T = '2025-01-01T00:00:00.000Z';
const started: SessionEvent = {
  type: 'SessionStarted',
  data: { sessionId: 'rl-1', projectId: 'p1', kind: 'worker', agent: 'claude-code', branch: 'b', at: T } as never,
};
const usage = (key: string, over: Partial<UsageRecorded['data']> = {}): UsageRecorded['data'] => ({
  key, model: 'claude-sonnet-4-5-20250929', inputTokens: 10, outputTokens: 20, cacheReadTokens: 30, cacheCreationTokens: 40, source: 'transcript', at: T, ...over,
});
const record = (key: string): RecordUsage => ({ type: 'RecordUsage', data: usage(key) });

describe('RecordUsage (docs/ARCHITECTURE.md §4g)', () => {
  it('appends UsageRecorded for a model call not recorded yet', () =>
    given(sessionDecider, [started]).when(record('msg_1')).then([{ type: 'UsageRecorded', data: usage('msg_1') }]));

  it('appends nothing for a call whose key is already recorded (a second reconcile or import)', () =>
    given(sessionDecider, [started, { type: 'UsageRecorded', data: usage('msg_1') }]).when(record('msg_1')).then([]));

  it('keeps the recorded keys across a snapshot (JSON) and reviveSession', () => {
    const state = [started, { type: 'UsageRecorded', data: usage('msg_1') } as SessionEvent].reduce(sessionDecider.evolve, sessionDecider.initialState());
    const revived = reviveSession(JSON.parse(JSON.stringify(state))) as Session;
    expect(sessionDecider.decide(record('msg_1'), revived)).toEqual([]);
    expect(sessionDecider.decide(record('msg_2'), revived)).toHaveLength(1);
  });

  it('usageCommands skips recorded keys and, until the transcript is settled, a call that may still grow', () => {
    const state = [started, { type: 'UsageRecorded', data: usage('a') } as SessionEvent].reduce(sessionDecider.evolve, sessionDecider.initialState()) as Session;
    const facts = ['a', 'b', 'c'].map((key, i) => ({ ...usage(key), runId: i === 1 ? 'run-1' : null, complete: key !== 'c' }));
    expect(usageCommands(state, { usage: facts, settled: false }).map((c) => (c as RecordUsage).data.key)).toEqual(['b']);
    const settled = usageCommands(state, { usage: facts, settled: true }, 'import') as RecordUsage[];
    expect(settled.map((c) => c.data.key)).toEqual(['b', 'c']);
    expect(settled[0].data).toMatchObject({ runId: 'run-1', source: 'import' });
    expect(settled[1].data).not.toHaveProperty('runId');
  });

  it('usageCommands never records a conversation fork\'s inherited messages (its source\'s usage) again', () => {
    const forkedFrom = { sessionId: 'src', callId: 'c1', phase: 'after' as const, tree: 't', forkMode: 'conversation' as const, inheritedMessages: ['a', 'b'] };
    const state = { ...(sessionDecider.evolve(sessionDecider.initialState(), started) as Session), forkedFrom } as Session;
    const facts = ['a', 'b', 'c'].map((key) => ({ ...usage(key), runId: null, complete: true }));
    expect(usageCommands(state, { usage: facts, settled: true }).map((c) => (c as RecordUsage).data.key)).toEqual(['c']);
  });
});

describe('prices and usage totals', () => {
  const row = (over: Partial<UsageRollupRow>): UsageRollupRow => ({
    sessionId: 'rl-1', projectId: 'p1', day: '2025-01-01', runId: 'r1', subagent: null, model: 'claude-sonnet-4-5', calls: 1,
    inputTokens: 1_000_000, outputTokens: 1_000_000, cacheReadTokens: 1_000_000, cacheCreationTokens: 1_000_000, ...over,
  });

  it('matches a dated model id by its longest known prefix', () => {
    expect(priceOf(DEFAULT_PRICE_TABLE.models, 'claude-sonnet-4-5-20250929')).toBe(DEFAULT_PRICE_TABLE.models['claude-sonnet-4-5']);
    expect(priceOf(DEFAULT_PRICE_TABLE.models, 'claude-opus-4-1-20250805')).toBe(DEFAULT_PRICE_TABLE.models['claude-opus-4-1']);
    expect(priceOf(DEFAULT_PRICE_TABLE.models, 'scripted-model')).toBeUndefined();
  });

  it('costs each token kind at its price and rolls sub-agents into the session', () => {
    const u = sessionUsage('rl-1', [row({}), row({ runId: 'subagent:agent-x', subagent: 'agent-x.jsonl', inputTokens: 2, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 })], DEFAULT_PRICE_TABLE);
    expect(u).toMatchObject({ inputTokens: 1_000_002, outputTokens: 1_000_000, calls: 2 });
    expect(u.costUsd).toBe(3 + 15 + 0.3 + 3.75 + 0.000006);
    expect(u.subagents).toEqual([expect.objectContaining({ subagent: 'agent-x.jsonl', inputTokens: 2, costUsd: 0.000006 })]);
    expect(u.runs.map((r) => r.runId)).toEqual(['r1', 'subagent:agent-x']);
  });

  it('gives a null cost naming the model it cannot price, never a guess; a project price fixes it', () => {
    const unknown = sessionUsage('rl-1', [row({}), row({ model: 'scripted-model' })], DEFAULT_PRICE_TABLE);
    expect(unknown.costUsd).toBeNull();
    expect(unknown.unpricedModels).toEqual(['scripted-model']);
    expect(unknown.models.find((m) => m.model === 'claude-sonnet-4-5')?.costUsd).toBe(22.05);
    const priced = sessionUsage('rl-1', [row({ model: 'scripted-model' })], DEFAULT_PRICE_TABLE, {
      'scripted-model': { inputPerMTok: 1, outputPerMTok: 2, cacheReadPerMTok: 0, cacheCreationPerMTok: 0 },
    });
    expect(priced.costUsd).toBe(3);
    expect(priced.prices.projectOverrides).toEqual(['scripted-model']);
  });

  it('groups per day, session or project, each project at its own prices', () => {
    const rows = [row({ day: '2025-01-01', model: 'm' }), row({ day: '2025-01-02', sessionId: 'q-1', projectId: 'p2', model: 'm' })];
    const overrides = new Map([['p1', { m: { inputPerMTok: 1, outputPerMTok: 0, cacheReadPerMTok: 0, cacheCreationPerMTok: 0 } }]]);
    const byDay = usageReport(rows, 'day', DEFAULT_PRICE_TABLE, overrides);
    expect(byDay.groups.map((g) => [g.key, g.costUsd])).toEqual([['2025-01-01', 1], ['2025-01-02', null]]);
    expect(byDay.costUsd).toBeNull();
    expect(usageReport(rows, 'project', DEFAULT_PRICE_TABLE, overrides).groups.map((g) => g.key)).toEqual(['p1', 'p2']);
    expect(usageReport(rows, 'session', DEFAULT_PRICE_TABLE, overrides).groups.map((g) => g.key)).toEqual(['rl-1', 'q-1']);
  });
});
