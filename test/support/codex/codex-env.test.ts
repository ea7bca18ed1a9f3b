import { join } from 'node:path';
import { hooksJson, hookTrustToml, parseJsonEvents, rolloutCalls, rolloutLastTurnEnded } from './codex-env';

const FIXTURES = join(__dirname, '../../fixtures/codex');

describe('codex-env helpers', () => {
  it('hookTrustToml gives the key and hash that codex-cli 0.171.0 accepted as trusted (measured: without them the hook did not run)', () => {
    const file = '/tmp/cx/T-UcbkEr/home/hooks.json';
    expect(hookTrustToml(file, hooksJson(() => 'node /tmp/cx/hook.js PreToolUse', ['PreToolUse']))).toBe(
      '[hooks.state."/tmp/cx/T-UcbkEr/home/hooks.json:pre_tool_use:0:0"]\n' +
        'trusted_hash = "sha256:aae17cc721f5d8fcdfb1b1ca7cd7886121097eaa8635874683d176abfc112e31"\n',
    );
  });

  it('hookTrustToml names each handler by event (snake case), group and handler index, and hashes the timeout', () => {
    const text = JSON.stringify({ hooks: { UserPromptSubmit: [{ hooks: [{ type: 'command', command: 'a' }, { type: 'command', command: 'a', timeout: 600 }] }] } });
    const lines = hookTrustToml('/h.json', text).split('\n');
    expect(lines.filter((l) => l.startsWith('['))).toEqual(['[hooks.state."/h.json:user_prompt_submit:0:0"]', '[hooks.state."/h.json:user_prompt_submit:0:1"]']);
    expect(lines[1]).toBe(lines[4]); // an explicit timeout of 600 is the default's identity
    const other = hookTrustToml('/h.json', JSON.stringify({ hooks: { UserPromptSubmit: [{ hooks: [{ type: 'command', command: 'a', timeout: 5 }] }] } }));
    expect(other.split('\n')[1]).not.toBe(lines[1]);
  });

  it('parseJsonEvents keeps the JSON event lines of --json output and leaves the rest out', () => {
    expect(parseJsonEvents('{"type":"turn.started"}\nnot json\n[1]\n{"no":"type"}\n{"type":"turn.completed","usage":{}}\n')).toEqual([
      { type: 'turn.started' },
      { type: 'turn.completed', usage: {} },
    ]);
  });

  it('rolloutCalls and rolloutLastTurnEnded read real rollouts: a killed turn never ends (also after a resume), its cut call has no status', () => {
    const killed = rolloutCalls(join(FIXTURES, 'killed-mid-exec.rollout.jsonl'));
    expect(killed).toEqual([{ callId: expect.stringMatching(/^call_/), tool: 'Bash' }]);
    expect(rolloutLastTurnEnded(join(FIXTURES, 'killed-mid-exec.rollout.jsonl'))).toBe(false);
    const resumed = rolloutCalls(join(FIXTURES, 'resumed.rollout.jsonl'));
    expect(resumed[0]).toEqual(killed[0]); // the resumed rollout holds the killed one, the cut call still without a result
    expect(rolloutLastTurnEnded(join(FIXTURES, 'resumed.rollout.jsonl'))).toBe(true); // the resume's own turn ended
    const tools = rolloutCalls(join(FIXTURES, 'session-tools.rollout.jsonl'));
    expect(tools.map((c) => c.tool)).toEqual(expect.arrayContaining(['Bash', 'apply_patch']));
    expect(tools.every((c) => c.status === 'completed' || c.status === 'failed')).toBe(true);
    expect(rolloutLastTurnEnded(join(FIXTURES, 'session-tools.rollout.jsonl'))).toBe(true);
    // write_stdin polls of a yielded exec are not calls
    expect(rolloutCalls(join(FIXTURES, 'yielded-exec.rollout.jsonl')).map((c) => c.tool)).not.toContain('write_stdin');
  });
});
