import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hookRunner, hookRunnerOf, isLoopbackHttp } from '../hook-runner';
import { claudeHookSettings } from './hook-settings';

describe('hookRunner: which runner the generated command hooks use', () => {
  const root = mkdtempSync(join(tmpdir(), 'rl-runner-'));
  const bin = (name: string): string => {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, name), '#!/bin/sh\n');
    chmodSync(join(dir, name), 0o755);
    return dir;
  };
  const [bash, curl] = [bin('bash'), bin('curl')];
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('the shim under bash for a loopback URL; curl too for any other; else the Node hook', () => {
    const shim = hookRunner('http://127.0.0.1:8787', { PATH: bash });
    expect(shim.kind).toBe('shim');
    expect(shim.argv[0]).toBe(join(bash, 'bash'));
    expect(shim.argv[1]).toMatch(/\/bin\/runledger-hook$/);
    expect(hookRunner('https://runledger.example', { PATH: bash }).kind).toBe('node');
    expect(hookRunner('https://runledger.example', { PATH: `${bash}:${curl}` }).kind).toBe('shim');
    const node = hookRunner('http://127.0.0.1:8787', { PATH: curl });
    expect(node.kind).toBe('node');
    expect(node.argv.slice(1)).toEqual([expect.stringMatching(/\/bin\/runledger\.js$/), 'hook']);
  });

  it('loopback http is 127.0.0.1, localhost or [::1] with a port', () => {
    expect(['http://127.0.0.1:8787', 'http://localhost:1/', 'http://[::1]:9'].map(isLoopbackHttp)).toEqual([true, true, true]);
    expect(['https://127.0.0.1:8787', 'http://127.0.0.1', 'http://10.0.0.1:8787', 'http://localhost.evil:1'].map(isLoopbackHttp)).toEqual([false, false, false, false]);
  });

  it('one command per event names the event, and hookRunnerOf tells the runner from the command', () => {
    const settings = claudeHookSettings({ url: 'http://127.0.0.1:8787', sessionId: 'rl-1', runner: { kind: 'shim', argv: ['/usr/bin/bash', '/opt/rl/bin/runledger-hook'] } });
    const command = String(settings.hooks.PreToolUse[0].hooks[0].command);
    expect(command).toBe('/usr/bin/bash /opt/rl/bin/runledger-hook claude-code --event PreToolUse --url http://127.0.0.1:8787 --session rl-1 --hold 30 --failure closed');
    expect(hookRunnerOf(command)).toBe('shim');
    expect(hookRunnerOf('/usr/bin/node /opt/rl/bin/runledger.js hook claude-code --event Stop')).toBe('node');
    expect(hookRunnerOf('echo hook claude-code')).toBeUndefined();
  });
});
