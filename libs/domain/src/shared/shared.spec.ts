import { assertNever } from './assert-never';
import { type Decider, replay } from './decider';
import { DomainError, domainErrorHttpStatus, isDomainError } from './domain-error';
import { deepEqual, deepFreeze, given } from './given-when-then';
import { omitUndefined } from './omit-undefined';

type CounterEvent = { type: 'Added'; data: { n: number } };
type CounterCommand = { type: 'Add'; data: { n: number } };

const counter: Decider<{ total: number }, CounterCommand, CounterEvent> = {
  decide: (command, state) => {
    if (command.data.n <= 0) throw new DomainError('COUNTER.INVALID', 'invalid', 'n must be positive', { field: 'n', total: state.total });
    return [{ type: 'Added', data: { n: command.data.n } }];
  },
  evolve: (state, event) => ({ total: state.total + event.data.n }),
  initialState: () => ({ total: 0 }),
};

const mutating: Decider<{ items: number[] }, CounterCommand, CounterEvent> = {
  decide: () => [],
  evolve: (state, event) => {
    state.items.push(event.data.n);
    return state;
  },
  initialState: () => ({ items: [] }),
};

describe('replay', () => {
  it('folds evolve from the initial state', () => {
    expect(replay(counter, [{ type: 'Added', data: { n: 2 } }, { type: 'Added', data: { n: 3 } }])).toEqual({ total: 5 });
  });

  it('gives the initial state for an empty stream', () => {
    expect(replay(counter, [])).toEqual({ total: 0 });
  });
});

describe('DomainError', () => {
  it('carries code, kind and details and maps kinds to HTTP statuses', () => {
    const error = new DomainError('X.Y', 'conflict', 'boom', { status: 'running' });
    expect(error).toBeInstanceOf(Error);
    expect([error.code, error.kind, error.details, error.message, error.name]).toEqual([
      'X.Y',
      'conflict',
      { status: 'running' },
      'boom',
      'DomainError',
    ]);
    expect(isDomainError(error, 'X.Y')).toBe(true);
    expect(isDomainError(error, 'X.Z')).toBe(false);
    expect(isDomainError(new Error('x'))).toBe(false);
    expect(domainErrorHttpStatus).toEqual({ invalid: 400, not_found: 404, conflict: 409 });
  });
});

describe('assertNever and omitUndefined', () => {
  it('assertNever throws at run time', () => {
    expect(() => assertNever('surprise' as never)).toThrow('Unexpected value: "surprise"');
  });

  it('omitUndefined drops undefined keys only', () => {
    expect(Object.keys(omitUndefined({ a: 1, b: undefined, c: null, d: 0 }))).toEqual(['a', 'c', 'd']);
  });
});

describe('given/when/then kit', () => {
  it('passes when the events match', () => {
    given(counter, [{ type: 'Added', data: { n: 1 } }]).when({ type: 'Add', data: { n: 2 } }).then([{ type: 'Added', data: { n: 2 } }]);
  });

  it('fails when the events differ', () => {
    expect(() => given(counter).when({ type: 'Add', data: { n: 2 } }).then([{ type: 'Added', data: { n: 3 } }])).toThrow(
      /expected events/,
    );
  });

  it('fails then() when decide throws', () => {
    expect(() => given(counter).when({ type: 'Add', data: { n: 0 } }).then([])).toThrow(/decide threw COUNTER.INVALID/);
  });

  it('passes thenThrows on the code and the listed details', () => {
    given(counter, [{ type: 'Added', data: { n: 4 } }]).when({ type: 'Add', data: { n: -1 } }).thenThrows('COUNTER.INVALID', { total: 4 });
  });

  it('fails thenThrows when no error is thrown, the code differs or details differ', () => {
    expect(() => given(counter).when({ type: 'Add', data: { n: 1 } }).thenThrows('COUNTER.INVALID')).toThrow(/but got events/);
    expect(() => given(counter).when({ type: 'Add', data: { n: 0 } }).thenThrows('OTHER.CODE')).toThrow(/but got COUNTER.INVALID/);
    expect(() => given(counter).when({ type: 'Add', data: { n: 0 } }).thenThrows('COUNTER.INVALID', { total: 9 })).toThrow(
      /details.total/,
    );
  });

  it('fails a scenario whose evolve mutates its input', () => {
    expect(() => given(mutating, [{ type: 'Added', data: { n: 1 } }]).when({ type: 'Add', data: { n: 1 } }).then([])).toThrow(
      /not extensible/,
    );
  });

  it('deepEqual treats undefined keys as absent and compares structure', () => {
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(deepEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(deepEqual([], {})).toBe(false);
    expect(deepEqual({ a: null }, { a: {} })).toBe(false);
  });

  it('deepFreeze freezes nested values', () => {
    const value = deepFreeze({ a: { b: [1] } });
    expect(Object.isFrozen(value.a.b)).toBe(true);
  });
});
