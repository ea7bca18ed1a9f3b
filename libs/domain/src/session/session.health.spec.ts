import { sessionHealth } from './session.health';
import type { SessionView } from './session.view';

const at = (minute: number): string => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
const view = (over: Partial<SessionView> = {}): SessionView =>
  ({ agent: 'claude-code', status: 'running', createdAt: at(0), lastHookAt: at(0), activity: 'working', agentSessionId: 'cc-1', ...over }) as SessionView;
const now = Date.parse(at(11));

describe('sessionHealth: the hook channel of a Claude Code session', () => {
  it('is healthy while hooks arrive', () => expect(sessionHealth(view({ lastHookAt: at(10) }), { now, runtimeAlive: true })).toEqual([]));

  it('flags no_signal when a live, working agent has been silent past the threshold, not an idle one', () => {
    expect(sessionHealth(view(), { now, runtimeAlive: true })).toEqual(['no_signal']);
    expect(sessionHealth(view({ activity: 'idle' }), { now, runtimeAlive: true })).toEqual([]);
    expect(sessionHealth(view({ activity: 'waiting_input' }), { now, runtimeAlive: true })).toEqual([]);
  });

  it('flags unfinished_call for a call dispatched long ago without its result', () => {
    expect(sessionHealth(view({ lastHookAt: at(10) }), { now, runtimeAlive: true, openCallSince: at(0) })).toEqual(['unfinished_call']);
    expect(sessionHealth(view({ lastHookAt: at(10) }), { now, runtimeAlive: true, openCallSince: at(9) })).toEqual([]);
  });

  it('flags no_session_end for an agent whose runtime ended without SessionEnd', () => {
    expect(sessionHealth(view({ activity: 'idle' }), { now, runtimeAlive: false })).toEqual(['no_session_end']);
    expect(sessionHealth(view({ activity: 'idle', agentEnded: { reason: 'other', at: at(1) } }), { now, runtimeAlive: false })).toEqual([]);
  });

  it('says nothing for agents without a hook channel or terminated sessions', () => {
    expect(sessionHealth(view({ agent: 'command' }), { now, runtimeAlive: true })).toEqual([]);
    expect(sessionHealth(view({ status: 'terminated' }), { now, runtimeAlive: false })).toEqual([]);
    expect(sessionHealth(view({ agent: 'external', agentSessionId: undefined }), { now, runtimeAlive: null, openCallSince: at(0) })).toEqual([]);
  });

  it('judges a remote session from its signals alone: silent and not ended is no_signal, shipped bytes count as a signal, never no_session_end', () => {
    const remote = (over: Partial<SessionView> = {}) => view({ agent: 'external', status: 'starting', remote: { host: 'laptop', person: 'alice' }, ...over });
    expect(sessionHealth(remote(), { now, runtimeAlive: null })).toEqual(['no_signal']);
    expect(sessionHealth(remote(), { now, runtimeAlive: null, lastShippedAt: Date.parse(at(10)) })).toEqual([]);
    expect(sessionHealth(remote({ agentEnded: { reason: 'other', at: at(1) } }), { now, runtimeAlive: null })).toEqual([]);
    expect(sessionHealth(remote({ activity: 'idle' }), { now, runtimeAlive: null })).toEqual([]);
    expect(sessionHealth(view({ agent: 'external', status: 'starting' }), { now, runtimeAlive: null })).toEqual([]); // a local external session: no runtime seen, no verdict
  });

  it('flags unfinished_call for a Claude session recorded through installed hooks (external, no runtime)', () => {
    expect(sessionHealth(view({ agent: 'external', lastHookAt: at(10) }), { now, runtimeAlive: null, openCallSince: at(0) })).toEqual(['unfinished_call']);
  });
});
