import { Migration } from '../../database/migrations';
import { RL_APPEND_PARTS } from './event-store.schema';

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
CREATE OR REPLACE FUNCTION ${RL_APPEND_PARTS.signature}  v_matches   boolean;
BEGIN
${RL_APPEND_PARTS.lockHead}  END IF;
  v_matches := (p_mode = 'revision' AND v_revision = p_expected)
            OR (p_mode = 'no_stream' AND v_revision = -1)
            OR (p_mode = 'stream_exists' AND v_revision <> -1)
            OR p_mode = 'any';
  IF v_revision >= 0 AND (NOT v_matches OR p_mode = 'any') THEN
${RL_APPEND_PARTS.idempotentLookup}  END IF;
  IF NOT v_matches THEN
    RETURN QUERY SELECT 'wrong_expected_revision'::text, v_revision, NULL::bigint[];
    RETURN;
  END IF;
${RL_APPEND_PARTS.write}  RETURN QUERY SELECT 'appended'::text, v_revision, v_positions;
END $$
`,
};
