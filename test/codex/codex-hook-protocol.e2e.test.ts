import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRolloutFile } from '@runledger/infra/agents/codex/rollout-parser';
import { makeRepo } from '../support/git-repo';
import { DECIDE_HOOK, describeWithCodex, execFlags, hooksJson, prepareCodexHome, rolloutsOf, runCodex } from '../support/codex/codex-env';
import { FakeResponsesApi, startFakeResponsesApi } from '../support/codex/fake-responses-api';

describeWithCodex('Codex PreToolUse hook protocol (real CLI)', () => {
  let root: string;
  let api: FakeResponsesApi;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rl-codex-hooks-'));
  });
  afterAll(async () => {
    await api?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('denies on exit 2 + stderr and on a JSON deny, and runs the tool when the hook itself fails (fail-open)', async () => {
    api = await startFakeResponsesApi({
      script: [
        { exec: [{ cmd: 'touch by-exit-2' }] },
        { exec: [{ cmd: 'touch by-json-deny' }] },
        { exec: [{ cmd: 'touch hook-crashes' }] },
        { exec: [{ cmd: 'touch allowed' }] },
        { text: 'All done.' },
      ],
    });
    const repo = makeRepo(join(root, 'repo'));
    const log = join(root, 'pre.jsonl');
    const rules = join(root, 'rules.json');
    writeFileSync(rules, JSON.stringify([
      { match: 'by-exit-2', exit: 2, stderr: 'no, by exit 2' },
      { match: 'by-json-deny', stdout: { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: 'no, by JSON' } } },
      { match: 'hook-crashes', exit: 1, stderr: 'the hook broke' },
    ]));
    const home = prepareCodexHome(join(root, 'home'), { apiUrl: api.url, hooksJson: hooksJson(() => `node ${DECIDE_HOOK} ${log} ${rules}`, ['PreToolUse']), trustHooks: true });
    const run = await runCodex(['exec', ...execFlags(), 'try four commands'], { cwd: repo, home });

    expect(run.code).toBe(0);
    expect(['by-exit-2', 'by-json-deny', 'hook-crashes', 'allowed'].map((f) => existsSync(join(repo, f)))).toEqual([false, false, true, true]);
    const parsed = await parseRolloutFile(rolloutsOf(home)[0]);
    expect(parsed.toolCalls.map((c) => c.callId)).toEqual(api.callIds);
    expect(parsed.toolCalls.map((c) => [c.result?.status, c.result?.output])).toEqual([
      ['failed', 'Command blocked by PreToolUse hook: no, by exit 2. Command: touch by-exit-2'],
      ['failed', 'Command blocked by PreToolUse hook: no, by JSON. Command: touch by-json-deny'],
      ['completed', ''],
      ['completed', ''],
    ]);
    const seen = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(seen.map((h) => h.tool_use_id)).toEqual(api.callIds);
    // denied calls get no --json item: only the two that ran
    const items = run.events.filter((e) => e.type === 'item.completed' && e.item.type === 'command_execution');
    expect(items.map((e) => e.item.command)).toEqual([expect.stringContaining('touch hook-crashes'), expect.stringContaining('touch allowed')]);
  });
});
