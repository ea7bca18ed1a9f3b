/** One difference between two JSON values at `path` (`a.b[2].c`): added, removed or changed. */
export interface StateChange {
  path: string;
  op: 'add' | 'remove' | 'change';
  before?: unknown;
  after?: unknown;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `parent.key`, or `parent["odd key"]` when the key is not an identifier. */
const childPath = (parent: string, key: string): string =>
  /^[A-Za-z_$][\w$]*$/.test(key) ? (parent ? `${parent}.${key}` : key) : `${parent}[${JSON.stringify(key)}]`;

/**
 * Structural diff of two JSON values (the replayed states): recurses into objects (by key) and arrays (by index) and
 * reports the leaves that differ; a value whose type changes (object ↔ array ↔ scalar) is one `change`. Order of the
 * result: keys of `before` in their order, then keys only in `after`.
 */
export const diffStates = (before: unknown, after: unknown, path = ''): StateChange[] => {
  const out: StateChange[] = [];
  const walk = (a: unknown, b: unknown, p: string): void => {
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const key of Object.keys(a)) {
        if (!(key in b)) out.push({ path: childPath(p, key), op: 'remove', before: a[key] });
        else walk(a[key], b[key], childPath(p, key));
      }
      for (const key of Object.keys(b)) if (!(key in a)) out.push({ path: childPath(p, key), op: 'add', after: b[key] });
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const at = `${p}[${i}]`;
        if (i >= b.length) out.push({ path: at, op: 'remove', before: a[i] });
        else if (i >= a.length) out.push({ path: at, op: 'add', after: b[i] });
        else walk(a[i], b[i], at);
      }
      return;
    }
    if (!Object.is(a, b)) out.push({ path: p || '(root)', op: 'change', before: a, after: b });
  };
  walk(before, after, path);
  return out;
};
