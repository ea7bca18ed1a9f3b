import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hookCommand } from '@runledger/application/agents/hook-runner';
import { codexInstalledHooks } from '../codex/codex-hooks-file';
import { installedHooks } from './install-hooks';
import { readTokenFile, recordsInto, remoteClientConfig, remoteRecording } from './remote-recorder';

describe('remote flight recorder: the install side (docs/ARCHITECTURE.md §4f)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rl-remote-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a person\'s token file only when nobody else may read it, and refuses an empty one', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'rlu1.abc\nignored\n', { mode: 0o640 });
    expect(() => readTokenFile(file)).toThrow(`--token-file ${file} has mode 0640`);
    writeFileSync(join(dir, 'ok'), 'rlu1.abc\nignored\n', { mode: 0o600 });
    expect(readTokenFile(join(dir, 'ok'))).toBe('rlu1.abc');
    writeFileSync(join(dir, 'empty'), '\n', { mode: 0o600 });
    expect(() => readTokenFile(join(dir, 'empty'))).toThrow('is empty');
    expect(() => readTokenFile(join(dir, 'missing'))).toThrow('cannot be read');
  });

  it('talks to --server with the token file\'s token, and asks for a token when there is none', () => {
    writeFileSync(join(dir, 'ok'), 'rlu1.abc\n', { mode: 0o600 });
    const config = remoteClientConfig({ server: 'https://team.example/api/v1/', tokenFile: 'ok' }, { RUNLEDGER_CA_FILE: 'ca.pem' }, dir);
    expect(config).toEqual({ baseUrl: 'https://team.example', token: 'rlu1.abc', tokenSource: join(dir, 'ok'), caFile: join(dir, 'ca.pem') });
    expect(remoteRecording('team', config)).toEqual({ projectId: 'team', tokenFile: join(dir, 'ok'), caFile: join(dir, 'ca.pem') });
    expect(() => remoteClientConfig({ server: 'https://team.example' }, {}, dir)).toThrow('--server needs --token-file');
    expect(() => remoteClientConfig({ server: 'ftp://team.example', tokenFile: 'ok' }, {}, dir)).toThrow('must be http(s)');
  });

  it('writes hooks (Claude Code and Codex) that name the project, token file and CA, never the token nor a data directory; status reads back where they record', () => {
    const remote = { projectId: 'team', tokenFile: '/home/al ice/rl.token', caFile: '/etc/ca.pem' };
    const target = { runner: { kind: 'shim' as const, argv: ['/bin/bash', '/opt/rl/bin/runledger-hook'] }, url: 'https://team.example', roots: ['/src/app'], remote };
    const claude = String(installedHooks(target).PreToolUse[0].hooks[0].command);
    expect(claude).toContain("--url https://team.example --hold 30 --failure closed --project team --token-file '/home/al ice/rl.token' --ca-file /etc/ca.pem");
    expect(claude).not.toContain('RUNLEDGER_DATA_DIR');
    expect(Object.keys(installedHooks(target))).not.toContain('WorktreeCreate'); // custody is the server's disk only
    expect(Object.keys(installedHooks({ ...target, remote: undefined }))).toEqual(expect.arrayContaining(['WorktreeCreate', 'WorktreeRemove']));
    const codex = String(codexInstalledHooks(target).PostToolUse[0].hooks[0].command);
    expect(codex).toContain("codex --event PostToolUse --url https://team.example --hold 30 --failure closed --project team --token-file '/home/al ice/rl.token'");
    expect(recordsInto(claude)).toEqual({ url: 'https://team.example', project: 'team' });
    expect(recordsInto(hookCommand('claude-code', 'Stop', { url: 'http://127.0.0.1:8787', runner: target.runner }))).toEqual({ url: 'http://127.0.0.1:8787' });
  });
});
