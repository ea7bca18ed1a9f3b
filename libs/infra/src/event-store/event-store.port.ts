import type { StreamCategory } from '@runledger/domain';
import type { ChainLink } from './hash-chain';

/** Metadata carried by every event (docs/ARCHITECTURE.md §2); `recordedAt` is ISO-8601, set by the store when absent. */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  actor?: string;
  idempotencyKey?: string;
  recordedAt?: string;
  occurredAt?: string;
  schemaVersion?: number;
  [key: string]: unknown;
}

/** An event to append: `eventId` is a uuid chosen by the caller, so a retried append is recognised (idempotency). */
export interface NewEvent<Type extends string = string, Data = unknown> {
  eventId: string;
  type: Type;
  data: Data;
  metadata?: EventMetadata;
}

/** An event as stored: envelope, 0-based stream revision, global position, writer's transaction id and chain hash. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  eventId: string;
  type: Type;
  data: Data;
  metadata: EventMetadata;
  streamId: string;
  revision: number;
  globalPosition: number;
  /** The appending transaction's `pg_current_xact_id()` as a decimal string (xid8). */
  transactionId: string;
  hash: string;
  prevHash: string;
}

/** What the caller believes the stream's head is: a revision, `no_stream`, `stream_exists` or `any` (no check). */
export type ExpectedRevision = number | 'no_stream' | 'stream_exists' | 'any';

/** Outcome of an append: the stream's revision after it and each event's global position, in order. */
export interface AppendResult {
  nextRevision: number;
  positions: number[];
  /** True when every event id was already in the stream: nothing was written (idempotent re-append). */
  idempotent: boolean;
  /** The events as the store wrote them, when a decorator changed them on the way in (the redaction door): fold these, not the ones given. */
  stored?: NewEvent[];
}

/** A point in the global order: (transaction id, global position), never the position alone (invariant 9). */
export interface Checkpoint {
  transactionId: string;
  globalPosition: number;
}

/** The checkpoint before the first event. */
export const START: Checkpoint = { transactionId: '0', globalPosition: 0 };

/** Options of readStream: from which revision, forwards or backwards, and at most how many events. */
export interface ReadStreamOptions {
  fromRevision?: number;
  direction?: 'forwards' | 'backwards';
  maxCount?: number;
}

/** Options of readAll: start after a checkpoint (or after a global position), at most `maxCount` events. */
export interface ReadAllOptions {
  from?: Checkpoint;
  fromPosition?: number;
  maxCount?: number;
}

/** A live subscription; `stop` resolves once the loop has ended and no handler is running. */
export interface Subscription {
  stop(): Promise<void>;
  /** Resolves the first time the subscription has delivered everything committed when it started and listens for other processes' appends (where the store can). */
  readonly caughtUp: Promise<void>;
}

/**
 * What subscribeToAllEntries delivers of a stored event: its stream, revision, type, data and place in the global order,
 * without the metadata, event id and chain hashes (which the store then neither sends nor decodes).
 */
export type LogEntry<Type extends string = string, Data = unknown> = Pick<RecordedEvent<Type, Data>, 'streamId' | 'revision' | 'type' | 'data' | 'globalPosition' | 'transactionId'>;

/** Options of subscribeToAll: `onEvents` receives each batch in global order and must persist its checkpoint itself. */
export interface SubscribeOptions<Event extends LogEntry = RecordedEvent> {
  from: Checkpoint;
  onEvents: (events: Event[]) => Promise<void>;
  batchSize?: number;
  /** Polling interval in ms when no notification arrives (default 200). */
  pollIntervalMs?: number;
  /**
   * Once caught up, how long (ms) to let appends gather before reading the next page (default 0): a subscriber whose
   * batch costs the same for 1 event as for 20 (a projection transaction) trades this much delay for fewer batches.
   */
  coalesceMs?: number;
  onError?: (error: unknown) => void;
  /**
   * While catching up (the last page was full), read the next page while `onEvents` handles this one (default false):
   * for a subscriber whose batch waits on something else (a receiver), at the cost of a second page in memory. A page
   * read ahead is used only if `onEvents` succeeded; after a failure the batch is read again.
   */
  readAhead?: boolean;
  /**
   * The one wake-up source of this subscription, replacing the store's own (local appends, LISTEN): it calls `wake`
   * when events may have been committed, and returns an unsubscribe function. For many subscribers sharing one
   * watcher (the live tails of `GET /events`), so that each does not poll or listen on its own.
   */
  wakeOn?: (wake: () => void) => () => void;
}

