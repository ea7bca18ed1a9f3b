import { Migration } from '../../database/migrations';

/**
 * Event store schema, version 5 (measured in bench/event-store, see bench/README.md):
 * - no `pg_notify` inside `rl_append`: NOTIFY holds a database-wide lock through commit and serialized concurrent
 *   appends (append_c8 about 3x slower); the store now notifies from the application, throttled.
 * - the idempotency lookup runs only when the expected revision does not match (or is `any`): when it matches, a batch
 *   already in the stream is impossible unless its ids were reused, which the unique index reports (23505 on
 *   rl_events_stream_event_id → EventIdConflictError).
 */
export const eventStoreAppendV2Migration: Migration = {
  version: 5,
  name: 'event store: rl_append without NOTIFY, idempotency lookup only on mismatch',
  sql: `
CREATE OR REPLACE FUNCTION rl_append(
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
  v_matches   boolean;
BEGIN
  -- The row lock on the stream head serializes appends to one stream; other streams are not blocked.
  SELECT s.revision, s.last_hash INTO v_revision, v_hash FROM rl_streams s WHERE s.stream_id = p_stream FOR UPDATE;
  IF NOT FOUND THEN
    v_revision := -1;
    v_hash := '';
  END IF;
  v_matches := (p_mode = 'revision' AND v_revision = p_expected)
            OR (p_mode = 'no_stream' AND v_revision = -1)
            OR (p_mode = 'stream_exists' AND v_revision <> -1)
            OR p_mode = 'any';
  IF v_revision >= 0 AND (NOT v_matches OR p_mode = 'any') THEN
    SELECT array_agg(e.global_position ORDER BY e.revision) INTO v_existing
      FROM rl_events e WHERE e.stream_id = p_stream AND e.event_id = ANY (p_ids);
    IF v_existing IS NOT NULL THEN
      IF cardinality(v_existing) = cardinality(p_ids) THEN
        RETURN QUERY SELECT 'idempotent'::text, v_revision, v_existing;
      ELSE
        RETURN QUERY SELECT 'event_id_conflict'::text, v_revision, v_existing;
      END IF;
      RETURN;
    END IF;
  END IF;
  IF NOT v_matches THEN
    RETURN QUERY SELECT 'wrong_expected_revision'::text, v_revision, NULL::bigint[];
    RETURN;
  END IF;
  FOR i IN 1 .. cardinality(p_ids) LOOP
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
  RETURN QUERY SELECT 'appended'::text, v_revision, v_positions;
END $$
`,
};
