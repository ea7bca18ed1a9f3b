import { orchestratorHealth } from './orchestrator-health';

describe('orchestrator health (docs/ARCHITECTURE.md §4b)', () => {
  it('is live when running with a live runtime and the configured agent', () =>
    expect(orchestratorHealth({ status: 'running', agent: 'claude-code', alive: true, configuredAgent: 'claude-code' })).toBe('live'));
  it('is live when the project configures no agent', () =>
    expect(orchestratorHealth({ status: 'running', agent: 'command', alive: true })).toBe('live'));
  it('needs a restart when it runs another agent than the configured one', () =>
    expect(orchestratorHealth({ status: 'running', agent: 'command', alive: true, configuredAgent: 'claude-code' })).toBe('restart_needed'));
  it('is interrupted when running but its runtime is gone (a reboot)', () =>
    expect(orchestratorHealth({ status: 'running', agent: 'command', alive: false, configuredAgent: 'claude-code' })).toBe('interrupted'));
  it.each(['interrupted', 'starting'] as const)('is interrupted when %s', (status) =>
    expect(orchestratorHealth({ status, agent: 'command', alive: false })).toBe('interrupted'));
  it('is retiring while a replacement is under way or stopped half-way', () =>
    expect(orchestratorHealth({ status: 'retiring', agent: 'command', alive: true })).toBe('retiring'));
  it('is terminated when it ended outside a replacement', () =>
    expect(orchestratorHealth({ status: 'terminated', agent: 'command', alive: false })).toBe('terminated'));
});
