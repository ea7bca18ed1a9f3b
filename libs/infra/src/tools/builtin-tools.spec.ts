import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confinePath, runTool, ToolInputError, validateToolCall } from './builtin-tools';

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
