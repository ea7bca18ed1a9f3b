import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
/** `Object.values(x.toolCalls)` and friends: on a PersistentMap they list its internals, and TypeScript accepts them. */
const PLAIN_OBJECT_WALK = /Object\.(?:values|keys|entries)\(\s*[\w.?!]*toolCalls\s*\)|\.toolCalls\[(?=[A-Za-z_])/g;

describe('a session\'s tool calls are a PersistentMap: read with get/values, never as a plain object', () => {
  it('no source walks or indexes state.toolCalls as a record', () => {
    const offenders = ['apps', 'libs', 'bench'].flatMap((dir) =>
      sources(join(ROOT, dir)).flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(PLAIN_OBJECT_WALK)].map((m) => `${relative(ROOT, file)}: ${m[0]}`),
      ),
    );
    expect(offenders).toEqual([]);
  });

  it('the rule catches a plain-object walk', () => {
    expect('Object.values(state.toolCalls).filter(x)'.match(PLAIN_OBJECT_WALK)).toHaveLength(1);
    expect('const c = s.toolCalls[callId];'.match(PLAIN_OBJECT_WALK)).toHaveLength(1);
    expect('s.toolCalls.get(callId); transcript.toolCalls.length'.match(PLAIN_OBJECT_WALK)).toBeNull();
  });
});
