import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRolloutFile } from '@runledger/infra/agents/codex/rollout-parser';
import { makeRepo } from '../support/git-repo';
import { describeWithCodex, execFlags, hooksJson, prepareCodexHome, RECORD_HOOK, rolloutsOf, runCodex } from '../support/codex/codex-env';
import { FakeResponsesApi, startFakeResponsesApi } from '../support/codex/fake-responses-api';

describeWithCodex('the real Codex CLI against the scripted Responses API stand-in', () => {
  let root: string;
  let api: FakeResponsesApi;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rl-codex-smoke-'));
  });
  afterAll(async () => {
    await api?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('runs exec and apply_patch; the rollout, the --json items and the trusted hooks agree call for call', async () => {
    api = await startFakeResponsesApi({
      script: [
        { exec: [{ cmd: 'echo smoke > out.txt && cat out.txt' }] },
        { patch: '*** Begin Patch\n*** Add File: patched.txt\n+patched\n*** End Patch\n' },
        { exec: [{ cmd: 'exit 4' }] },
        { text: 'All done.' },
      ],
    });
    const repo = makeRepo(join(root, 'repo'));
    const log = join(root, 'hooks.jsonl');
    const hooks = hooksJson((event) => `node ${RECORD_HOOK} ${log}`, ['PreToolUse', 'PostToolUse']);
    // trusted through config.toml, not --dangerously-bypass-hook-trust: an untrusted hook would be skipped without a word
    const home = prepareCodexHome(join(root, 'home'), { apiUrl: api.url, hooksJson: hooks, trustHooks: true });
    const run = await runCodex(['exec', ...execFlags(), 'write, patch, fail'], { cwd: repo, home });

    expect(run.code).toBe(0);
    expect(readFileSync(join(repo, 'out.txt'), 'utf8')).toBe('smoke\n');
    expect(readFileSync(join(repo, 'patched.txt'), 'utf8')).toBe('patched\n');
    const threadId = run.events.find((e) => e.type === 'thread.started')?.thread_id;
    const [rollout] = rolloutsOf(home);
    expect(rollout).toMatch(new RegExp(`-${threadId}\\.jsonl$`));

    const parsed = await parseRolloutFile(rollout);
    expect(parsed.agentSessionId).toBe(threadId);
    expect(parsed.toolCalls.map((c) => c.callId)).toEqual(api.callIds);
    expect(parsed.runs).toEqual([expect.objectContaining({ prompt: 'write, patch, fail', endedAt: expect.any(String) })]);
    // --json items carry their own ids (item_N), not the call ids: compare in order, by kind and status
    const items = run.events.filter((e) => e.type === 'item.completed' && ['command_execution', 'file_change'].includes(e.item.type)).map((e) => e.item);
    expect(items.map((i) => [i.type, i.status])).toEqual([
      ['command_execution', 'completed'],
      ['file_change', 'completed'],
      ['command_execution', 'failed'],
    ]);
    expect(parsed.toolCalls.map((c) => [c.tool, c.result?.status])).toEqual([
      ['Bash', 'completed'],
      ['apply_patch', 'completed'],
      ['Bash', 'failed'],
    ]);
    expect(items[0].command).toContain('echo smoke > out.txt && cat out.txt');

    expect(existsSync(log)).toBe(true);
    const recorded = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const pre = recorded.filter((h) => h.hook_event_name === 'PreToolUse');
    expect(pre.map((h) => [h.tool_use_id, h.tool_name, h.tool_input])).toEqual(parsed.toolCalls.map((c) => [c.callId, c.tool, c.input]));
    const post = recorded.filter((h) => h.hook_event_name === 'PostToolUse');
    expect(post.map((h) => [h.tool_use_id, h.tool_response])).toEqual(parsed.toolCalls.map((c) => [c.callId, c.result?.output]));
    expect(pre[0]).toMatchObject({ session_id: threadId, transcript_path: rollout, cwd: repo });
  });
});
