import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
/** The only place allowed to name the event store's tables: the adapter behind the EventStore port (docs/ARCHITECTURE.md §1). */
const ADAPTER = 'libs/infra/src/event-store/';
const STORE_TABLE = /\brl_(events|streams)\b/;

/** Production sources (`.ts`, `.tsx`) under `dirs` of `root` that name rl_events or rl_streams outside the adapter, as `path:line`. */
const storeTableLeaks = (root: string, dirs: string[]): string[] => {
  const leaks: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(path);
        continue;
      }
      const file = relative(root, path);
      if (!/\.tsx?$/.test(entry.name) || file.startsWith(ADAPTER)) continue;
      readFileSync(path, 'utf8')
        .split('\n')
        .forEach((line, i) => STORE_TABLE.test(line) && leaks.push(`${file}:${i + 1}`));
    }
  };
  for (const dir of dirs) walk(join(root, dir));
  return leaks;
};

describe('the event store port does not leak (docs/ARCHITECTURE.md §1)', () => {
  it('no production code outside the event-store adapter names rl_events or rl_streams', () => {
    expect(storeTableLeaks(ROOT, ['apps', 'libs', 'composition'])).toEqual([]);
  });

  it('the check catches a read model querying rl_events and a worker querying rl_streams, and lets the adapter through', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-store-port-'));
    try {
      const files: Record<string, string> = {
        'libs/infra/src/read-models/lag.ts': "export const q = 'SELECT count(*) FROM rl_events';\n",
        'apps/worker/src/recovery/heads.ts': "const a = 1;\nexport const q = `SELECT revision FROM rl_streams`;\n",
        'libs/infra/src/event-store/postgres/store.ts': "export const q = 'SELECT * FROM rl_events';\n",
        'libs/infra/src/read-models/fine.ts': "export const q = 'SELECT * FROM rl_rm_sessions';\n",
      };
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      expect(storeTableLeaks(dir, ['apps', 'libs']).sort()).toEqual(['apps/worker/src/recovery/heads.ts:2', 'libs/infra/src/read-models/lag.ts:1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
