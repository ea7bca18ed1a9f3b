import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** Runs dependency-cruiser with the repository's rules in `cwd` over `paths`; the violations and the module count. */
const cruise = (cwd: string, paths: string[]): { violations: Violation[]; modules: number } => {
  let out: string;
  try {
    out = execFileSync(process.execPath, [DEPCRUISE, '--config', join(cwd, '.dependency-cruiser.cjs'), '--output-type', 'json', ...paths], {
      cwd,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
  } catch (error) {
    out = (error as { stdout: string }).stdout; // exit code 1 when violations are found; the JSON is still on stdout
  }
  const result = JSON.parse(out) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: result.summary.violations, modules: result.summary.totalCruised };
};

describe('layer rules (docs/ARCHITECTURE.md §1, dependency-cruiser)', () => {
  it('the repository has no violation', () => {
    const { violations, modules } = cruise(ROOT, ['apps', 'libs', 'composition']);
    expect(modules).toBeGreaterThan(100);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  it('the rules catch an app importing another app, an impure domain, infra importing application and a lib importing an app', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-layers-'));
    try {
      copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
      const files: Record<string, string> = {
        'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'commonjs', baseUrl: '.' } }),
        'apps/api/src/api.module.ts': "import { w } from '../../worker/src/worker.module';\nexport const a = w;\n",
        'apps/worker/src/worker.module.ts': 'export const w = 1;\n',
        'libs/domain/src/clock.ts': "import { readFileSync } from 'node:fs';\nexport const c = readFileSync;\n",
        'libs/application/src/service.ts': 'export const s = 1;\n',
        'libs/infra/src/adapter.ts': "import { s } from '../../application/src/service';\nexport const i = s;\n",
        'libs/application/src/leak.ts': "import { w } from '../../../apps/worker/src/worker.module';\nexport const l = w;\n",
      };
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      const rules = cruise(dir, ['apps', 'libs']).violations.map((v) => `${v.rule.name}: ${v.from}`).sort();
      expect(rules).toEqual([
        'domain-is-pure: libs/domain/src/clock.ts',
        'infra-not-application: libs/infra/src/adapter.ts',
        'libs-not-apps: libs/application/src/leak.ts',
        'no-app-to-app: apps/api/src/api.module.ts',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
