import { Migration } from '../database/migrations';

/** Leases (docs/ARCHITECTURE.md §4): who owns a piece of work (a session's reconcile, a managed call's execution) and until when. */
export const leasesMigration: Migration = {
  version: 4,
  name: 'leases',
  sql: `
CREATE TABLE rl_leases (
  resource    text PRIMARY KEY,
  owner       text NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
)
`,
};
