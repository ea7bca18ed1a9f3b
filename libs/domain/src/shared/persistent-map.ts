interface Entry<V> {
  readonly key: string;
  /** Insertion rank: iteration follows first insertion, as a plain object's string keys do. */
  readonly ordinal: number;
  readonly value: V;
}

/** Entries whose keys share one full 32-bit hash (usually one entry). */
interface Leaf<V> {
  readonly hash: number;
  readonly entries: readonly Entry<V>[];
}

/** 32-way node: `bitmap` marks which 5-bit hash chunks have a child; `children` holds them in chunk order. */
interface Branch<V> {
  readonly bitmap: number;
  readonly children: readonly TrieNode<V>[];
}

type TrieNode<V> = Leaf<V> | Branch<V>;

const BITS = 5;
const MASK = 31;

const isLeaf = <V>(node: TrieNode<V>): node is Leaf<V> => 'entries' in node;

/** FNV-1a, 32 bits, over UTF-16 code units. */
const hashOf = (key: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
};

const popcount = (bits: number): number => {
  let n = bits - ((bits >>> 1) & 0x55555555);
  n = (n & 0x33333333) + ((n >>> 2) & 0x33333333);
  return (((n + (n >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
};

const chunk = (hash: number, shift: number): number => (hash >>> shift) & MASK;

const lookup = <V>(node: TrieNode<V> | undefined, key: string, hash: number): Entry<V> | undefined => {
  let shift = 0;
  while (node !== undefined) {
    if (isLeaf(node)) return node.hash === hash ? node.entries.find((entry) => entry.key === key) : undefined;
    const bit = 1 << chunk(hash, shift);
    if ((node.bitmap & bit) === 0) return undefined;
    node = node.children[popcount(node.bitmap & (bit - 1))];
    shift += BITS;
  }
  return undefined;
};

/** A branch at `shift` holding two leaves of different hashes (splits until their chunks differ; hashes differ, so it ends by shift 30). */
const split = <V>(a: Leaf<V>, b: Leaf<V>, shift: number): Branch<V> => {
  const ca = chunk(a.hash, shift);
  const cb = chunk(b.hash, shift);
  if (ca === cb) return { bitmap: 1 << ca, children: [split(a, b, shift + BITS)] };
  return { bitmap: (1 << ca) | (1 << cb), children: ca < cb ? [a, b] : [b, a] };
};

/** The node with `entry` set (path copy: every node off the path is shared); the ordinal of an existing key is kept. */
const insert = <V>(node: TrieNode<V> | undefined, entry: Entry<V>, hash: number, shift: number): TrieNode<V> => {
  if (node === undefined) return { hash, entries: [entry] };
  if (isLeaf(node)) {
    if (node.hash !== hash) return split(node, { hash, entries: [entry] }, shift);
    const at = node.entries.findIndex((e) => e.key === entry.key);
    if (at === -1) return { hash, entries: [...node.entries, entry] };
    const entries = node.entries.slice();
    entries[at] = { ...entry, ordinal: node.entries[at].ordinal };
    return { hash, entries };
  }
  const bit = 1 << chunk(hash, shift);
  const at = popcount(node.bitmap & (bit - 1));
  const children = node.children.slice();
  if ((node.bitmap & bit) === 0) {
    children.splice(at, 0, { hash, entries: [entry] });
    return { bitmap: node.bitmap | bit, children };
  }
  children[at] = insert(node.children[at], entry, hash, shift + BITS);
  return { bitmap: node.bitmap, children };
};

const collect = <V>(node: TrieNode<V> | undefined, out: Entry<V>[]): Entry<V>[] => {
  if (node === undefined) return out;
  if (isLeaf(node)) out.push(...node.entries);
  else for (const child of node.children) collect(child, out);
  return out;
};

/**
 * An immutable map from string keys to values (a hash array mapped trie): `set` returns a new map that shares every
 * node off the changed path with this one, so one update costs O(log n), never a copy of the whole map. Nothing in it
 * is ever mutated, so it may be deep-frozen. Iteration follows first insertion, like a plain object's string keys, and
 * `toJSON` gives that plain object, so a state holding maps serializes as if they were records.
 */
export class PersistentMap<V> {
  private constructor(
    private readonly root: TrieNode<V> | undefined,
    /** Number of keys. */
    readonly size: number,
  ) {}

  /** The map with no keys. */
  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>(undefined, 0);
  }

  /** A map of the record's own entries, in their key order. */
  static fromRecord<V>(record: Readonly<Record<string, V>>): PersistentMap<V> {
    let map = PersistentMap.empty<V>();
    for (const [key, value] of Object.entries(record)) map = map.set(key, value);
    return map;
  }

  /** The value at `key`, or undefined. */
  get(key: string): V | undefined {
    return lookup(this.root, key, hashOf(key))?.value;
  }

  /** True when `key` is present. */
  has(key: string): boolean {
    return lookup(this.root, key, hashOf(key)) !== undefined;
  }

  /** A map with `key` set to `value` (this map when it already holds that very value); a new key goes last in iteration order. */
  set(key: string, value: V): PersistentMap<V> {
    const hash = hashOf(key);
    const existing = lookup(this.root, key, hash);
    if (existing !== undefined && existing.value === value) return this;
    const root = insert(this.root, { key, ordinal: existing?.ordinal ?? this.size /* keys are never removed: ordinals only grow */, value }, hash, 0);
    return new PersistentMap(root, existing === undefined ? this.size + 1 : this.size);
  }

  /** [key, value] pairs in first-insertion order; O(n log n). */
  entries(): [string, V][] {
    return collect(this.root, [])
      .sort((a, b) => a.ordinal - b.ordinal)
      .map((entry) => [entry.key, entry.value]);
  }

  /** Keys in first-insertion order. */
  keys(): string[] {
    return this.entries().map(([key]) => key);
  }

  /** Values in first-insertion order. */
  values(): V[] {
    return this.entries().map(([, value]) => value);
  }

  /** The plain object of the entries, in first-insertion order (what JSON.stringify writes). */
  toJSON(): Record<string, V> {
    return Object.fromEntries(this.entries());
  }
}
