import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Decider, evolveAll } from '@runledger/domain';
import { EVENT_STORE } from '@runledger/infra/tokens';
import { EventStore, WrongExpectedRevisionError } from '@runledger/infra/event-store';
import { LRUCache } from 'lru-cache';
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

/** How many times a decision is re-run on fresh state after a concurrent append (invariant 2). */
const MAX_CONFLICT_RETRIES = 8;

/** Events folded at once by `load` (EventStore pages are 500). */
const FOLD_PAGE = 500;

/** Streams whose folded state stays in memory (least recently used first out); a state is immutable, so sharing it is safe. */
export const STREAM_STATE_CACHE_SIZE = 1000;

interface CachedStream {
  decider: Decider<unknown, unknown, unknown>;
  state: unknown;
  revision: number;
}

/**
 * Load → decide → append with the expected revision (invariant 2), on one fold per stream kept in memory: the
 * state of each recently used stream with its revision. A load reads only the events after the cached revision; a
 * decision is taken on the cached state and appended expecting its revision, so a state that another writer (another
 * process) has moved past fails the append and the decision re-runs on fresh state. A decision that appends nothing,
 * or refuses, on the cached state is re-taken on fresh state before it is believed. `decide` may throw a DomainError,
 * which propagates and appends nothing.
 */
@Injectable()
export class DeciderStreams {
  private readonly cache = new LRUCache<string, CachedStream>({ max: STREAM_STATE_CACHE_SIZE });

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** The stream's state at its head (reads only the events after the cached revision), or at revision `at` when given. */
  async load<S, C, E extends { type: string }>(streamId: string, decider: Decider<S, C, E>, at?: number): Promise<LoadedStream<S>> {
    const cached = this.cached(streamId, decider);
    const base = cached !== undefined && (at === undefined || cached.revision <= at) ? cached : { state: decider.initialState(), revision: -1 };
    let { state, revision } = base;
    const options = { fromRevision: revision + 1, ...(at === undefined ? {} : { maxCount: at - revision }) };
    if (at === undefined || at > revision) {
      // Folded a page at a time (the decider's evolveAll may fold a run of events cheaper than one by one).
      let page: E[] = [];
      for await (const event of this.store.readStream(streamId, options)) {
        page.push({ type: event.type, data: event.data } as unknown as E);
        revision = event.revision;
        if (page.length === FOLD_PAGE) (state = evolveAll(decider, state, page)), (page = []);
      }
      if (page.length > 0) state = evolveAll(decider, state, page);
    }
    if (at === undefined || revision > (cached?.revision ?? -1)) this.remember(streamId, decider, state, revision);
    return { state, revision };
  }

  /**
   * The states of several streams at their heads, read in one pass (EventStore.readStreams) and kept like `load`'s;
   * a stream with no events is at revision -1 with the initial state. For a caller about to visit many streams.
   */
  async loadMany<S, C, E extends { type: string }>(streamIds: readonly string[], decider: Decider<S, C, E>): Promise<Map<string, LoadedStream<S>>> {
    const folds = new Map<string, LoadedStream<S>>(streamIds.map((id) => [id, { state: decider.initialState(), revision: -1 }]));
    for await (const event of this.store.readStreams(streamIds)) {
      const fold = folds.get(event.streamId)!;
      fold.state = decider.evolve(fold.state, { type: event.type, data: event.data } as unknown as E);
      fold.revision = event.revision;
    }
    for (const [id, fold] of folds) this.remember(id, decider, fold.state, fold.revision);
    return folds;
  }

  /**
   * Keeps `state` at `revision` as the stream's fold, as `load` would (a later fold already held wins): for a state read
   * elsewhere that the caller vouches equals the decider's fold of the stream's events 0..`revision` (a read-model
   * snapshot at the stream's head). A later `load` reads only the events after it.
   */
  prime<S, C, E>(streamId: string, decider: Decider<S, C, E>, state: S, revision: number): void {
    this.remember(streamId, decider, state, revision);
  }

  /** The fold this process holds (no read), else the stream's state at its head: for what a later event never changes (the project of a session, its kind). */
  async known<S, C, E extends { type: string }>(streamId: string, decider: Decider<S, C, E>): Promise<LoadedStream<S>> {
    return this.cached(streamId, decider) ?? (await this.load(streamId, decider));
  }

  /** Decides on the stream's state and appends the events; `decide` gets the state and returns events (it may run more than once). */
  async handle<S, C, E extends { type: string; data: unknown }>(
    streamId: string,
    decider: Decider<S, C, E>,
    decide: (state: S) => E[],
    context: CommandContext,
    occurredAt?: (event: E) => string | undefined,
  ): Promise<Decided<S, E>> {
    const cached = this.cached(streamId, decider);
    let fresh = cached === undefined;
    let { state, revision } = cached ?? (await this.load(streamId, decider));
    for (let attempt = 0; ; attempt++) {
      let events: E[];
      try {
        events = decide(state);
      } catch (error) {
        if (fresh) throw error;
        ({ state, revision } = await this.load(streamId, decider));
        fresh = true;
        continue;
      }
      if (events.length === 0) {
        if (fresh) return { events, positions: [], state, revision };
        ({ state, revision } = await this.load(streamId, decider));
        fresh = true;
        continue;
      }
      let positions: number[];
      try {
        const appended = await this.store.appendToStream(
          streamId,
          events.map((e) => ({ eventId: randomUUID(), type: e.type, data: e.data, metadata: metadataOf(context, occurredAt?.(e)) })),
          revision === -1 ? 'no_stream' : revision,
        );
        positions = appended.positions;
        // Fold what the log holds: the redaction door may have rewritten secrets on the way in (invariant 12), and a
        // fold of the given events would differ from a replay (invariant 8).
        if (appended.stored) events = appended.stored.map((stored, i) => ({ ...events[i], data: stored.data }) as E);
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError && attempt < MAX_CONFLICT_RETRIES) {
          ({ state, revision } = await this.load(streamId, decider));
          fresh = true;
          continue;
        }
        throw error;
      }
      const after = events.reduce(decider.evolve, state);
      this.remember(streamId, decider, after, revision + events.length);
      return { events, positions, state: after, revision: revision + events.length };
    }
  }

  /** The cached fold of `streamId` by this very decider, if any. */
  private cached<S, C, E>(streamId: string, decider: Decider<S, C, E>): LoadedStream<S> | undefined {
    const entry = this.cache.get(streamId);
    if (entry === undefined || entry.decider !== (decider as Decider<unknown, unknown, unknown>)) return undefined;
    return { state: entry.state as S, revision: entry.revision };
  }

  /** Keeps the fold at `revision` unless a later one is already cached. */
  private remember<S, C, E>(streamId: string, decider: Decider<S, C, E>, state: S, revision: number): void {
    if (revision < 0) return;
    const entry = this.cache.peek(streamId);
    if (entry !== undefined && entry.decider === (decider as Decider<unknown, unknown, unknown>) && entry.revision >= revision) return;
    this.cache.set(streamId, { decider: decider as Decider<unknown, unknown, unknown>, state, revision });
  }
}
