import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executablePath } from './executable-path';

describe('executablePath: where an executable is, as a shell would find it', () => {
  const root = mkdtempSync(join(tmpdir(), 'rl-exe-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('takes the first absolute PATH folder holding an executable regular file of the name', () => {
    for (const dir of ['a', 'b', 'c']) mkdirSync(join(root, dir));
    writeFileSync(join(root, 'a', 'tool'), 'not executable');
    mkdirSync(join(root, 'b', 'tool')); // a folder, not a file
    writeFileSync(join(root, 'c', 'tool'), '#!/bin/sh\n');
    chmodSync(join(root, 'c', 'tool'), 0o755);
    const PATH = ['relative', join(root, 'a'), join(root, 'b'), join(root, 'c')].join(':');
    expect(executablePath('tool', { PATH })).toBe(join(root, 'c', 'tool'));
    expect(executablePath('missing', { PATH })).toBeUndefined();
    expect(executablePath('tool', {})).toBeUndefined();
    expect(executablePath(join(root, 'c', 'tool'), {})).toBe(join(root, 'c', 'tool'));
    expect(executablePath(join(root, 'a', 'tool'), { PATH })).toBeUndefined();
  });
});
