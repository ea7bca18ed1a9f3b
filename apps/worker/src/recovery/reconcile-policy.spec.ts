import { Session } from '@runledger/domain';
import { restoreDecision } from './reconcile-policy';

const session = (over: Partial<Session>): Session => ({ kind: 'worker', agent: 'command', ...over }) as Session;

describe('restore policy after a restart (DESIGN §4, seed 001)', () => {
  it('relaunches an orchestrator, a worker with a prompt and a resumable Claude session', () => {
    expect(restoreDecision(session({ kind: 'orchestrator' })).relaunch).toBe(true);
    expect(restoreDecision(session({ prompt: 'fix the bug' })).relaunch).toBe(true);
    expect(restoreDecision(session({ agent: 'claude-code', agentSessionId: 'abc' })).relaunch).toBe(true);
  });
  it('leaves a promptless worker and an external session interrupted', () => {
    expect(restoreDecision(session({}))).toMatchObject({ relaunch: false, why: expect.stringContaining('not resumable') });
    expect(restoreDecision(session({ agent: 'external', prompt: 'x' })).relaunch).toBe(false);
  });
  it('never relaunches a retiring orchestrator: its replacement completes it', () => {
    expect(restoreDecision(session({ kind: 'orchestrator', status: 'retiring' }))).toMatchObject({ relaunch: false, why: expect.stringContaining('retiring') });
  });
});
