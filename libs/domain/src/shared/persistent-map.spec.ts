import { deepFreeze } from './given-when-then';
import { PersistentMap } from './persistent-map';

describe('PersistentMap', () => {
  it('gets what was set, keeps first-insertion order and serializes as the plain object', () => {
    const map = PersistentMap.empty<number>().set('b', 1).set('a', 2).set('c', 3).set('b', 4);
    expect(map.size).toBe(3);
    expect(map.get('b')).toBe(4);
    expect(map.has('a')).toBe(true);
    expect(map.has('z')).toBe(false);
    expect(map.get('z')).toBeUndefined();
    expect(map.keys()).toEqual(['b', 'a', 'c']);
    expect(JSON.stringify({ m: map })).toBe('{"m":{"b":4,"a":2,"c":3}}');
    expect(PersistentMap.fromRecord(map.toJSON()).entries()).toEqual(map.entries());
  });

  it('never changes a map it derives from, even deep-frozen, and returns the same map for the same value', () => {
    let map = PersistentMap.empty<{ n: number }>();
    const reference = new Map<string, { n: number }>();
    const snapshots: [PersistentMap<{ n: number }>, Record<string, { n: number }>][] = [];
    for (let i = 0; i < 3000; i++) {
      const key = `toolu_${(i * 7919) % 2000}`;
      const value = { n: i };
      map = deepFreeze(map).set(key, value);
      reference.set(key, value);
      if (i % 500 === 0) snapshots.push([map, Object.fromEntries(reference)]);
    }
    expect(map.size).toBe(reference.size);
    expect(map.entries()).toEqual([...reference.entries()]);
    for (const [snapshot, expected] of snapshots) expect(snapshot.toJSON()).toEqual(expected);
    const same = map.get('toolu_0')!;
    expect(map.set('toolu_0', same)).toBe(map);
  });

  it('asMutable: changes only the copy, in place, until asImmutable; the map it came from never changes', () => {
    let source = PersistentMap.empty<number>();
    for (let i = 0; i < 1500; i++) source = source.set(`toolu_${i}`, i);
    source = deepFreeze(source);
    const before = JSON.stringify(source);
    const reference = new Map(source.entries());
    const mutable = source.asMutable();
    for (let i = 0; i < 3000; i++) {
      const key = `toolu_${(i * 7919) % 2500}`;
      expect(mutable.set(key, -i)).toBe(mutable);
      reference.set(key, -i);
    }
    // colliding hashes (see below) inside the same run
    mutable.set('toolu_132789', 1).set('toolu_132788', 2).set('toolu_132789', 3);
    reference.set('toolu_132789', 3).set('toolu_132788', 2);
    const done = mutable.asImmutable();
    expect(JSON.stringify(source)).toBe(before);
    expect(done.entries()).toEqual([...reference.entries()]);
    expect(done.size).toBe(reference.size);
    const frozen = JSON.stringify(done);
    expect(done.set('toolu_0', 42)).not.toBe(done);
    mutable.set('toolu_1', 42);
    expect(JSON.stringify(done)).toBe(frozen);
  });

  it('keeps keys whose 32-bit hashes collide apart', () => {
    // FNV-1a gives these pairs the same hash (2954472843 and 2937695224).
    const map = PersistentMap.empty<string>()
      .set('toolu_132789', 'a')
      .set('toolu_132788', 'b')
      .set('toolu_729192', 'c')
      .set('toolu_729193', 'd')
      .set('toolu_132789', 'e');
    expect(map.toJSON()).toEqual({ toolu_132789: 'e', toolu_132788: 'b', toolu_729192: 'c', toolu_729193: 'd' });
    expect(map.keys()).toEqual(['toolu_132789', 'toolu_132788', 'toolu_729192', 'toolu_729193']);
    expect(map.size).toBe(4);
  });

  it('lists a map once and the same after, and its listing neither reaches the maps derived from it nor makes it unequal to an unlisted one', () => {
    const map = PersistentMap.fromRecord({ b: 1, a: 2 });
    const twin = PersistentMap.fromRecord({ b: 1, a: 2 });
    expect(map.values()).toEqual([1, 2]);
    const listed = map.entries();
    listed.reverse(); // a caller's copy: the map's order is untouched
    expect(map.entries()).toEqual([['b', 1], ['a', 2]]);
    expect(map).toEqual(twin);
    const next = map.set('c', 3).set('b', 4);
    expect(next.entries()).toEqual([['b', 4], ['a', 2], ['c', 3]]);
    expect(map.keys()).toEqual(['b', 'a']);
    const mutable = map.asMutable();
    expect(mutable.keys()).toEqual(['b', 'a']);
    mutable.set('d', 5);
    expect(mutable.keys()).toEqual(['b', 'a', 'd']);
    expect(mutable.asImmutable().values()).toEqual([1, 2, 5]);
  });
});