/** A stream and its head: the revision of its last event (0-based). */
export interface StreamHead {
  streamId: string;
  revision: number;
}

/** First broken link of a stream's hash chain, or ok. */
export type VerifyResult =
  | { ok: true; streamId: string; events: number }
  | { ok: false; streamId: string; events: number; brokenAt: number; reason: string };

/** The event store port (docs/ARCHITECTURE.md §1): append-only streams with optimistic concurrency and a gap-safe global order. */
export interface EventStore {
  /** Appends atomically; throws WrongExpectedRevisionError (with the actual revision) or EventIdConflictError. */
  appendToStream(streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  /** Reads a stream in batches (memory bounded by the batch size); an unknown stream yields nothing. */
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  /**
   * Reads several whole streams in one pass: events ordered by stream id, then revision, in pages of a few hundred
   * events whatever the number of streams (memory bounded by the page); unknown streams yield nothing.
   */
  readStreams(streamIds: readonly string[]): AsyncIterable<RecordedEvent>;
  /** Reads the global log in (transaction id, position) order, only events whose transaction has committed and no older one is open. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /** Catch-up then live delivery of the global log after `from` (invariant 9). */
  subscribeToAll(options: SubscribeOptions): Subscription;
  /**
   * subscribeToAll delivering LogEntry pages: the same order, batches and wake-ups, for a subscriber that reads no
   * metadata, event ids or hashes (the span export), so that each page costs the server and this process less.
   */
  subscribeToAllEntries(options: SubscribeOptions<LogEntry>): Subscription;
  /** The stream's current revision, or -1 when it does not exist. */
  streamRevision(streamId: string): Promise<number>;
  /** The checkpoint of the last event a reader can see now (START when empty): a new subscriber's "from now on". */
  headCheckpoint(): Promise<Checkpoint>;
  /** The checkpoint just after the event at global `position` (START for 0): where a position-based reader resumes. */
  checkpointAfter(position: number): Promise<Checkpoint>;
  /** The highest global position committed (0 when empty). */
  headPosition(): Promise<number>;
  /** The stream's events exactly as stored and hashed (data/metadata JSON text), for export and offline verification. */
  readStreamLinks(streamId: string): AsyncIterable<ChainLink & { globalPosition: number }>;
  /** Recomputes the stream's hash chain and reports the first broken link. */
  verifyStream(streamId: string): Promise<VerifyResult>;
  /** Every stream id, in order of creation (for `verify` of all streams). */
  listStreams(): AsyncIterable<string>;
  /** Every stream of `category` (parsed by the domain's stream-name parser) with its head revision, in stream-id order. */
  readStreamsByCategory(category: StreamCategory): AsyncIterable<StreamHead>;
  /** The stream's last event of type `type` (highest revision), or null when it has none. */
  lastEventOfType(streamId: string, type: string): Promise<RecordedEvent | null>;
  /** How many committed events come after `from` in the global order (0 when a reader at `from` has them all). */
  countAfter(from: Checkpoint): Promise<number>;
  /** The (transaction id, position) of the committed event at global `position`, or null when none has it (not yet appended, or rolled back). */
  checkpointAt(position: number): Promise<Checkpoint | null>;
  /**
   * The events at these global positions, in ascending position; a position no committed event has is left out. At
   * most READ_AT_LIMIT positions a call (RangeError above it, or for a position that is not an integer ≥ 1).
   */
  readAt(positions: readonly number[]): Promise<RecordedEvent[]>;
}

/** The most positions one `EventStore.readAt` call takes (one indexed query: its array stays small). */
export const READ_AT_LIMIT = 1_000;

/** Thrown by appendToStream when the stream's revision is not the expected one (invariant 2). */
export class WrongExpectedRevisionError extends Error {
  readonly code = 'EVENT_STORE.WRONG_EXPECTED_REVISION';
  constructor(readonly streamId: string, readonly expected: ExpectedRevision, readonly actual: number) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${actual === -1 ? 'no_stream' : actual}`);
  }
}

/** Thrown when some, but not all, of a batch's event ids are already in the stream: neither a retry nor new work. */
export class EventIdConflictError extends Error {
  readonly code = 'EVENT_STORE.EVENT_ID_CONFLICT';
  constructor(readonly streamId: string, readonly eventIds: string[]) {
    super(`stream ${streamId}: the batch mixes already-appended event ids (${eventIds.join(', ')}) with new ones`);
  }
}

/** Thrown for an append that could never succeed: empty batch, bad stream id, bad event id or type. */
export class InvalidAppendError extends Error {
  readonly code = 'EVENT_STORE.INVALID_APPEND';
}
