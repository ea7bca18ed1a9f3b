import { diffStates, formatChanges } from './state-diff';

describe('diffStates (replay without --at)', () => {
  it('reports added, removed and changed leaves with their paths', () => {
    const before = { status: 'starting', toolCalls: { c1: { status: 'dispatched', attempt: 1 } }, tags: ['a'], gone: 1 };
    const after = { status: 'running', toolCalls: { c1: { status: 'completed', attempt: 1 }, 'odd id': { status: 'dispatched' } }, tags: ['a', 'b'] };
    expect(diffStates(before, after)).toEqual([
      { path: 'status', op: 'change', before: 'starting', after: 'running' },
      { path: 'toolCalls.c1.status', op: 'change', before: 'dispatched', after: 'completed' },
      { path: 'toolCalls["odd id"]', op: 'add', after: { status: 'dispatched' } },
      { path: 'tags[1]', op: 'add', after: 'b' },
      { path: 'gone', op: 'remove', before: 1 },
    ]);
  });

  it('finds nothing between equal states and treats a type change as one change', () => {
    expect(diffStates({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toEqual([]);
    expect(diffStates({ a: [1] }, { a: { 0: 1 } })).toEqual([{ path: 'a', op: 'change', before: [1], after: { 0: 1 } }]);
  });

  it('formats one line per change', () => {
    expect(formatChanges(diffStates({ a: 1, b: 2 }, { a: 3, c: 'x' }))).toEqual(['~ a: 1 → 3', '- b: 2', '+ c: "x"']);
  });
});
