import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiClient } from '../support/http-client';
import { chosenPostgres, createTestDatabase } from '../support/postgres-server';
import { ServerProcess, startServerProcess } from '../support/server-process';

/** The token every worktree test server takes. */
export const TOKEN = 'worktrees-test-token-0123456';

/** A running `runledger start` on one engine, with its data directory, API client and a sweep trigger. */
export interface WorktreeServer {
  root: string;
  dataDir: string;
  worktreeRoot: string;
  server: ServerProcess;
  api: ReturnType<typeof apiClient>;
  env: Record<string, string>;
  /** Stops the server (agents keep running) and starts it again on the same data with `env` added. */
  restart(env: Record<string, string>): Promise<void>;
  sweep(): Promise<{ changed: number; decisions: { path: string; action: string; rule: string; recorded: boolean; preservedRef?: string }[]; skipped?: string }>;
  stop(): Promise<void>;
}

/** `describe` once per engine (PGlite; PostgreSQL unless unreachable, then skipped with the reason, failing under CI=true). */
export const describeEachServer = (title: string, body: (engine: 'pglite' | 'postgres') => void): void => {
  for (const engine of ['pglite', 'postgres'] as const) {
    const pg = chosenPostgres();
    const skip = engine === 'postgres' && 'skip' in pg ? pg.skip : null;
    (skip ? describe.skip : describe)(`${title} [${engine}]`, () => body(engine));
  }
};

/** Starts `runledger start` on `engine` (a fresh PGlite directory or a fresh PostgreSQL database) with `env`. */
export const startWorktreeServer = async (engine: 'pglite' | 'postgres', env: Record<string, string>): Promise<WorktreeServer> => {
  const root = mkdtempSync(join(tmpdir(), 'rl-wt-'));
  const dataDir = join(root, 'data');
  let drop: () => Promise<void> = async () => undefined;
  let databaseUrl = '';
  if (engine === 'postgres') {
    const pg = chosenPostgres();
    if ('skip' in pg) throw new Error(pg.skip);
    ({ url: databaseUrl, drop } = await createTestDatabase(pg));
  }
  const fullEnv = { RUNLEDGER_DATA_DIR: dataDir, RUNLEDGER_TOKEN: TOKEN, DATABASE_URL: databaseUrl, RUNLEDGER_REAPER_INTERVAL_MS: '86400000', RUNLEDGER_KILL_GRACE_MS: '1000', ...env };
  const self: WorktreeServer = {
    root, dataDir, worktreeRoot: join(dataDir, 'worktrees'), server: await startServerProcess(fullEnv), api: undefined as never, env: fullEnv,
    restart: async (more) => {
      await self.server.stop();
      Object.assign(self.env, more);
      self.server = await startServerProcess(self.env);
      self.api = apiClient(self.server.url, TOKEN);
      self.env.RUNLEDGER_URL = self.server.url;
    },
    sweep: async () => {
      const response = await self.api.post('/worktrees/sweep');
      if (response.status !== 200) throw new Error(`sweep answered ${response.status}: ${JSON.stringify(response.body)}`);
      return response.body;
    },
    stop: async () => {
      await self.server.stop();
      await drop().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  self.api = apiClient(self.server.url, TOKEN);
  self.env.RUNLEDGER_URL = self.server.url;
  return self;
};
