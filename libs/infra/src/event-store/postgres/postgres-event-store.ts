import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isStreamOfCategory, streamCategoryPrefix, StreamCategory } from '@runledger/domain';
import { SqlDatabase, SqlExecutor, toNumber } from '../../database/sql-database';
import {
  AppendResult,
  Checkpoint,
  EventIdConflictError,
  EventStore,
  ExpectedRevision,
  InvalidAppendError,
  LogEntry,
  NewEvent,
  READ_AT_LIMIT,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  START,
  StreamHead,
  SubscribeOptions,
  Subscription,
  VerifyResult,
  WrongExpectedRevisionError,
} from '../event-store.port';
import { ChainLink, eventHash, findBrokenLink } from '../hash-chain';
import { SharedTailReader } from '../shared-tail';
import { subscribe } from '../subscription';
import { eventStoreMigration } from './event-store.schema';
import { eventStoreAppendV2Migration } from './event-store-v2.schema';
import { eventStoreAppendV3Migration } from './event-store-v3.schema';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;
const TYPE = /^[A-Za-z][A-Za-z0-9_.]{0,99}$/;
/** Events read per round trip by the streaming readers. */
const READ_BATCH = 500;
const UNIQUE_VIOLATION = '23505';
/** Cross-process wake-ups (NOTIFY) are sent at most this often (ms): one NOTIFY per append serialized commits. */
const NOTIFY_THROTTLE_MS = 10;
/** Stream heads (revision and chain hash) remembered per process for the append fast path; the oldest go first. */
const HEAD_CACHE_SIZE = 10_000;

/**
 * An append to a stream whose head this process knows (revision and hash), in one statement and without `rl_append`:
 * the head row is moved only if it still holds that revision and hash (its row lock serializes writers as the
 * function's does, taken first as in the function), and the rows are inserted only if it was (hashes chained in Node by
 * eventHash, the same text as the function's). No row back means the head moved: the function decides.
 * Each event is one row of scalar parameters (`$6…`: id, type, data, metadata, hash, prev_hash) in a multi-row VALUES:
 * no text[] to escape in the driver and parse on the server (bench/event-store/append-cost). Rows take their global
 * positions in revision order (ORDER BY e.n).
 */
const appendAfterHeadSql = (count: number): string => {
  const rows = Array.from({ length: count }, (_, i) => {
    const p = 6 + 6 * i;
    return `(${i + 1}, $${p}::uuid, $${p + 1}::text, $${p + 2}::text, $${p + 3}::text, $${p + 4}::text, $${p + 5}::text)`;
  });
  return `
WITH head AS (
  UPDATE rl_streams SET revision = $2::bigint + $3::int, last_hash = $4
  WHERE stream_id = $1 AND revision = $2 AND last_hash = $5
  RETURNING stream_id
)
INSERT INTO rl_events (stream_id, revision, event_id, type, data, metadata, hash, prev_hash)
SELECT head.stream_id, $2::bigint + e.n, e.id, e.type, e.data::json, e.metadata::json, e.hash, e.prev_hash
FROM head, (VALUES ${rows.join(', ')}) AS e(n, id, type, data, metadata, hash, prev_hash)
ORDER BY e.n
RETURNING global_position`;
};
/** Largest batch appended by appendAfterHeadSql (one prepared statement per size); larger ones go through `rl_append`. */
const APPEND_AFTER_HEAD_MAX_EVENTS = 32;
const APPEND_AFTER_HEAD = Array.from({ length: APPEND_AFTER_HEAD_MAX_EVENTS + 1 }, (_, n) => (n === 0 ? '' : appendAfterHeadSql(n)));

/** The event-store schema migrations, in order (a test or tool that runs only the store applies these). */
export const EVENT_STORE_MIGRATIONS = [eventStoreMigration, eventStoreAppendV2Migration, eventStoreAppendV3Migration];

type Batch = ReturnType<PostgresEventStore['validate']>;

interface EventRow {
  global_position: string | number;
  transaction_id: string;
  stream_id: string;
  revision: string | number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  hash: string;
  prev_hash: string;
}

const COLUMNS = `global_position, transaction_id::text AS transaction_id, stream_id, revision, event_id::text AS event_id,
  type, data::text AS data, metadata::text AS metadata, hash, prev_hash`;

