import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRolloutFile } from '@runledger/infra/agents/codex/rollout-parser';
import { makeRepo } from '../support/git-repo';
import { codexThreadProcesses, describeWithCodex, execFlags, hooksJson, prepareCodexHome, RECORD_HOOK, rolloutsOf, runCodex, startCodex } from '../support/codex/codex-env';
import { FakeResponsesApi, startFakeResponsesApi } from '../support/codex/fake-responses-api';

/** Polls `probe` every 100 ms until it returns a value (not undefined), at most `tries` times; throws with `what` after. */
const until = async <T>(what: string, probe: () => T | undefined, tries = 300): Promise<T> => {
  for (let i = 0; i < tries; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
};

describeWithCodex('Codex SIGKILLed mid-exec, then resumed natively (real CLI)', () => {
  let root: string;
  let api: FakeResponsesApi;
  const orphanGroups = new Set<number>();
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rl-codex-kill-'));
  });
  afterAll(async () => {
    for (const pgid of orphanGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await api?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('leaves the exec child running in its own group, the turn open and the call without result; resume appends to the same rollout', async () => {
    api = await startFakeResponsesApi({ script: [{ exec: [{ cmd: 'sleep 30 && touch finished-late', yield_time_ms: 30000 }] }] });
    const repo = makeRepo(join(root, 'repo'));
    const log = join(root, 'hooks.jsonl');
    const home = prepareCodexHome(join(root, 'home'), { apiUrl: api.url, hooksJson: hooksJson(() => `node ${RECORD_HOOK} ${log}`, ['PreToolUse', 'SessionStart']), trustHooks: true });
    const started = startCodex(['exec', ...execFlags(), 'wait for the slow command'], { cwd: repo, home });

    const pre = await until('the PreToolUse hook', () =>
      existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>).find((h) => h.hook_event_name === 'PreToolUse') : undefined);
    const threadId: string = pre.session_id;
    await until('the sleep to start', () => codexThreadProcesses(threadId).find((p) => p.command === 'sleep 30'));
    process.kill(-started.child.pid!, 'SIGKILL'); // the launcher's group: launcher and native codex, not the exec child
    const killed = await started.done;
    expect(killed.signal).toBe('SIGKILL');

    const orphan = await until('only the orphaned sleep to remain', () => {
      const left = codexThreadProcesses(threadId);
      return left.length === 1 && left[0].command === 'sleep 30' ? left[0] : undefined;
    });
    orphanGroups.add(orphan.pgid);
    expect(orphan.pgid).not.toBe(started.child.pid);
    process.kill(-orphan.pgid, 'SIGKILL');
    await until('the orphan group to be gone', () => (codexThreadProcesses(threadId).length === 0 ? true : undefined));
    expect(existsSync(join(repo, 'finished-late'))).toBe(false);

    const [rollout] = rolloutsOf(home);
    const cut = await parseRolloutFile(rollout);
    expect(cut.agentSessionId).toBe(threadId);
    expect(cut.runs.map((r) => r.endedAt)).toEqual([null]);
    expect(cut.toolCalls.map((c) => [c.callId, c.tool, c.result])).toEqual([[pre.tool_use_id, 'Bash', null]]);

    api.push({ text: 'Resumed.' });
    const resumed = await runCodex(['exec', ...execFlags(), 'resume', threadId, 'carry on'], { cwd: repo, home });
    expect(resumed.code).toBe(0);
    expect(resumed.events.find((e) => e.type === 'thread.started')?.thread_id).toBe(threadId);
    expect(rolloutsOf(home)).toEqual([rollout]);
    const after = await parseRolloutFile(rollout);
    expect(after.runs.map((r) => [r.prompt, r.endedAt === null])).toEqual([['wait for the slow command', true], ['carry on', false]]);
    expect(after.toolCalls.map((c) => [c.callId, c.result])).toEqual([[pre.tool_use_id, null]]);
    // the model is told "aborted" for the killed call, though the rollout never says so
    const resumeRequest = api.requests[api.requests.length - 1].body.input ?? [];
    expect(resumeRequest).toContainEqual(expect.objectContaining({ type: 'function_call_output', call_id: pre.tool_use_id, output: 'aborted' }));
    expect(readFileSync(rollout, 'utf8')).not.toContain('"aborted"');
    const sessionStarts = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((h) => h.hook_event_name === 'SessionStart');
    expect(sessionStarts.map((h) => h.source)).toEqual(['startup', 'resume']);
  });
});
