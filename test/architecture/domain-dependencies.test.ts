import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const DOMAIN = resolve(__dirname, '../../libs/domain/src');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The imports of a TypeScript source, as written. */
export const importsOf = (source: string): string[] => [...source.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]);

describe('libs/domain stays pure (STYLE: a dependency rule in CI)', () => {
  const sources = files(DOMAIN);

  it('finds the domain sources', () => expect(sources.length).toBeGreaterThan(10));

  it('imports nothing outside libs/domain: no Nest, no pg, no fs, no node: modules, no packages', () => {
    const offenders = sources.flatMap((file) =>
      importsOf(readFileSync(file, 'utf8'))
        .filter((spec) => !spec.startsWith('.') || relative(DOMAIN, resolve(dirname(file), spec)).startsWith('..'))
        .map((spec) => `${relative(DOMAIN, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('reads no clock and no randomness outside tests (time and ids arrive in commands)', () => {
    const offenders = sources
      .filter((file) => !file.endsWith('.spec.ts'))
      .filter((file) => /Date\.now\(|new Date\(|Math\.random\(|process\./.test(readFileSync(file, 'utf8')))
      .map((file) => relative(DOMAIN, file));
    expect(offenders).toEqual([]);
  });

  it('the rule catches a forbidden import', () => {
    expect(importsOf(`import { Pool } from 'pg';\nimport { x } from './y';\nconst fs = require('node:fs');`)).toEqual(['pg', './y', 'node:fs']);
  });
});
