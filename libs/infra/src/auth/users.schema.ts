import { Migration } from '../database/migrations';

/**
 * The personal-token store (docs/ARCHITECTURE.md §8): one row per person, the keyed hash of their live token (NULL once
 * revoked), their role and the revision of the `UserAdded` the token belongs to (a cookie names it, so a login made
 * before a revoke-and-add is not the new token's). Never the token itself.
 */
export const usersMigration: Migration = {
  version: 30,
  name: 'personal tokens',
  sql: `
CREATE TABLE rl_users (
  name        text PRIMARY KEY,
  role        text NOT NULL,
  token_hash  text UNIQUE,
  revision    bigint NOT NULL,
  created_at  timestamptz NOT NULL,
  revoked_at  timestamptz
)
`,
};
