/** A pure decision model: `decide` turns a command and the current state into events (or throws a DomainError), `evolve` folds one event into state (docs/ARCHITECTURE.md §2). */
export interface Decider<S, C, E> {
  /** Events the command produces against `state`; throws a DomainError when refused; `[]` means already applied. */
  decide(command: C, state: S): E[];
  /** The state after `event`; never mutates `state`. */
  evolve(state: S, event: E): S;
  /** The state of an empty stream. */
  initialState(): S;
  /** The state after `events` in order, as `events.reduce(evolve, state)` returns it, only cheaper; never mutates `state`. */
  evolveAll?(state: S, events: readonly E[]): S;
}

/** Folds `events` through `decider.evolve` from its initial state: the state at the revision of the last event (docs/ARCHITECTURE.md §2, snapshots are this fold). */
export const replay = <S, C, E>(decider: Decider<S, C, E>, events: readonly E[]): S =>
  evolveAll(decider, decider.initialState(), events);

/** `state` after `events` in order: the decider's `evolveAll` when it has one, else one `evolve` per event. */
export const evolveAll = <S, C, E>(decider: Decider<S, C, E>, state: S, events: readonly E[]): S =>
  decider.evolveAll ? decider.evolveAll(state, events) : events.reduce<S>((current, event) => decider.evolve(current, event), state);