/** The columns of a LogEntry: no metadata, event id or hashes (about half of a small event's row). */
const ENTRY_COLUMNS = 'global_position, transaction_id::text AS transaction_id, stream_id, revision, type, data::text AS data';

type EntryRow = Pick<EventRow, 'global_position' | 'transaction_id' | 'stream_id' | 'revision' | 'type' | 'data'>;

const toEntry = (row: EntryRow): LogEntry => ({
  type: row.type,
  data: JSON.parse(row.data),
  streamId: row.stream_id,
  revision: toNumber(row.revision),
  globalPosition: toNumber(row.global_position),
  transactionId: row.transaction_id,
});

const toRecorded = (row: EventRow): RecordedEvent => ({
  eventId: row.event_id,
  type: row.type,
  data: JSON.parse(row.data),
  metadata: JSON.parse(row.metadata),
  streamId: row.stream_id,
  revision: toNumber(row.revision),
  globalPosition: toNumber(row.global_position),
  transactionId: row.transaction_id,
  hash: row.hash,
  prevHash: row.prev_hash,
});

const toLink = (row: EventRow): ChainLink => ({
  streamId: row.stream_id,
  revision: toNumber(row.revision),
  eventId: row.event_id,
  type: row.type,
  dataText: row.data,
  metadataText: row.metadata,
  hash: row.hash,
  prevHash: row.prev_hash,
});

/**
 * The event store on PostgreSQL, the same SQL on a server (`pg`) and on the embedded PGlite.
 * Gap-safe global order (invariant 9): readers order by (transaction id, position) and only see rows whose
 * transaction id is below the oldest open transaction, so an event that commits late is never skipped.
 */
export class PostgresEventStore implements EventStore {
  private readonly appended = new EventEmitter();
  private notifyTimer: NodeJS.Timeout | null = null;
  /** The payload of this instance's NOTIFYs: its own subscribers, already woken by the local append, ignore them. */
  private readonly origin = randomUUID();
  /** Last known (revision, hash) per stream: a fact of the immutable log, used only if the head row still says so. */
  private readonly heads = new Map<string, { revision: number; hash: string }>();
  /** One read of the log's tail for all of this store's subscribers (SharedTailReader). */
  private readonly tail = new SharedTailReader(async (from, limit) => (await this.readAllBatch(this.db, from, limit)).map(toRecorded));

  constructor(private readonly db: SqlDatabase) {
    this.appended.setMaxListeners(0);
  }

  async appendToStream(streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    return this.appendWith(this.db, streamId, events, expected);
  }

  /**
   * appendToStream on a given executor, e.g. inside the caller's transaction so that the append commits with the
   * caller's other writes. Inside a transaction a unique-key race is not retried (the transaction is aborted).
   */
  async appendWith(executor: SqlExecutor, streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const batch = this.validate(streamId, events, expected);
    const head = this.heads.get(streamId);
    if (typeof expected === 'number' && head?.revision === expected && batch.ids.length <= APPEND_AFTER_HEAD_MAX_EVENTS) {
      const result = await this.appendAfterHead(executor, streamId, head.revision, head.hash, batch);
      if (result) return result;
    }
    const [mode, revision] = typeof expected === 'number' ? ['revision', expected] : [expected, -1];
    for (let attempt = 0; ; attempt++) {
      try {
        const { rows } = await executor.query<{ outcome: string; actual_revision: string | number; positions: (string | number)[] | null; last_hash: string }>(
          'SELECT outcome, actual_revision, positions, last_hash FROM rl_append($1, $2, $3, $4::uuid[], $5::text[], $6::text[], $7::text[])',
          [streamId, mode, revision, batch.ids, batch.types, batch.data, batch.metadata],
          { name: 'rl_append_v3' },
        );
        const { outcome, actual_revision, positions, last_hash } = rows[0];
        const actual = toNumber(actual_revision);
        this.rememberHead(streamId, actual, last_hash);
        switch (outcome) {
          case 'appended':
            this.announce();
            return { nextRevision: actual, positions: (positions ?? []).map(toNumber), idempotent: false };
          case 'idempotent':
            return { nextRevision: actual, positions: (positions ?? []).map(toNumber), idempotent: true };
          case 'event_id_conflict':
            throw new EventIdConflictError(streamId, batch.ids);
          default:
            throw new WrongExpectedRevisionError(streamId, expected, actual);
        }
      } catch (error) {
        // Two first appends to a new stream race on the (stream, revision) unique index: the loser re-runs the
        // function, which now sees the stream row and answers precisely (conflict, idempotent or appended).
        const { code, constraint } = error as { code?: string; constraint?: string };
        if (code === UNIQUE_VIOLATION && constraint === 'rl_events_stream_event_id') throw new EventIdConflictError(streamId, batch.ids);
        if (code === UNIQUE_VIOLATION && executor === this.db && attempt < 3) continue;
        throw error;
      }
    }
  }

