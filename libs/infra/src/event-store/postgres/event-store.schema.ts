import { Migration } from '../../database/migrations';

/** `rl_append(...)`'s parameters, result and the declarations every version shares (through `v_next_hash`). */
const RL_APPEND_SIGNATURE = `rl_append(
  p_stream text, p_mode text, p_expected bigint,
  p_ids uuid[], p_types text[], p_data text[], p_metadata text[]
) RETURNS TABLE (outcome text, actual_revision bigint, positions bigint[])
LANGUAGE plpgsql AS $$
DECLARE
  v_revision  bigint;
  v_hash      text;
  v_existing  bigint[];
  v_positions bigint[] := '{}';
  v_position  bigint;
  v_next_hash text;
`;
/** Every version of `rl_append` starts by locking the stream head (an absent stream is revision -1, empty hash). */
const RL_APPEND_LOCK_HEAD = `  -- The row lock on the stream head serializes appends to one stream; other streams are not blocked.
  SELECT s.revision, s.last_hash INTO v_revision, v_hash FROM rl_streams s WHERE s.stream_id = p_stream FOR UPDATE;
  IF NOT FOUND THEN
    v_revision := -1;
    v_hash := '';
`;
/** The idempotency lookup of `rl_append`: a batch whose ids are all in the stream is `idempotent`, some of them `event_id_conflict`. */
const RL_APPEND_IDEMPOTENT_LOOKUP = `    SELECT array_agg(e.global_position ORDER BY e.revision) INTO v_existing
      FROM rl_events e WHERE e.stream_id = p_stream AND e.event_id = ANY (p_ids);
    IF v_existing IS NOT NULL THEN
      IF cardinality(v_existing) = cardinality(p_ids) THEN
        RETURN QUERY SELECT 'idempotent'::text, v_revision, v_existing;
      ELSE
        RETURN QUERY SELECT 'event_id_conflict'::text, v_revision, v_existing;
      END IF;
      RETURN;
    END IF;
`;
/** The write of `rl_append`: hash and insert each event in order, then move the stream head. */
const RL_APPEND_WRITE = `  FOR i IN 1 .. cardinality(p_ids) LOOP
    v_revision := v_revision + 1;
    -- Must match eventHash() in hash-chain.ts byte for byte.
    v_next_hash := encode(sha256(convert_to(
      v_hash || E'\\n' || p_stream || E'\\n' || v_revision::text || E'\\n' || p_ids[i]::text || E'\\n' ||
      p_types[i] || E'\\n' || p_data[i] || E'\\n' || p_metadata[i], 'UTF8')), 'hex');
    INSERT INTO rl_events (stream_id, revision, event_id, type, data, metadata, hash, prev_hash)
      VALUES (p_stream, v_revision, p_ids[i], p_types[i], p_data[i]::json, p_metadata[i]::json, v_next_hash, v_hash)
      RETURNING global_position INTO v_position;
    v_positions := v_positions || v_position;
    v_hash := v_next_hash;
  END LOOP;
  INSERT INTO rl_streams (stream_id, revision, last_hash) VALUES (p_stream, v_revision, v_hash)
    ON CONFLICT (stream_id) DO UPDATE SET revision = EXCLUDED.revision, last_hash = EXCLUDED.last_hash;
`;

/** The parts of `rl_append` every schema version shares; a later version composes its function from them (same SQL text). */
export const RL_APPEND_PARTS = { signature: RL_APPEND_SIGNATURE, lockHead: RL_APPEND_LOCK_HEAD, idempotentLookup: RL_APPEND_IDEMPOTENT_LOOKUP, write: RL_APPEND_WRITE };

/**
 * Event store schema, version 1. Why each piece:
 * - `data`/`metadata` are `json`, not `jsonb`: json keeps the exact text sent, which the hash chain covers,
 *   so `verify` (and an offline export check) can recompute every hash.
 * - `transaction_id xid8` lets readers stop below the oldest open transaction (invariant 9).
 * - `rl_append` does check, hash, insert and head update in one round trip, under a row lock on the stream.
 * - triggers refuse UPDATE, DELETE and TRUNCATE of events (invariant 1).
 */
export const eventStoreMigration: Migration = {
  version: 1,
  name: 'event store: streams, events, checkpoints, rl_append',
  sql: `
CREATE TABLE rl_streams (
  stream_id  text PRIMARY KEY,
  revision   bigint NOT NULL,
  last_hash  text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)
--;
CREATE TABLE rl_events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id       text NOT NULL,
  revision        bigint NOT NULL,
  event_id        uuid NOT NULL,
  type            text NOT NULL,
  data            json NOT NULL,
  metadata        json NOT NULL,
  hash            text NOT NULL,
  prev_hash       text NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT rl_events_stream_revision UNIQUE (stream_id, revision),
  CONSTRAINT rl_events_stream_event_id UNIQUE (stream_id, event_id)
)
--;
CREATE INDEX rl_events_commit_order ON rl_events (transaction_id, global_position)
--;
CREATE TABLE rl_checkpoints (
  subscription_id text PRIMARY KEY,
  transaction_id  xid8 NOT NULL,
  global_position bigint NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now()
)
--;
CREATE FUNCTION rl_refuse_mutation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'rl_events is append-only: % refused', TG_OP USING ERRCODE = 'RL001';
END $$
--;
CREATE TRIGGER rl_events_append_only BEFORE UPDATE OR DELETE ON rl_events
  FOR EACH ROW EXECUTE FUNCTION rl_refuse_mutation()
--;
CREATE TRIGGER rl_events_no_truncate BEFORE TRUNCATE ON rl_events
  FOR EACH STATEMENT EXECUTE FUNCTION rl_refuse_mutation()
--;
CREATE FUNCTION ${RL_APPEND_SIGNATURE}BEGIN
${RL_APPEND_LOCK_HEAD}  ELSE
${RL_APPEND_IDEMPOTENT_LOOKUP}  END IF;
  IF (p_mode = 'revision' AND v_revision <> p_expected)
     OR (p_mode = 'no_stream' AND v_revision <> -1)
     OR (p_mode = 'stream_exists' AND v_revision = -1) THEN
    RETURN QUERY SELECT 'wrong_expected_revision'::text, v_revision, NULL::bigint[];
    RETURN;
  END IF;
${RL_APPEND_WRITE}  PERFORM pg_notify('rl_events', '');
  RETURN QUERY SELECT 'appended'::text, v_revision, v_positions;
END $$
`,
};
