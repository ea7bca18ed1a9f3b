import { Migration } from '../database/migrations';

/**
 * The secret store (docs/ARCHITECTURE.md §4c): project env values sealed with AES-256-GCM, one row per project, name and
 * fingerprint (the log names the fingerprint, so a row written by a registration that was then refused is never read).
 * Forgetting deletes the rows: the key material that could open them is gone with them.
 */
export const secretsMigration: Migration = {
  version: 24,
  name: 'project secret store',
  sql: `
CREATE TABLE rl_project_secrets (
  project_id  text NOT NULL,
  name        text NOT NULL,
  fingerprint text NOT NULL,
  key_id      text NOT NULL,
  sealed      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, name, fingerprint)
)
`,
};
