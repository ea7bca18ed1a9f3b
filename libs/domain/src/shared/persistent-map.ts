interface Entry<V> {
  readonly key: string;
  /** Insertion rank: iteration follows first insertion, as a plain object's string keys do. */
  readonly ordinal: number;
  readonly value: V;
}

/**
 * The token of one mutable map (`asMutable`): a node carrying it was made by that map after it was derived, is reachable
 * from nothing else, and may be changed in place until `asImmutable`. Nodes of any other map are copied, never changed.
 */
type Edit = object;

/** Entries whose keys share one full 32-bit hash (usually one entry). */
interface Leaf<V> {
  readonly hash: number;
  entries: Entry<V>[];
  /** The mutable map that owns this node, until its `asImmutable` (then undefined, as on every other node). */
  edit: Edit | undefined;
}

/** 32-way node: `bitmap` marks which 5-bit hash chunks have a child; `children` holds them in chunk order. */
interface Branch<V> {
  bitmap: number;
  children: TrieNode<V>[];
  /** As a leaf's. */
  edit: Edit | undefined;
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

/** A leaf of one entry, owned by `edit` when given. */
const leafOf = <V>(hash: number, entry: Entry<V>, edit: Edit | undefined): Leaf<V> => ({ hash, entries: [entry], edit });

/** A branch at `shift` holding two leaves of different hashes (splits until their chunks differ; hashes differ, so it ends by shift 30). */
const split = <V>(a: Leaf<V>, b: Leaf<V>, shift: number, edit: Edit | undefined): Branch<V> => {
  const ca = chunk(a.hash, shift);
  const cb = chunk(b.hash, shift);
  if (ca === cb) return { bitmap: 1 << ca, children: [split(a, b, shift + BITS, edit)], edit };
  return { bitmap: (1 << ca) | (1 << cb), children: ca < cb ? [a, b] : [b, a], edit };
};

/**
 * The node with `entry` set; the ordinal of an existing key is kept. Path copy: every node off the path is shared, and
 * a node on it is copied unless it carries `edit` (then it is changed in place: see `asMutable`).
 */
const insert = <V>(node: TrieNode<V> | undefined, entry: Entry<V>, hash: number, shift: number, edit: Edit | undefined): TrieNode<V> => {
  if (node === undefined) return leafOf(hash, entry, edit);
  const owned = edit !== undefined && node.edit === edit;
  if (isLeaf(node)) {
    if (node.hash !== hash) return split(node, leafOf(hash, entry, edit), shift, edit);
    let at = -1;
    for (let i = 0; i < node.entries.length; i++) if (node.entries[i].key === entry.key) at = i;
    const entries = owned ? node.entries : node.entries.slice();
    if (at === -1) entries.push(entry);
    else entries[at] = { key: entry.key, ordinal: node.entries[at].ordinal, value: entry.value };
    return owned ? node : { hash, entries, edit };
  }
  const bit = 1 << chunk(hash, shift);
  const at = popcount(node.bitmap & (bit - 1));
  const children = owned ? node.children : node.children.slice();
  let bitmap = node.bitmap;
  if ((bitmap & bit) === 0) {
    children.splice(at, 0, leafOf(hash, entry, edit));
    bitmap |= bit;
  } else {
    children[at] = insert(children[at], entry, hash, shift + BITS, edit);
  }
  if (owned) {
    node.bitmap = bitmap;
    return node;
  }
  return { bitmap, children, edit };
};

/** Clears `edit` from the nodes it owns (only an owned node can hold owned children), so they are as any other node. */
const release = <V>(node: TrieNode<V> | undefined, edit: Edit): void => {
  if (node === undefined || node.edit !== edit) return;
  node.edit = undefined;
  if (!isLeaf(node)) for (const child of node.children) release(child, edit);
};

const collect = <V>(node: TrieNode<V> | undefined, out: Entry<V>[]): Entry<V>[] => {
  if (node === undefined) return out;
  if (isLeaf(node)) out.push(...node.entries);
  else for (const child of node.children) collect(child, out);
  return out;
};

/**
 * The entries of each immutable map in first-insertion order, computed once (an immutable map never changes): kept
 * beside the map, not on it, so two maps of the same entries stay structurally equal whether or not they were listed.
 */
const ordered = new WeakMap<object, Entry<unknown>[]>();

/**
 * An immutable map from string keys to values (a hash array mapped trie): `set` returns a new map that shares every
 * node off the changed path with this one, so one update costs O(log n), never a copy of the whole map. A map never
 * changes (so it may be deep-frozen), but for the copy `asMutable` makes, which a fold owns until its `asImmutable`. Iteration follows first insertion, like a plain object's string keys, and
 * `toJSON` gives that plain object, so a state holding maps serializes as if they were records.
 */
export class PersistentMap<V> {
  private constructor(
    private root: TrieNode<V> | undefined,
    /** Number of keys. */
    private count: number,
    /** Set while this map is mutable (`asMutable`): `set` then changes it and the nodes it made itself in place. */
    private edit?: Edit,
  ) {}

