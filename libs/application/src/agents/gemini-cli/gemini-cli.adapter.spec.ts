import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunledgerConfig } from '@runledger/infra/config';
import { GeminiCliAdapter } from './gemini-cli.adapter';

describe('GeminiCliAdapter', () => {
  let root: string;
  let adapter: GeminiCliAdapter;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rl-gemini-adapter-'));
    adapter = new GeminiCliAdapter({ dataDir: join(root, 'data') } as RunledgerConfig);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const launch = (extra: Record<string, unknown> = {}) => ({
    sessionId: 'g-1', workdir: join(root, 'wt'), prompt: 'do it', runtime: 'process' as const, env: { HOME: join(root, 'user') },
    url: 'http://127.0.0.1:8787', runner: { kind: 'shim' as const, argv: ['/bin/bash', '/rl/bin/runledger-hook'] }, ...extra,
  });

  it("writes the session's private Gemini home: the user's settings with runledger's hooks over theirs; argv fresh or resumed", () => {
    mkdirSync(join(root, 'user', '.gemini'), { recursive: true });
    writeFileSync(join(root, 'user', '.gemini', 'settings.json'), JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } }, hooks: { BeforeTool: [] } }));
    const argv = adapter.prepare(launch());
    expect(argv.slice(1)).toEqual(['-p', 'do it', '--yolo', '-o', 'stream-json']);
    const settings = JSON.parse(readFileSync(join(root, 'data', 'agents', 'gemini-cli', 'g-1', '.gemini', 'settings.json'), 'utf8'));
    expect(settings.security).toEqual({ auth: { selectedType: 'gemini-api-key' } });
    expect(Object.keys(settings.hooks)).toEqual(['SessionStart', 'BeforeAgent', 'BeforeTool', 'AfterTool', 'AfterAgent', 'SessionEnd']);
    expect(settings.hooks.BeforeTool[0].hooks[0]).toMatchObject({ type: 'command', timeout: 60_000, command: expect.stringContaining('runledger-hook gemini-cli --event BeforeTool --url http://127.0.0.1:8787 --session g-1') });
    expect(adapter.launchEnv(launch())).toEqual({ GEMINI_CLI_HOME: join(root, 'data', 'agents', 'gemini-cli', 'g-1'), GEMINI_CLI_TRUST_WORKSPACE: 'true' });
    expect(adapter.prepare(launch({ resume: { agentSessionId: 'da2c9b0f-4683-4d07-90a6-6c1dacd0f914', prompt: 'go on' } })).slice(1))
      .toEqual(['--resume', 'da2c9b0f-4683-4d07-90a6-6c1dacd0f914', '-p', 'go on', '--yolo', '-o', 'stream-json']);
  });

  it('refuses a user settings file that is not JSON, naming it', () => {
    mkdirSync(join(root, 'user', '.gemini'), { recursive: true });
    writeFileSync(join(root, 'user', '.gemini', 'settings.json'), '{ nope');
    expect(() => adapter.prepare(launch())).toThrow(/settings\.json is not valid JSON/);
  });

  it('tells Gemini itself (and the child it relaunches itself as) from its shell calls', () => {
    expect(adapter.isAgentProcess(['node', '/w/node_modules/.bin/gemini', '-p', 'go'])).toBe(true);
    expect(adapter.isAgentProcess(['/usr/bin/node', '--max-old-space-size=12052', '/w/node_modules/.bin/gemini', '-p', 'go'])).toBe(true);
    expect(adapter.isAgentProcess(['bash', '-c', 'sleep 300'])).toBe(false);
    expect(adapter.isAgentProcess(['sleep', '300'])).toBe(false);
  });
});
