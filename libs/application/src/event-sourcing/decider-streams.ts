import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Decider } from '@runledger/domain';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { EventStore, WrongExpectedRevisionError } from '@runledger/infra/event-store';
import { CommandContext, metadataOf } from './command-context';

/** A stream's state folded with a decider, and the revision it was folded to (-1: no stream). */
export interface LoadedStream<S> {
  state: S;
  revision: number;
}

/** Outcome of a decision: the events appended (possibly none), the state after them and the stream revision. */
export interface Decided<S, E> {
  events: E[];
  /** Global positions of the appended events (empty when the decision appended nothing). */
  positions: number[];
  state: S;
  revision: number;
}

/** How many times a decision is re-run on fresh state after a concurrent append (DESIGN invariant 2). */
const MAX_CONFLICT_RETRIES = 8;

/**
 * Load → decide → append with the expected revision; on WrongExpectedRevisionError the decision re-runs on fresh
 * state (DESIGN invariant 2). `decide` may throw a DomainError, which propagates and appends nothing.
 */
@Injectable()
export class DeciderStreams {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** Folds the whole stream with `decider.evolve` (the state at its head), or at revision `at` when given. */
  async load<S, C, E extends { type: string }>(streamId: string, decider: Decider<S, C, E>, at?: number): Promise<LoadedStream<S>> {
    let state = decider.initialState();
    let revision = -1;
    for await (const event of this.store.readStream(streamId, at === undefined ? {} : { maxCount: at + 1 })) {
      state = decider.evolve(state, { type: event.type, data: event.data } as unknown as E);
      revision = event.revision;
    }
    return { state, revision };
  }

  /** Decides on the current state and appends the events; `decide` gets the state and returns events. */
  async handle<S, C, E extends { type: string; data: unknown }>(
    streamId: string,
    decider: Decider<S, C, E>,
    decide: (state: S) => E[],
    context: CommandContext,
    occurredAt?: (event: E) => string | undefined,
  ): Promise<Decided<S, E>> {
    for (let attempt = 0; ; attempt++) {
      const { state, revision } = await this.load(streamId, decider);
      const events = decide(state);
      if (events.length === 0) return { events, positions: [], state, revision };
      let positions: number[];
      try {
        ({ positions } = await this.store.appendToStream(
          streamId,
          events.map((e) => ({ eventId: randomUUID(), type: e.type, data: e.data, metadata: metadataOf(context, occurredAt?.(e)) })),
          revision === -1 ? 'no_stream' : revision,
        ));
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError && attempt < MAX_CONFLICT_RETRIES) continue;
        throw error;
      }
      const after = events.reduce(decider.evolve, state);
      return { events, positions, state: after, revision: revision + events.length };
    }
  }
}
