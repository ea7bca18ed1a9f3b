import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });

/** An object literal that builds a tool-call recording command: `type: 'DispatchToolCall',` (a type declaration ends with `;`). */
const BUILDS_COMMAND = /type\s*:\s*(['"`])(?:DispatchToolCall|RecordToolCallResult)\1(?:\s+as\s+const)?\s*[,}]/g;
/** The one file allowed to build them: the recorder every path gets from the tool-call intake. */
const DOOR = 'libs/domain/src/tool-call/tool-call.recorder.ts';

describe('one door for tool calls (docs/ARCHITECTURE.md §2, invariant 12)', () => {
  it('no production source but the recorder builds DispatchToolCall or RecordToolCallResult', () => {
    const files = ['apps', 'libs', 'composition'].flatMap((dir) => sources(join(ROOT, dir)));
    expect(files.map((file) => relative(ROOT, file))).toContain(DOOR);
    const builders = files.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(BUILDS_COMMAND)].map(() => relative(ROOT, file)));
    expect(builders.filter((file) => file !== DOOR)).toEqual([]);
    expect(builders).toContain(DOOR);
  });

  it('the rule catches a command built by hand, and not its type declaration or a switch on it', () => {
    expect("commands.push({ type: 'DispatchToolCall', data })".match(BUILDS_COMMAND)).toHaveLength(1);
    expect('({ type: "RecordToolCallResult" as const, data: {} })'.match(BUILDS_COMMAND)).toHaveLength(1);
    expect("const c = {type:'RecordToolCallResult'}".match(BUILDS_COMMAND)).toHaveLength(1);
    expect("interface DispatchToolCall {\n  type: 'DispatchToolCall';\n}".match(BUILDS_COMMAND)).toBeNull();
    expect("case 'RecordToolCallResult': return x; ['DispatchToolCall', 'RetryToolCall']".match(BUILDS_COMMAND)).toBeNull();
  });
});
