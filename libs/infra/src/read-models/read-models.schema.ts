import { Migration } from '../database/migrations';
import { custodyReadModelMigration } from './custody.schema';
import { searchTextOnlyMigration, usageSearchMigration } from './usage-search.projection';

/**
 * Read-model schema, version 2: derived tables only, dropped and rebuilt from the log at will (invariant 8).
 * - `state` holds the decider state as jsonb so the projector folds new events onto it (incremental == rebuild).
 * - `view`/`summary` hold what the API returns, so a read is one row, never a fold.
 * - `revision` is the stream revision folded in: a snapshot whose revision lags its stream's head is detectable.
 * - created_at/updated_at are ISO-8601 text copied from the events (never now()), so a rebuild writes the same bytes.
 */
export const readModelsMigration: Migration = {
  version: 2,
  name: 'read models: projects, sessions, worktrees, tool calls',
  sql: `
CREATE TABLE rl_rm_projects (
  project_id     text PRIMARY KEY,
  name           text NOT NULL,
  kind           text NOT NULL,
  session_prefix text NOT NULL,
  summary        jsonb NOT NULL,
  view           jsonb NOT NULL,
  state          jsonb NOT NULL,
  revision       bigint NOT NULL
)
--;
CREATE TABLE rl_rm_sessions (
  session_id       text PRIMARY KEY,
  project_id       text NOT NULL,
  kind             text NOT NULL,
  status           text NOT NULL,
  agent            text NOT NULL,
  agent_session_id text,
  view             jsonb NOT NULL,
  state            jsonb NOT NULL,
  revision         bigint NOT NULL,
  created_at       text NOT NULL,
  updated_at       text NOT NULL
)
--;
CREATE INDEX rl_rm_sessions_project ON rl_rm_sessions (project_id)
--;
CREATE INDEX rl_rm_sessions_status ON rl_rm_sessions (status)
--;
CREATE INDEX rl_rm_sessions_agent_session ON rl_rm_sessions (agent_session_id)
--;
CREATE INDEX rl_rm_sessions_created ON rl_rm_sessions (created_at, session_id)
--;
CREATE TABLE rl_rm_worktrees (
  session_id    text NOT NULL,
  repo          text NOT NULL,
  path          text NOT NULL,
  branch        text NOT NULL,
  state         text NOT NULL,
  preserved_ref text,
  stranded      boolean NOT NULL,
  revision      bigint NOT NULL,
  PRIMARY KEY (session_id, repo)
)
--;
-- The reaper asks "does a live record claim this path?" (invariant 10).
CREATE INDEX rl_rm_worktrees_path ON rl_rm_worktrees (path)
--;
CREATE TABLE rl_rm_tool_calls (
  session_id     text NOT NULL,
  call_id        text NOT NULL,
  tool           text NOT NULL,
  status         text NOT NULL,
  attempt        integer NOT NULL,
  mode           text NOT NULL,
  view           jsonb NOT NULL,
  revision       bigint NOT NULL,
  first_revision bigint NOT NULL,
  PRIMARY KEY (session_id, call_id)
)
--;
CREATE INDEX rl_rm_tool_calls_status ON rl_rm_tool_calls (status)
`,
};

/**
 * Read-model schema, version 6: each tool-call row keeps its decider state, and the session row's `state` no longer
 * holds the session's tool calls, so an append rewrites the rows it changed and never the whole session. The old rows
 * lack the new state, so they are emptied with the projection's checkpoint: the runner rebuilds them from the log
 * (invariant 8).
 */
export const readModelsCallStateMigration: Migration = {
  version: 6,
  name: 'read models: tool-call state per row, session state without its tool calls',
  sql: `
TRUNCATE rl_rm_projects, rl_rm_sessions, rl_rm_worktrees, rl_rm_tool_calls
--;
DELETE FROM rl_checkpoints WHERE subscription_id = 'read-models'
--;
ALTER TABLE rl_rm_tool_calls ADD COLUMN state jsonb NOT NULL
`,
};

/**
 * Dead letters of the read-model projection: events it could not fold or store (a malformed event in the log, a value
 * over a PostgreSQL limit), each with the error; the projection skipped them and moved on (invariant 8). Derived
 * from the log like every rl_rm_* table: a rebuild recomputes it. Version 10 leaves room for other read-model changes.
 */
export const deadLettersMigration: Migration = {
  version: 10,
  name: 'read models: dead letters of the projection',
  sql: `
CREATE TABLE rl_rm_dead_letters (
  stream_id       text NOT NULL,
  revision        bigint NOT NULL,
  global_position bigint NOT NULL,
  event_type      text NOT NULL,
  error           text NOT NULL,
  PRIMARY KEY (stream_id, revision)
)
`,
};

/** Every read-model table, for truncation before a rebuild, the rebuild's swap and dumps in tests. */
export const READ_MODEL_TABLES = ['rl_rm_projects', 'rl_rm_sessions', 'rl_rm_worktrees', 'rl_rm_tool_calls', 'rl_rm_dead_letters', 'rl_rm_custody_worktrees',
  'rl_rm_usage', 'rl_rm_search'] as const;

/** The migrations creating every table of READ_MODEL_TABLES, for tests and tools that migrate only the read models. */
export const READ_MODEL_MIGRATIONS: readonly Migration[] = [readModelsMigration, readModelsCallStateMigration, deadLettersMigration, custodyReadModelMigration,
  usageSearchMigration, searchTextOnlyMigration];
