import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../client/client-errors';
import { INSTALLED_PLUGIN_MARKER, installedPluginSource, installOpencodePlugin, inspectOpencodePlugin, opencodePluginFileOf, uninstallOpencodePlugin } from './opencode-plugin-file';

const target = { runner: { kind: 'shim' as const, argv: [] }, url: 'http://127.0.0.1:8787', roots: ['/repo'], hookHoldSeconds: 5 };

describe('OpenCode flight-recorder plugin file (docs/ARCHITECTURE.md §4d)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rl-oc-plugin-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('bakes the settings into the shipped plugin: marker first, INSTALLED holding url, roots and hold', () => {
    const source = installedPluginSource(target);
    expect(source.startsWith(`${INSTALLED_PLUGIN_MARKER}\n`)).toBe(true);
    expect(source).toContain('const INSTALLED = {"url":"http://127.0.0.1:8787","roots":["/repo"],"hookHoldSeconds":5};');
    expect(source).not.toContain('const INSTALLED = null;');
    expect(() => installedPluginSource(target, 'export const X = 1;')).toThrow(/no line/);
  });

  it('places the user plugin under XDG_CONFIG_HOME and the project plugin under the repository', () => {
    expect(opencodePluginFileOf('user', undefined, { XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/opencode/plugins/runledger.js');
    expect(opencodePluginFileOf('user', undefined, { HOME: '/home/me' })).toBe('/home/me/.config/opencode/plugins/runledger.js');
    expect(opencodePluginFileOf('project', '/repo')).toBe('/repo/.opencode/plugins/runledger.js');
  });

  it('installs idempotently, and uninstall removes exactly what install created, keeping a user\'s own plugin', () => {
    const plugins = join(dir, 'opencode', 'plugins');
    const file = join(plugins, 'runledger.js');
    const source = installedPluginSource(target);
    expect(installOpencodePlugin(file, source)).toEqual({ file, action: 'installed' });
    expect(installOpencodePlugin(file, source)).toEqual({ file, action: 'unchanged' });
    expect(installOpencodePlugin(file, source.replace('"hookHoldSeconds":5', '"hookHoldSeconds":6'))).toEqual({ file, action: 'updated' });
    expect(inspectOpencodePlugin(file)).toEqual({ installed: true, runner: 'plugin' });
    writeFileSync(join(plugins, 'mine.js'), 'export const Mine = 1;\n');
    expect(uninstallOpencodePlugin(file)).toEqual({ file, action: 'removed-file' });
    expect(readFileSync(join(plugins, 'mine.js'), 'utf8')).toBe('export const Mine = 1;\n');
    rmSync(join(plugins, 'mine.js'));
    installOpencodePlugin(file, source);
    uninstallOpencodePlugin(file);
    expect(existsSync(plugins)).toBe(false); // the folder it created, left empty, goes too
    expect(uninstallOpencodePlugin(file)).toEqual({ file, action: 'not-installed' });
  });

  it('never replaces or deletes a runledger.js that is not runledger\'s', () => {
    const file = join(dir, 'plugins', 'runledger.js');
    mkdirSync(join(dir, 'plugins'));
    writeFileSync(file, 'export const Theirs = 1;\n');
    expect(() => installOpencodePlugin(file, installedPluginSource(target))).toThrow(UsageError);
    expect(() => uninstallOpencodePlugin(file)).toThrow(UsageError);
    expect(readFileSync(file, 'utf8')).toBe('export const Theirs = 1;\n');
    expect(inspectOpencodePlugin(file)).toEqual({ installed: false });
  });
});
