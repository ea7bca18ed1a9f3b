import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listPidsWithEnv } from '../runtime/process-finder';
import { confinePath, runTool, toolEnvironment, ToolInputError, validateToolCall } from './builtin-tools';

describe('built-in managed tools', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rl-tools-'));
    writeFileSync(join(root, 'a.txt'), 'hello');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs shell in the worktree and keeps the exit code', async () => {
    const ok = await runTool(validateToolCall('shell', { command: 'pwd; cat a.txt' }, root), root);
    expect(ok).toMatchObject({ status: 'completed', exitCode: 0 });
    expect((ok.output as { stdout: string }).stdout).toContain('hello');
    const bad = await runTool(validateToolCall('shell', { command: 'echo oops >&2; exit 3' }, root), root);
    expect(bad).toMatchObject({ status: 'failed', exitCode: 3, output: { stderr: 'oops\n' } });
  });

  it('caps output and kills at the timeout', async () => {
    const big = await runTool(validateToolCall('shell', { command: 'yes x | head -c 5000', maxOutputBytes: 100 }, root), root);
    expect(big.output).toMatchObject({ truncated: true });
    expect((big.output as { stdout: string }).stdout).toHaveLength(100);
    const slow = await runTool(validateToolCall('shell', { command: 'sleep 30', timeoutMs: 200 }, root), root);
    expect(slow).toMatchObject({ status: 'failed', error: 'timed out after 200 ms' });
  });

  it('reads and writes files only inside the worktree', async () => {
    await runTool(validateToolCall('write_file', { path: 'sub/b.txt', content: 'B' }, root), root);
    expect(readFileSync(join(root, 'sub/b.txt'), 'utf8')).toBe('B');
    expect(await runTool(validateToolCall('read_file', { path: 'sub/b.txt' }, root), root)).toMatchObject({ output: { content: 'B' } });
    expect(() => validateToolCall('read_file', { path: '../etc/passwd' }, root)).toThrow(ToolInputError);
    expect(() => validateToolCall('write_file', { path: '/etc/x', content: '' }, root)).toThrow(/outside/);
    symlinkSync('/etc', join(root, 'escape'));
    expect(() => confinePath(root, 'escape/passwd', 'input.path')).toThrow(/symlink/);
  });

  it('never writes through a dangling symlink, nor reads or writes through a symlinked leaf or directory', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'rl-outside-'));
    try {
      symlinkSync(join(outside, 'created.txt'), join(root, 'dangling'));
      const wrote = await runTool(validateToolCall('write_file', { path: 'dangling', content: 'x' }, root), root);
      expect(wrote).toMatchObject({ status: 'failed', error: expect.stringMatching(/symlink/) });
      expect(existsSync(join(outside, 'created.txt'))).toBe(false);

      writeFileSync(join(outside, 'secret.txt'), 'secret');
      symlinkSync(join(outside, 'secret.txt'), join(root, 'leaf-link'));
      expect(await runTool({ tool: 'read_file', path: join(root, 'leaf-link'), maxBytes: 100 }, root)).toMatchObject({ status: 'failed', error: expect.stringMatching(/symlink/) });
      symlinkSync(outside, join(root, 'dir-link'));
      expect(await runTool({ tool: 'read_file', path: join(root, 'dir-link', 'secret.txt'), maxBytes: 100 }, root)).toMatchObject({ status: 'failed', error: expect.stringMatching(/symlink/) });
      expect(await runTool({ tool: 'write_file', path: join(root, 'dir-link', 'new.txt'), content: 'x' }, root)).toMatchObject({ status: 'failed' });
      expect(existsSync(join(outside, 'new.txt'))).toBe(false);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('enforces the timeout on the call and kills what it started: setsid and background children holding stdout', async () => {
    const started = Date.now();
    // A setsid child in its own session and a background child, both holding stdout open for 100 s.
    const escaped = await runTool(validateToolCall('shell', { command: 'setsid sleep 101 & sleep 102 & echo started', timeoutMs: 60_000 }, root), root);
    expect(escaped).toMatchObject({ status: 'completed', exitCode: 0, output: { stdout: 'started\n' } });
    const slow = await runTool(validateToolCall('shell', { command: 'setsid sh -c "sleep 103" & sleep 104; echo never', timeoutMs: 300 }, root), root);
    expect(slow).toMatchObject({ status: 'failed', error: 'timed out after 300 ms' });
    expect(Date.now() - started).toBeLessThan(50_000); // not the 100 s the children would hold the pipes
    const leftovers = (await import('node:child_process')).execFileSync('sh', ['-c', 'ps -eo args | grep -E "^sleep 10[1-4]$" || true']).toString();
    expect(leftovers).toBe('');
  });

  it('gives tools a minimal environment: never the admin token or the database address', () => {
    const env = toolEnvironment({ PROJECT_VAR: 'v', RUNLEDGER_TOKEN: 'passed-anyway' }, { PATH: '/bin', HOME: '/h', RUNLEDGER_TOKEN: 't', DATABASE_URL: 'postgres://x', AWS_SECRET_ACCESS_KEY: 'k', LC_ALL: 'C' });
    expect(env).toEqual({ PATH: '/bin', HOME: '/h', LC_ALL: 'C', PROJECT_VAR: 'v' });
    expect(listPidsWithEnv('RUNLEDGER_TOOL_CALL=none-such')).toEqual([]);
  });

  it('names the bad field', () => {
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as ToolInputError).field;
      }
      return null;
    };
    expect(field(() => validateToolCall('shell', {}, root))).toBe('input.command');
    expect(field(() => validateToolCall('shell', { command: 'x', timeoutMs: -1 }, root))).toBe('input.timeoutMs');
    expect(field(() => validateToolCall('rm_rf', {}, root))).toBe('tool');
  });
});
