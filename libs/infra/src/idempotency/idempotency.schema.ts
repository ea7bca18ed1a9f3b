import { Migration } from '../database/migrations';

/** Idempotency keys of commands (invariant 3): the first result of a key is kept and returned on a repeat. */
export const idempotencyMigration: Migration = {
  version: 3,
  name: 'idempotency keys',
  sql: `
CREATE TABLE rl_idempotency_keys (
  scope        text NOT NULL,
  key          text NOT NULL,
  request_hash text NOT NULL,
  status       text NOT NULL CHECK (status IN ('in_progress', 'done')),
  response     jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
)
`,
};
