import { PersistentMap, reviveSession, sessionStreamName, type Session, type ToolCall } from '@runledger/domain';
import { SqlExecutor, toNumber } from '../database/sql-database';

/**
 * Why a session's read-model rows cannot stand for its fold: no row; a row at another revision than the stream's head;
 * a dead letter on its stream (an event the rows skipped); a U+FFFD in its rows (the projector may have put it in place
 * of a NUL or a lone surrogate the log holds); tool-call rows that do not add up to the row (a count that differs, or a
 * call row written after the session row was read); no head known for the stream.
 */
export type SnapshotFallbackReason = 'no_row' | 'revision' | 'dead_letter' | 'replacement_char' | 'calls' | 'no_head';

/** A session state taken from its read-model rows, at `revision` (its stream's head when read). */
export interface SessionSnapshot {
  state: Session;
  revision: number;
}

/** What loadSessionSnapshots found: the states it could take from the rows, and why each other session must be folded from the log. */
export interface SessionSnapshotLoad {
  snapshots: Map<string, SessionSnapshot>;
  fallbacks: Map<string, SnapshotFallbackReason>;
}

const REPLACEMENT_CHAR = '\ufffd';

/**
 * The states of `sessionIds` rebuilt from their read-model rows (two queries, whatever the number of sessions): the
 * session row's state plus every tool-call row's state, inserted in first-appearance order (first_revision) — the
 * state the session decider's fold gives at that revision — but only for a session whose row's revision equals
 * `heads` (session id → its stream's head revision, 0-based), with no dead letter on its stream, no U+FFFD in its rows,
 * and exactly as many call rows as the row counts, none written after the row. Every other session is in `fallbacks`
 * with its reason: the caller folds it from the log. Throws what the driver throws.
 */
export const loadSessionSnapshots = async (db: SqlExecutor, sessionIds: readonly string[], heads: ReadonlyMap<string, number>): Promise<SessionSnapshotLoad> => {
  const snapshots = new Map<string, SessionSnapshot>();
  const fallbacks = new Map<string, SnapshotFallbackReason>();
  const wanted = sessionIds.filter((id) => {
    if (heads.has(id)) return true;
    fallbacks.set(id, 'no_head');
    return false;
  });
  if (wanted.length === 0) return { snapshots, fallbacks };
  // state::text, parsed here: the U+FFFD check reads the text jsonb writes (non-ASCII characters are not escaped there).
  const { rows } = await db.query<{ session_id: string; revision: string | number; state: string; dead: boolean }>(
    `SELECT s.session_id, s.revision, s.state::text AS state,
       EXISTS (SELECT 1 FROM rl_rm_dead_letters d WHERE d.stream_id = w.stream_id) AS dead
     FROM unnest($1::text[], $2::text[]) AS w(session_id, stream_id)
     JOIN rl_rm_sessions s ON s.session_id = w.session_id`,
    [wanted, wanted.map(sessionStreamName)],
  );
  const rowsById = new Map(rows.map((row) => [row.session_id, row]));
  const candidates = new Map<string, { state: Session; revision: number }>();
  for (const id of wanted) {
    const row = rowsById.get(id);
    if (row === undefined) fallbacks.set(id, 'no_row');
    else if (toNumber(row.revision) !== heads.get(id)) fallbacks.set(id, 'revision');
    else if (row.dead) fallbacks.set(id, 'dead_letter');
    else if (row.state.includes(REPLACEMENT_CHAR)) fallbacks.set(id, 'replacement_char');
    else {
      const state = JSON.parse(row.state) as Session;
      if ((state.status as string) === 'none') fallbacks.set(id, 'no_row');
      else candidates.set(id, { state, revision: toNumber(row.revision) });
    }
  }
  if (candidates.size === 0) return { snapshots, fallbacks };
  // Unordered: an ORDER BY would carry every state's text through the sort (spilled to disk past work_mem); sorted below.
  const { rows: callRows } = await db.query<{ session_id: string; call_id: string; revision: string | number; first_revision: string | number; state: string }>(
    'SELECT session_id, call_id, revision, first_revision, state::text AS state FROM rl_rm_tool_calls WHERE session_id = ANY($1::text[])',
    [[...candidates.keys()]],
  );
  const calls = new Map<string, { rows: typeof callRows; bad?: SnapshotFallbackReason }>();
  for (const row of callRows) {
    const entry = calls.get(row.session_id) ?? { rows: [] };
    calls.set(row.session_id, entry);
    if (entry.bad) continue;
    if (row.state.includes(REPLACEMENT_CHAR)) entry.bad = 'replacement_char';
    // A call row past the session row: the projection committed between the two queries.
    else if (toNumber(row.revision) > candidates.get(row.session_id)!.revision) entry.bad = 'calls';
    else entry.rows.push(row);
  }
  for (const [id, { state, revision }] of candidates) {
    const entry = calls.get(id) ?? { rows: [] };
    if (entry.bad) fallbacks.set(id, entry.bad);
    // A row without counts (written before they were kept) cannot be checked: folded.
    else if (state.callCounts === undefined || entry.rows.length !== state.callCounts.total) fallbacks.set(id, 'calls');
    else snapshots.set(id, { state: withToolCalls(state, inFirstAppearanceOrder(entry.rows)), revision });
  }
  return { snapshots, fallbacks };
};

/** The calls of tool-call rows parsed, in order of first appearance in the log (first_revision, then call id). */
const inFirstAppearanceOrder = (rows: Array<{ call_id: string; first_revision: string | number; state: string }>): [string, ToolCall][] =>
  rows
    .map((row) => ({ callId: row.call_id, first: toNumber(row.first_revision), state: row.state }))
    .sort((a, b) => a.first - b.first || (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0))
    .map((row) => [row.callId, JSON.parse(row.state) as ToolCall]);

/**
 * The stored session state (its row keeps no calls) revived, with its calls inserted in the given order (not through a
 * record: Object.entries would put integer-like call ids first).
 */
const withToolCalls = (stored: Session, ordered: readonly [string, ToolCall][]): Session => {
  const revived = reviveSession({ ...stored, toolCalls: {} }) as Session;
  const toolCalls = PersistentMap.empty<ToolCall>().asMutable();
  for (const [callId, call] of ordered) toolCalls.set(callId, call);
  return { ...revived, toolCalls: toolCalls.asImmutable() };
};
