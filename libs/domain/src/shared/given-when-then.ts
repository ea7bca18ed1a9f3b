import type { Decider } from './decider';
import { DomainError } from './domain-error';

/** Structural equality for JSON-like values; a key holding `undefined` counts as absent (as it does once serialized). */
export const deepEqual = (a: unknown, b: unknown): boolean => {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const key of keys) {
    if (!deepEqual(ra[key], rb[key])) return false;
  }
  return true;
};

/** Freezes `value` and everything reachable from it, so any later mutation throws (strict mode); returns it. */
export const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
};

const show = (value: unknown): string => JSON.stringify(value, null, 2);

/** Outcome of `given(...).when(command)`: assert the events produced or the refusal. Both assertions return nothing (never return the outcome itself from a test: it has a `then`). */
export interface DeciderOutcome<E> {
  /** Asserts decide produced exactly `expected` (deep equality, in order); throws an Error describing the difference otherwise. */
  then(expected: readonly E[]): void;
  /** Asserts decide threw a DomainError with `code` (and, if given, `details` containing each listed key with an equal value). */
  thenThrows(code: string, details?: Record<string, unknown>): void;
}

/** A scenario whose history is set; `when` names the command under test. */
export interface DeciderScenario<C, E> {
  /** Runs nothing yet: the command is decided when `then`/`thenThrows` is called. */
  when(command: C): DeciderOutcome<E>;
}

/** Test kit: `given(decider, history).when(command).then(events)` or `.thenThrows(code)`. History and state are deep-frozen, so a decide or evolve that mutates its input fails the test. */
export const given = <S, C, E>(decider: Decider<S, C, E>, history: readonly E[] = []): DeciderScenario<C, E> => ({
  when: (command: C): DeciderOutcome<E> => {
    const run = (): E[] => {
      let state = deepFreeze(decider.initialState());
      for (const event of history) state = deepFreeze(decider.evolve(state, deepFreeze(event)));
      return decider.decide(deepFreeze(command), state);
    };
    return {
      then: (expected: readonly E[]): void => {
        let actual: E[];
        try {
          actual = run();
        } catch (error) {
          const described = error instanceof DomainError ? `${error.code}: ${error.message}` : String(error);
          throw new Error(`expected events ${show(expected)}\nbut decide threw ${described}`);
        }
        if (!deepEqual(actual, expected)) {
          throw new Error(`expected events ${show(expected)}\nbut got ${show(actual)}`);
        }
      },
      thenThrows: (code: string, details?: Record<string, unknown>): void => {
        let actual: E[];
        try {
          actual = run();
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          if (error.code !== code) {
            throw new Error(`expected DomainError ${code} but got ${error.code}: ${error.message}`);
          }
          for (const [key, value] of Object.entries(details ?? {})) {
            if (!deepEqual(error.details?.[key], value)) {
              throw new Error(`expected ${code} details.${key} = ${show(value)} but got ${show(error.details?.[key])}`);
            }
          }
          return;
        }
        throw new Error(`expected DomainError ${code} but got events ${show(actual)}`);
      },
    };
  },
});
