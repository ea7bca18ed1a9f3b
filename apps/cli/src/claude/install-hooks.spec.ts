import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KNOWN_HOOK_EVENTS } from '@runledger/infra/agents/claude-code/hook-protocol';
import { REGISTERED_HOOK_EVENTS } from '@runledger/application/agents/claude-code/hook-settings';
import { INSTALLED_HOOK_MARKER } from './claude-settings';
import { installedHookCommand, installedHooks, installedTelemetry, installHooks, InstalledHookTarget, uninstallHooks } from './install-hooks';

const USER_SETTINGS = `{
    "model": "opus",
  "hooks": {
    "PreToolUse": [ { "matcher": "Bash", "hooks": [ { "type": "command", "command": "my-linter" } ] } ],
    "Notification": []
  }
}`;

describe('install-hooks and uninstall-hooks on a real settings file', () => {
  let dir: string;
  const target = (roots: string[]): InstalledHookTarget => ({ runner: { kind: 'node', argv: ['/usr/bin/node', '/opt/runledger/bin/runledger.js', 'hook'] }, url: 'http://127.0.0.1:8787', dataDir: '/opt/rl data', roots });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rl-hooks-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('--telemetry adds Claude Code\'s OTLP logs variables and a headers helper reading the token file, refuses a conflicting variable, and uninstall restores the file byte for byte', () => {
    const file = join(dir, '.claude', 'settings.local.json');
    mkdirSync(join(dir, '.claude'));
    const own = '{\n  "env": {"MY_SETTING": "1"}\n}\n';
    writeFileSync(file, own);
    const dataDir = join(dir, 'data dir');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'token'), 'tok-123\n');
    const telemetry = installedTelemetry({ url: 'http://127.0.0.1:8787', dataDir }, '/repo');
    expect(installHooks(file, installedHooks(target(['/repo'])), new Date('2026-11-30T06:00:00Z'), telemetry).action).toBe('installed');
    const merged = JSON.parse(readFileSync(file, 'utf8'));
    expect(merged.env).toEqual({
      MY_SETTING: '1', CLAUDE_CODE_ENABLE_TELEMETRY: '1', OTEL_LOGS_EXPORTER: 'otlp', OTEL_METRICS_EXPORTER: 'none', OTEL_TRACES_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://127.0.0.1:8787/api/v1/otlp/v1/logs',
      OTEL_LOGS_EXPORT_INTERVAL: '1000', OTEL_RESOURCE_ATTRIBUTES: 'runledger.cwd=/repo',
    });
    expect(readFileSync(file, 'utf8')).not.toContain('tok-123'); // the token stays in the data directory
    expect(JSON.parse(execFileSync('sh', ['-c', merged.otelHeadersHelper], { encoding: 'utf8' }))).toEqual({ Authorization: 'Bearer tok-123' });
    // Without --telemetry a re-install takes the telemetry back out; uninstall gives the user's file back exactly.
    expect(installHooks(file, installedHooks(target(['/repo'])), new Date('2026-11-30T07:00:00Z')).action).toBe('updated');
    expect(JSON.parse(readFileSync(file, 'utf8')).env).toEqual({ MY_SETTING: '1' });
    installHooks(file, installedHooks(target(['/repo'])), new Date('2026-11-30T08:00:00Z'), telemetry);
    expect(uninstallHooks(file).action).toBe('restored');
    expect(readFileSync(file, 'utf8')).toBe(own);
    // A variable the user set otherwise is never overwritten: refused, the file unchanged.
    writeFileSync(file, '{"env": {"OTEL_LOGS_EXPORTER": "console"}}');
    expect(() => installHooks(file, installedHooks(target(['/repo'])), new Date(), telemetry)).toThrow(/env\.OTEL_LOGS_EXPORTER .*nothing was changed/);
    expect(readFileSync(file, 'utf8')).toBe('{"env": {"OTEL_LOGS_EXPORTER": "console"}}');
  });

  it('merges into the user\'s file, keeps their hooks, backs the file up once, is idempotent, and uninstall restores it byte for byte', () => {
    const file = join(dir, '.claude', 'settings.local.json');
    mkdirSync(join(dir, '.claude'));
    writeFileSync(file, USER_SETTINGS);
    const first = installHooks(file, installedHooks(target(['/repo'])), new Date('2026-11-30T06:00:00Z'));
    expect(first).toEqual({ file, action: 'installed', backup: `${file}.runledger-backup-20261130T060000Z` });
    expect(readFileSync(first.backup!, 'utf8')).toBe(USER_SETTINGS);
    const merged = JSON.parse(readFileSync(file, 'utf8'));
    expect(merged.model).toBe('opus');
    expect(merged.hooks.PreToolUse[0]).toEqual({ matcher: 'Bash', hooks: [{ type: 'command', command: 'my-linter' }] });
    expect(merged.hooks.PreToolUse[1].hooks[0].command).toContain(INSTALLED_HOOK_MARKER);
    expect(Object.keys(merged.hooks)).toEqual(expect.arrayContaining(['SessionStart', 'PostToolUse', 'Stop', 'SessionEnd', 'Notification']));

    expect(installHooks(file, installedHooks(target(['/repo'])), new Date('2026-11-30T07:00:00Z')).action).toBe('unchanged');
    const updated = installHooks(file, installedHooks(target(['/repo', '/other'])), new Date('2026-11-30T08:00:00Z'));
    expect(updated).toEqual({ file, action: 'updated', backup: first.backup });
    expect(JSON.parse(readFileSync(file, 'utf8')).hooks.PreToolUse).toHaveLength(2); // replaced, not doubled
    expect(readdirSync(join(dir, '.claude')).sort()).toEqual(['settings.local.json', 'settings.local.json.runledger-backup-20261130T060000Z']);

    expect(uninstallHooks(file)).toEqual({ file, action: 'restored' });
    expect(readFileSync(file, 'utf8')).toBe(USER_SETTINGS);
    expect(readdirSync(join(dir, '.claude'))).toEqual(['settings.local.json']);
    expect(uninstallHooks(file).action).toBe('not-installed');
  });

  it('registers every hook event of the protocol model runledger records (all but the per-line MessageDisplay), each running the hook command', () => {
    const file = join(dir, '.claude', 'settings.json');
    installHooks(file, installedHooks(target(['/repo'])));
    const written = JSON.parse(readFileSync(file, 'utf8')).hooks as Record<string, Array<{ matcher: string; hooks: Array<{ type: string; command: string }> }>>;
    expect(Object.keys(written).sort()).toEqual([...REGISTERED_HOOK_EVENTS].sort());
    expect(Object.keys(written).sort()).toEqual(KNOWN_HOOK_EVENTS.filter((e) => e !== 'MessageDisplay').sort());
    expect(Object.keys(written)).toHaveLength(32);
    for (const [event, groups] of Object.entries(written)) {
      expect(groups).toEqual([{ matcher: '*', hooks: [expect.objectContaining({ type: 'command', command: expect.stringContaining(`hook claude-code --event ${event} --url http://127.0.0.1:8787`) })] }]);
    }
  });

  it('creates a missing file and its folder, and uninstall deletes both again', () => {
    const file = join(dir, '.claude', 'settings.json');
    expect(installHooks(file, installedHooks(target(['/repo']))).action).toBe('installed');
    expect(existsSync(file)).toBe(true);
    expect(uninstallHooks(file)).toEqual({ file, action: 'removed-file' });
    expect(existsSync(join(dir, '.claude'))).toBe(false);
  });

  it('keeps the user\'s later changes (and the backup) when the file changed after install', () => {
    const file = join(dir, 'settings.json');
    writeFileSync(file, USER_SETTINGS);
    const { backup } = installHooks(file, installedHooks(target(['/repo'])));
    const edited = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...edited, theme: 'dark' }));
    expect(uninstallHooks(file)).toEqual({ file, action: 'removed-hooks', backup });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ ...JSON.parse(USER_SETTINGS), theme: 'dark' });
    expect(existsSync(backup!)).toBe(true);
  });

  it('refuses a file that is not a JSON object and leaves it untouched', () => {
    const file = join(dir, 'settings.json');
    writeFileSync(file, '{ "hooks": ');
    expect(() => installHooks(file, installedHooks(target(['/repo'])))).toThrow(/is not a JSON object/);
    expect(readFileSync(file, 'utf8')).toBe('{ "hooks": ');
    expect(readdirSync(dir)).toEqual(['settings.json']);
  });

  it('the hook command runs runledger only inside a recorded repository and outside sessions runledger launched', () => {
    const repo = join(dir, 'my repo');
    mkdirSync(join(repo, 'src'), { recursive: true });
    const command = installedHookCommand('/bin/echo ran hook claude-code', { dataDir: '/d', roots: [repo] });
    const run = (cwd: string, env: Record<string, string> = {}) =>
      execFileSync('sh', ['-c', command], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
    expect(run(join(repo, 'src'))).toBe('ran hook claude-code\n');
    expect(run(repo)).toBe('ran hook claude-code\n');
    expect(run(dir)).toBe('');
    expect(run(repo, { RUNLEDGER_SESSION_ID: 'demo-1' })).toBe('');
    expect(command).toContain('RUNLEDGER_DATA_DIR=/d exec /bin/echo ran hook claude-code');
  });

  it('installs the hooks runledger generates for its own sessions, without a session id, with the project\'s hold and failure mode', () => {
    const hooks = installedHooks({ ...target(['/repo']), hookFailure: 'open', hookHoldSeconds: 5 });
    const command = String(hooks.PreToolUse[0].hooks[0].command);
    expect(command).toContain("exec /usr/bin/node /opt/runledger/bin/runledger.js hook claude-code --event PreToolUse --url http://127.0.0.1:8787 --hold 5 --failure open");
    expect(command).not.toContain('--session');
    expect(command).toContain("RUNLEDGER_DATA_DIR='/opt/rl data'");
    expect(hooks.PreToolUse[0].hooks[0].timeout).toBe(35);
    expect(Object.keys(hooks)).toEqual(expect.arrayContaining(['SessionStart', 'PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'Stop', 'SessionEnd']));
  });
});
