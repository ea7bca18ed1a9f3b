import { agentCapabilities, isCodingAgent, LAUNCHABLE_AGENTS, recordingAgent } from './agent-kinds';

describe('agent kinds (docs/ARCHITECTURE.md §4d)', () => {
  it('knows which agents post hooks, resume natively and run interactively', () => {
    expect(agentCapabilities('claude-code')).toMatchObject({ hooks: true, nativeResume: true, interactive: true });
    expect(agentCapabilities('codex')).toMatchObject({ hooks: true, nativeResume: true, interactive: false });
    expect(agentCapabilities('opencode')).toMatchObject({ hooks: true, nativeResume: true, interactive: false, label: 'OpenCode' });
    expect(agentCapabilities('gemini-cli')).toMatchObject({ hooks: true, nativeResume: true, interactive: false, label: 'Gemini CLI' });
    expect(agentCapabilities('command')).toMatchObject({ hooks: false, nativeResume: false });
    // A kind written by a newer runledger has no capability here rather than a crash.
    expect(agentCapabilities('future-agent' as never)).toMatchObject({ hooks: false, nativeResume: false, interactive: false });
  });

  it('launches commands and coding agents, never external sessions', () => {
    expect(LAUNCHABLE_AGENTS).toEqual(['command', 'claude-code', 'codex', 'opencode', 'gemini-cli']);
    expect(isCodingAgent('codex')).toBe(true);
    expect(isCodingAgent('external')).toBe(false);
  });

  it('reads an external session through its observed agent, Claude Code when it names none (streams before Codex)', () => {
    expect(recordingAgent({ agent: 'external' })).toBe('claude-code');
    expect(recordingAgent({ agent: 'external', observedAgent: 'codex' })).toBe('codex');
    expect(recordingAgent({ agent: 'codex' })).toBe('codex');
    expect(recordingAgent({ agent: 'command' })).toBe('claude-code'); // a command running Claude Code, its hooks linking a transcript
  });
});
