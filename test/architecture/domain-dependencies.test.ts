import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const DOMAIN = resolve(__dirname, '../../libs/domain/src');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });

// Imports are checked by dependency-cruiser (layers.test.ts); this checks what an import rule cannot see.
describe('libs/domain stays pure (docs/ARCHITECTURE.md §1)', () => {
  const sources = files(DOMAIN);

  it('finds the domain sources', () => expect(sources.length).toBeGreaterThan(10));

  it('reads no clock, no randomness and no process state outside tests (time and ids arrive in commands)', () => {
    const offenders = sources
      .filter((file) => !file.endsWith('.spec.ts'))
      .filter((file) => /Date\.now\(|new Date\(|Math\.random\(|process\./.test(readFileSync(file, 'utf8')))
      .map((file) => relative(DOMAIN, file));
    expect(offenders).toEqual([]);
  });
});