  /**
   * The fast path of an append expecting `revision` whose chain hash `hash` this process knows (APPEND_AFTER_HEAD);
   * null when the head has moved (the caller goes on with `rl_append`). Throws EventIdConflictError on a reused id.
   */
  private async appendAfterHead(executor: SqlExecutor, streamId: string, revision: number, hash: string, batch: Batch): Promise<AppendResult | null> {
    const count = batch.ids.length;
    const params: unknown[] = [streamId, revision, count, '', hash];
    let last = hash;
    for (let i = 0; i < count; i++) {
      const prev = last;
      last = eventHash(prev, { streamId, revision: revision + 1 + i, eventId: batch.ids[i], type: batch.types[i], dataText: batch.data[i], metadataText: batch.metadata[i] });
      params.push(batch.ids[i], batch.types[i], batch.data[i], batch.metadata[i], last, prev);
    }
    params[3] = last;
    try {
      const { rows } = await executor.query<{ global_position: string | number }>(APPEND_AFTER_HEAD[count], params, { name: `rl_append_after_head_${count}` });
      if (rows.length === 0) {
        this.heads.delete(streamId);
        return null;
      }
      this.rememberHead(streamId, revision + count, last);
      this.announce();
      return { nextRevision: revision + count, positions: rows.map((row) => toNumber(row.global_position)).sort((a, b) => a - b), idempotent: false };
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string };
      if (code === UNIQUE_VIOLATION && constraint === 'rl_events_stream_event_id') throw new EventIdConflictError(streamId, batch.ids);
      throw error;
    }
  }

  /** Remembers that revision `revision` of `streamId` has chain hash `hash` (a stream with no events has none). */
  private rememberHead(streamId: string, revision: number, hash: string | null): void {
    this.heads.delete(streamId);
    if (revision < 0 || !hash) return;
    this.heads.set(streamId, { revision, hash });
    if (this.heads.size > HEAD_CACHE_SIZE) this.heads.delete(this.heads.keys().next().value!);
  }

  /** Wakes this process's subscribers and (throttled) other processes' after an append committed or was sent. */
  private announce(): void {
    this.tail.invalidate(); // before the wake-ups: a subscriber woken by this append must not be served an older page
    this.appended.emit('appended');
    this.notifyOtherProcesses();
  }

  /** Sends one `NOTIFY rl_events` for all appends of the next few ms (PostgreSQL only; PGlite subscribers poll). */
  private notifyOtherProcesses(): void {
    if (this.db.kind !== 'postgres' || this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      this.db.query(`SELECT pg_notify('rl_events', $1)`, [this.origin]).catch(() => undefined);
    }, NOTIFY_THROTTLE_MS);
    this.notifyTimer.unref();
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    let next = options.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const limit = Math.min(READ_BATCH, remaining);
      const { rows } = await this.db.query<EventRow>(
        `SELECT ${COLUMNS} FROM rl_events WHERE stream_id = $1 AND revision ${backwards ? '<=' : '>='} $2
         ORDER BY revision ${backwards ? 'DESC' : 'ASC'} LIMIT $3`,
        [streamId, next, limit],
      );
      for (const row of rows) yield toRecorded(row);
      // The end of the stream as of this read: its head, for the next append's fast path.
      if (!backwards && rows.length < limit && rows.length > 0) this.rememberHead(streamId, toNumber(rows[rows.length - 1].revision), rows[rows.length - 1].hash);
      if (rows.length < limit) return;
      remaining -= rows.length;
      const last = toNumber(rows[rows.length - 1].revision);
      next = backwards ? last - 1 : last + 1;
    }
  }

  async *readStreams(streamIds: readonly string[]): AsyncIterable<RecordedEvent> {
    const pending = new Set(streamIds);
    // Each page: the rest of the stream the last page ended in, then the streams not reached yet, both in the order of
    // the (stream_id, revision) index. Why not one keyset `(stream_id, revision) > ($2, $3)` with `= ANY`: PostgreSQL
    // then walks every array element's rows from the start on each page (~800 ms a page at 100k events).
    const page = (afterStream: string, afterRevision: number) => {
      const query = this.db.query<EventRow>(
        `SELECT * FROM (
           (SELECT ${COLUMNS} FROM rl_events WHERE stream_id = $2 AND revision > $3 ORDER BY revision LIMIT $4)
           UNION ALL
           (SELECT ${COLUMNS} FROM rl_events WHERE stream_id = ANY ($1::text[]) ORDER BY stream_id, revision LIMIT $4)
         ) page ORDER BY stream_id, revision LIMIT $4`,
        [[...pending], afterStream, afterRevision, READ_BATCH],
        { name: 'rl_read_streams_v2' },
      );
      query.catch(() => undefined); // awaited below; not an unhandled rejection when the caller stops reading first
      return query;
    };
    let next = page('', -1);
    for (;;) {
      const { rows } = await next;
      // A stream seen in this page is done or continues in the next page's first part: either way not pending any more.
      for (const row of rows) pending.delete(row.stream_id);
      const full = rows.length === READ_BATCH;
      // The next page is asked for before this one is handed out: the database reads it while the caller folds this one
      // (at most two pages in memory).
      if (full) next = page(rows[rows.length - 1].stream_id, toNumber(rows[rows.length - 1].revision));
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i];
        yield toRecorded(row);
        // The last event of a stream in this read is its head: remembered for the next append's fast path.
        const following = rows[i + 1];
        if ((following && following.stream_id !== row.stream_id) || (!following && !full)) this.rememberHead(row.stream_id, toNumber(row.revision), row.hash);
      }
      if (!full) return;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    let from = options.from ?? (options.fromPosition !== undefined ? await this.checkpointAfter(options.fromPosition) : START);
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const limit = Math.min(READ_BATCH, remaining);
      const rows = await this.readAllBatch(this.db, from, limit);
      for (const row of rows) yield toRecorded(row);
      if (rows.length < limit) return;
      remaining -= rows.length;
      const last = rows[rows.length - 1];
      from = { transactionId: last.transaction_id, globalPosition: toNumber(last.global_position) };
    }
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    return this.subscribeWith(options, (from, limit) => this.tail.readAfter(from, limit));
  }

  subscribeToAllEntries(options: SubscribeOptions<LogEntry>): Subscription {
    // Not through the shared tail: its pages are whole events, and the one entry subscriber (the span export) reads pages of its own size.
    return this.subscribeWith(options, async (from, limit) => (await this.readAllBatch(this.db, from, limit, ENTRY_COLUMNS)).map(toEntry));
  }

  /** The subscription loop on this store's wake-ups (local appends; LISTEN on PostgreSQL), reading pages with `read`. */
  private subscribeWith<Event extends LogEntry>(options: SubscribeOptions<Event>, read: (from: Checkpoint, limit: number) => Promise<Event[]>): Subscription {
    return subscribe<Event>({
      ...options,
      pollIntervalMs: options.pollIntervalMs ?? 200,
      read,
      onAppendedLocally: (wake) => {
        this.appended.on('appended', wake);
        return () => this.appended.off('appended', wake);
      },
      // A NOTIFY this instance sent announces appends its local wake-up already delivered: only others' wake.
      listen: this.db.listen
        ? (wake) =>
            this.db.listen!('rl_events', (payload) => {
              if (payload === this.origin) return;
              this.tail.invalidate();
              wake();
            })
        : undefined,
    });
  }

  /** How the subscribers' reads of the log's tail were answered so far: by the store, or shared (SharedTailReader). */
  tailReads(): { store: number; shared: number } {
    return { ...this.tail.counts };
  }

  async streamRevision(streamId: string): Promise<number> {
    const { rows } = await this.db.query<{ revision: string | number }>('SELECT revision FROM rl_streams WHERE stream_id = $1', [streamId]);
    return rows.length === 0 ? -1 : toNumber(rows[0].revision);
  }

  async headCheckpoint(): Promise<Checkpoint> {
    const { rows } = await this.db.query<{ transaction_id: string; global_position: string | number }>(
      `SELECT transaction_id::text AS transaction_id, global_position FROM rl_events
       WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY rl_events.transaction_id DESC, rl_events.global_position DESC LIMIT 1`,
    );
    return rows.length === 0 ? START : { transactionId: rows[0].transaction_id, globalPosition: toNumber(rows[0].global_position) };
  }

  async headPosition(): Promise<number> {
    const { rows } = await this.db.query<{ head: string | number }>('SELECT coalesce(max(global_position), 0) AS head FROM rl_events');
    return toNumber(rows[0].head);
  }

  async *readStreamLinks(streamId: string): AsyncIterable<ChainLink & { globalPosition: number }> {
    // The exact stored text (data::text), so a hash can be recomputed over what was hashed at append.
    for (let from = 0; ; ) {
      const { rows } = await this.db.query<EventRow>(
        `SELECT ${COLUMNS} FROM rl_events WHERE stream_id = $1 AND revision >= $2 ORDER BY revision LIMIT $3`,
        [streamId, from, READ_BATCH],
      );
      for (const row of rows) yield { ...toLink(row), globalPosition: toNumber(row.global_position) };
      if (rows.length < READ_BATCH) return;
      from = toNumber(rows[rows.length - 1].revision) + 1;
    }
  }

  async verifyStream(streamId: string): Promise<VerifyResult> {
    const links: ChainLink[] = [];
    for await (const link of this.readStreamLinks(streamId)) links.push(link);
    const result = findBrokenLink(links);
    return result.brokenAt === null
      ? { ok: true, streamId, events: result.count }
      : { ok: false, streamId, events: links.length, brokenAt: result.brokenAt, reason: result.reason };
  }

  async *listStreams(): AsyncIterable<string> {
    let after = '';
    for (;;) {
      const { rows } = await this.db.query<{ stream_id: string }>(
        'SELECT stream_id FROM rl_streams WHERE stream_id > $1 ORDER BY stream_id LIMIT $2',
        [after, READ_BATCH],
      );
      for (const row of rows) yield row.stream_id;
      if (rows.length < READ_BATCH) return;
      after = rows[rows.length - 1].stream_id;
    }
  }

  async *readStreamsByCategory(category: StreamCategory): AsyncIterable<StreamHead> {
    // The prefix has no LIKE wildcard (letters and '-'); the parser then drops a bare prefix such as 'session-'.
    const prefix = streamCategoryPrefix(category);
    let after = '';
    for (;;) {
      const { rows } = await this.db.query<{ stream_id: string; revision: string | number }>(
        'SELECT stream_id, revision FROM rl_streams WHERE stream_id LIKE $1 AND stream_id > $2 ORDER BY stream_id LIMIT $3',
        [`${prefix}%`, after, READ_BATCH],
      );
      for (const row of rows) if (isStreamOfCategory(row.stream_id, category)) yield { streamId: row.stream_id, revision: toNumber(row.revision) };
      if (rows.length < READ_BATCH) return;
      after = rows[rows.length - 1].stream_id;
    }
  }

  async lastEventOfType(streamId: string, type: string): Promise<RecordedEvent | null> {
    const { rows } = await this.db.query<EventRow>(
      `SELECT ${COLUMNS} FROM rl_events WHERE stream_id = $1 AND type = $2 ORDER BY revision DESC LIMIT 1`,
      [streamId, type],
    );
    return rows.length === 0 ? null : toRecorded(rows[0]);
  }

  async countAfter(from: Checkpoint): Promise<number> {
    const { rows } = await this.db.query<{ n: string | number }>(
      'SELECT count(*) AS n FROM rl_events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)',
      [from.transactionId, from.globalPosition],
    );
    return toNumber(rows[0].n);
  }

  async readAt(positions: readonly number[]): Promise<RecordedEvent[]> {
    if (positions.length > READ_AT_LIMIT) throw new RangeError(`readAt takes at most ${READ_AT_LIMIT} positions, got ${positions.length}`);
    const bad = positions.find((p) => !Number.isSafeInteger(p) || p < 1);
    if (bad !== undefined) throw new RangeError(`readAt: a global position is an integer ≥ 1, got ${bad}`);
    if (positions.length === 0) return [];
    const { rows } = await this.db.query<EventRow>(
      `SELECT ${COLUMNS} FROM rl_events WHERE global_position = ANY ($1::bigint[]) ORDER BY global_position`,
      [[...new Set(positions)]],
    );
    return rows.map(toRecorded);
  }

  async checkpointAt(position: number): Promise<Checkpoint | null> {
    const { rows } = await this.db.query<{ transaction_id: string }>(
      'SELECT transaction_id::text AS transaction_id FROM rl_events WHERE global_position = $1',
      [position],
    );
    return rows.length === 0 ? null : { transactionId: rows[0].transaction_id, globalPosition: position };
  }

  /** One page of the global log after `from`, in commit-safe order; `executor` may be a transaction; `columns` ENTRY_COLUMNS reads LogEntry rows. */
  readAllBatch(executor: SqlExecutor, from: Checkpoint, limit: number): Promise<EventRow[]>;
  readAllBatch(executor: SqlExecutor, from: Checkpoint, limit: number, columns: typeof ENTRY_COLUMNS): Promise<EntryRow[]>;
  readAllBatch(executor: SqlExecutor, from: Checkpoint, limit: number, columns: string = COLUMNS): Promise<EntryRow[]> {
    return executor
      .query<EventRow>(
        // Rows of transactions at or above the snapshot's xmin may still be joined by a lower-position row that
        // commits later; they wait for the next read (invariant 9).
        `SELECT ${columns} FROM rl_events
         WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
           AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY rl_events.transaction_id, rl_events.global_position LIMIT $3`,
        [from.transactionId, from.globalPosition, limit],
        { name: columns === COLUMNS ? 'rl_read_all' : 'rl_read_all_entries' },
      )
      .then((r) => r.rows);
  }

  async checkpointAfter(position: number): Promise<Checkpoint> {
    if (position <= 0) return START;
    const { rows } = await this.db.query<{ transaction_id: string }>(
      'SELECT transaction_id::text AS transaction_id FROM rl_events WHERE global_position <= $1 ORDER BY global_position DESC LIMIT 1',
      [position],
    );
    return rows.length === 0 ? START : { transactionId: rows[0].transaction_id, globalPosition: position };
  }

  private validate(streamId: string, events: NewEvent[], expected: ExpectedRevision) {
    if (!STREAM_ID.test(streamId)) throw new InvalidAppendError(`streamId ${JSON.stringify(streamId)} is not a valid stream id`);
    if (events.length === 0) throw new InvalidAppendError('an append needs at least one event');
    if (typeof expected === 'number' && (!Number.isSafeInteger(expected) || expected < 0)) {
      throw new InvalidAppendError(`expected revision ${expected} must be a non-negative integer`);
    }
    const recordedAt = new Date().toISOString();
    const ids: string[] = [];
    const types: string[] = [];
    const data: string[] = [];
    const metadata: string[] = [];
    for (const event of events) {
      if (!UUID.test(event.eventId)) throw new InvalidAppendError(`eventId ${JSON.stringify(event.eventId)} is not a uuid`);
      if (!TYPE.test(event.type)) throw new InvalidAppendError(`event type ${JSON.stringify(event.type)} is not valid`);
      ids.push(event.eventId.toLowerCase());
      types.push(event.type);
      data.push(JSON.stringify(event.data ?? null));
      metadata.push(JSON.stringify({ schemaVersion: 1, ...event.metadata, recordedAt: event.metadata?.recordedAt ?? recordedAt }));
    }
    if (new Set(ids).size !== ids.length) throw new InvalidAppendError('a batch repeats an eventId');
    return { ids, types, data, metadata };
  }
}