  /** Number of keys. */
  get size(): number {
    return this.count;
  }

  /** The map with no keys. */
  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>(undefined, 0);
  }

  /** A map of the record's own entries, in their key order. */
  static fromRecord<V>(record: Readonly<Record<string, V>>): PersistentMap<V> {
    const map = PersistentMap.empty<V>().asMutable();
    for (const [key, value] of Object.entries(record)) map.set(key, value);
    return map.asImmutable();
  }

  /** The value at `key`, or undefined. */
  get(key: string): V | undefined {
    return lookup(this.root, key, hashOf(key))?.value;
  }

  /** True when `key` is present. */
  has(key: string): boolean {
    return lookup(this.root, key, hashOf(key)) !== undefined;
  }

  /**
   * A map with `key` set to `value` (this map when it already holds that very value); a new key goes last in iteration
   * order. On a mutable map (`asMutable`) it is this very map, changed.
   */
  set(key: string, value: V): PersistentMap<V> {
    const hash = hashOf(key);
    const existing = lookup(this.root, key, hash);
    if (existing !== undefined && existing.value === value) return this;
    const entry = { key, ordinal: existing?.ordinal ?? this.count /* keys are never removed: ordinals only grow */, value };
    const root = insert(this.root, entry, hash, 0, this.edit);
    const count = existing === undefined ? this.count + 1 : this.count;
    if (this.edit === undefined) return new PersistentMap(root, count);
    this.root = root;
    this.count = count;
    return this;
  }

  /**
   * A mutable copy of this map for a fold of many updates in a row: its `set` changes it in place and copies a node
   * of this map only the first time it touches it, so a run of updates costs about one path copy per node instead of
   * one per update. This map never changes. Call `asImmutable` when done; until then the copy must reach no one else.
   */
  asMutable(): PersistentMap<V> {
    return new PersistentMap(this.root, this.count, {});
  }

  /** This map, immutable from now on (a mutable one stops changing in place; an immutable one is returned as is). */
  asImmutable(): PersistentMap<V> {
    if (this.edit === undefined) return this;
    release(this.root, this.edit);
    this.edit = undefined;
    return new PersistentMap(this.root, this.count);
  }

  /** [key, value] pairs in first-insertion order; O(n log n) the first time for an immutable map, O(n) after. */
  entries(): [string, V][] {
    return this.ordered().map((entry) => [entry.key, entry.value]);
  }

  /** Keys in first-insertion order. */
  keys(): string[] {
    return this.ordered().map((entry) => entry.key);
  }

  /** Values in first-insertion order. */
  values(): V[] {
    return this.ordered().map((entry) => entry.value);
  }

  /** The entries in first-insertion order (shared: never changed by a caller); remembered for an immutable map. */
  private ordered(): readonly Entry<V>[] {
    const known = ordered.get(this) as Entry<V>[] | undefined;
    if (known !== undefined) return known;
    const sorted = collect(this.root, []).sort((a, b) => a.ordinal - b.ordinal);
    if (this.edit === undefined) ordered.set(this, sorted as Entry<unknown>[]);
    return sorted;
  }

  /** The plain object of the entries, in first-insertion order (what JSON.stringify writes). */
  toJSON(): Record<string, V> {
    return Object.fromEntries(this.entries());
  }
}
