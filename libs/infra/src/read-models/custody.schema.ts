import { Migration } from '../database/migrations';

/**
 * Read model of the custody streams (`worktree-<key>`, docs/ARCHITECTURE.md §4b): one row per path runledger holds without a session
 * record (orphans found on disk, Claude Code's worktrees), derived and rebuilt from the log like every read model
 * (invariant 8). `display_state` is what `GET /worktrees` shows.
 */
export const custodyReadModelMigration: Migration = {
  version: 15,
  name: 'read model: worktrees held by path (orphans, Claude Code worktrees)',
  sql: `
CREATE TABLE rl_rm_custody_worktrees (
  stream_id        text PRIMARY KEY,
  path             text NOT NULL,
  origin           text NOT NULL,
  status           text NOT NULL,
  display_state    text NOT NULL,
  stranded         boolean NOT NULL,
  owner_session_id text,
  state            jsonb NOT NULL,
  revision         bigint NOT NULL
)
--;
CREATE INDEX rl_rm_custody_worktrees_path ON rl_rm_custody_worktrees (path)
`,
};
