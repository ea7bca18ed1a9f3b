import { DomainError } from '@runledger/domain';
import { AgentLaunch } from '../agent-adapter';
import { OpencodeAdapter, opencodePluginFile, withRunledgerPlugin } from './opencode.adapter';

const launch = (over: Partial<AgentLaunch> = {}): AgentLaunch => ({
  sessionId: 'oc-1', workdir: '/wt/oc-1', prompt: 'do it', runtime: 'process', env: {}, url: 'http://127.0.0.1:8787', runner: { kind: 'shim', argv: [] }, ...over,
});

describe('OpenCode adapter (docs/ARCHITECTURE.md §4d)', () => {
  const previous = process.env.RUNLEDGER_OPENCODE_BIN;
  beforeAll(() => (process.env.RUNLEDGER_OPENCODE_BIN = '/opt/opencode'));
  afterAll(() => (previous === undefined ? delete process.env.RUNLEDGER_OPENCODE_BIN : (process.env.RUNLEDGER_OPENCODE_BIN = previous)));
  const adapter = new OpencodeAdapter();

  it('runs `opencode run --format json <prompt>`, and resumes natively with --session', () => {
    expect(adapter.prepare(launch())).toEqual(['/opt/opencode', 'run', '--format', 'json', 'do it']);
    expect(adapter.prepare(launch({ resume: { agentSessionId: 'ses_1', prompt: 'go on' } }))).toEqual(['/opt/opencode', 'run', '--format', 'json', '--session', 'ses_1', 'go on']);
  });

  it('names the plugin in OPENCODE_CONFIG_CONTENT (the request\'s own config kept), with the hold, failure mode and PWD', () => {
    const env = adapter.launchEnv(launch({ env: { OPENCODE_CONFIG_CONTENT: '{"plugin":["x"],"model":"a/b"}' }, hooks: { hookHoldSeconds: 5, hookFailure: 'open' } }));
    expect(JSON.parse(env.OPENCODE_CONFIG_CONTENT)).toEqual({ plugin: ['x', `file://${opencodePluginFile()}`], model: 'a/b' });
    expect(env).toMatchObject({ PWD: '/wt/oc-1', RUNLEDGER_HOOK_HOLD_SECONDS: '5', RUNLEDGER_HOOK_FAILURE: 'open' });
    expect(withRunledgerPlugin(withRunledgerPlugin(undefined, '/p.js'), '/p.js')).toBe('{"plugin":["file:///p.js"]}');
    expect(() => withRunledgerPlugin('[1]', '/p.js')).toThrow(DomainError);
  });

  it('tells OpenCode\'s own process from its tools\' children', () => {
    expect(adapter.isAgentProcess(['/opt/opencode', 'run', '--format', 'json', 'x'])).toBe(true);
    expect(adapter.isAgentProcess(['/bin/bash', '-c', 'sleep 4'])).toBe(false);
  });

  it('maps a plugin payload, refusing a bad one with HOOK.INVALID naming the field', () => {
    expect(adapter.hookDialect.payload({ event: 'session.idle', sessionID: 's' })).toMatchObject({ hook_event_name: 'Stop', session_id: 's' });
    expect(() => adapter.hookDialect.payload({ event: 'session.idle' })).toThrow(expect.objectContaining({ code: 'HOOK.INVALID', details: { field: 'sessionID' } }));
  });
});
