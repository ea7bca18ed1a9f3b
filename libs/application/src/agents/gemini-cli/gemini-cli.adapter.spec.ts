import { execFileSync } from 'node:child_process';
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
    expect(adapter.launchEnv(launch(), { RUNLEDGER_URL: 'http://127.0.0.1:8787', RUNLEDGER_TOKEN: 'rl_s_abc' })).toEqual({
      GEMINI_CLI_HOME: join(root, 'data', 'agents', 'gemini-cli', 'g-1'), GEMINI_CLI_TRUST_WORKSPACE: 'true', GEMINI_CLI_RUNLEDGER_TOKEN: 'rl_s_abc',
    });
    expect(adapter.prepare(launch({ resume: { agentSessionId: 'da2c9b0f-4683-4d07-90a6-6c1dacd0f914', prompt: 'go on' } })).slice(1))
      .toEqual(['--resume', 'da2c9b0f-4683-4d07-90a6-6c1dacd0f914', '-p', 'go on', '--yolo', '-o', 'stream-json']);
  });

  it("gives a hook runledger's credential back from the GEMINI_CLI_ copy Gemini passes on whatever its sanitization, never resolved into its argv", () => {
    adapter.prepare(launch());
    const settings = JSON.parse(readFileSync(join(root, 'data', 'agents', 'gemini-cli', 'g-1', '.gemini', 'settings.json'), 'utf8'));
    const command = settings.hooks.BeforeTool[0].hooks[0].command as string;
    expect(command).toMatch(/^RUNLEDGER_TOKEN=.* \/bin\/bash \/rl\/bin\/runledger-hook gemini-cli --event BeforeTool --url http:\/\/127\.0\.0\.1:8787 --session g-1 --hold 30 --failure closed$/);
    // The hook's environment as Gemini builds it, run by a real shell: the shim's argv replaced by `printenv`.
    const hookSees = (env: Record<string, string>) =>
      execFileSync('/bin/bash', ['-c', command.replace(/ \/bin\/bash .*$/, ' printenv RUNLEDGER_TOKEN RUNLEDGER_CA_FILE || true')], { env: { PATH: process.env.PATH!, ...env }, encoding: 'utf8' });
    expect(hookSees({ GEMINI_CLI_RUNLEDGER_TOKEN: 'rl_s_carried', GEMINI_CLI_RUNLEDGER_CA_FILE: '/ca.pem' })).toBe('rl_s_carried\n/ca.pem\n');
    expect(hookSees({})).toBe('\n\n');
    // Gemini CLI's own settings resolver (0.61.0) replaces these forms from its environment at load: none may be left.
    const resolved = [...command.matchAll(/\$(?:(\w+)|{([^}]+?)(?::-([^}]*))?})/g)].map((m) => m[1] ?? m[2]).filter((name) => /^\w+$/.test(name!));
    expect(resolved).toEqual([]);
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
