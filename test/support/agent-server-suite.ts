import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiClient } from './http-client';
import { chosenPostgres, createTestDatabase } from './postgres-server';
import { killProcessGroups } from './process-groups';
import { ServerProcess, startServerProcess } from './server-process';

/** The two engines the agent suites run on. */
export const SUITE_ENGINES = ['pglite', 'postgres'] as const;

/** One engine's runledger server process for a suite that drives a real agent CLI, and the calls such suites make. */
export interface AgentServerSuite {
  engine: (typeof SUITE_ENGINES)[number];
  /** The suite's own temporary folder (its data directory is `<root>/data`). */
  root: string;
  server: ServerProcess;
  api: ReturnType<typeof apiClient>;
  /** Starts the server (again, after a stop), same data directory and database. */
  start(): Promise<void>;
  /** `POST /sessions` of `agent` with `prompt` in `projectId` (201 expected); the agent's pid is killed after the suite. */
  spawn(projectId: string, agent: string, prompt: string): Promise<{ id: string; worktree: string; pid: number; startTime: string }>;
  /** Adds a pid whose process group is killed after the suite. */
  adopt(pid: number): void;
  session(id: string): Promise<any>;
  events(id: string): Promise<Array<{ type: string; data: any; metadata: any }>>;
  toolCalls(id: string): Promise<Array<Record<string, any>>>;
}

/**
 * For each engine (PostgreSQL skipped, with the reason in the title, when the run has none): a `describe` whose
 * beforeAll starts a runledger server (token `token`, kill grace 1 s, the agent's `env(engine)` added) in a temporary folder
 * of its own, and whose afterAll kills the agents it launched, the server, and drops the folder and database.
 */
export const describeEachAgentEngine = (token: string, env: (engine: AgentServerSuite['engine']) => Record<string, string>, body: (suite: AgentServerSuite) => void): void => {
  for (const engine of SUITE_ENGINES) {
    const pg = chosenPostgres();
    const skip = engine === 'postgres' && 'skip' in pg ? pg.skip : null;
    (skip ? describe.skip : describe)(`[${engine}${skip ? `: ${skip}` : ''}]`, () => {
      let databaseUrl = '';
      let drop: (() => Promise<void>) | undefined;
      const agents: number[] = [];
      const suite = { engine } as AgentServerSuite;
      suite.start = async () => {
        suite.server = await startServerProcess({ ...env(engine), DATABASE_URL: databaseUrl, RUNLEDGER_DATA_DIR: join(suite.root, 'data'), RUNLEDGER_TOKEN: token, RUNLEDGER_KILL_GRACE_MS: '1000' });
        suite.api = apiClient(suite.server.url, token);
      };
      suite.adopt = (pid) => agents.push(pid);
      suite.spawn = async (projectId, agent, prompt) => {
        const spawned = await suite.api.post('/sessions', { projectId, agent, prompt });
        expect(spawned.status).toBe(201);
        agents.push(spawned.body.runtime.pid);
        return { id: spawned.body.id, worktree: spawned.body.worktrees[0].path, pid: spawned.body.runtime.pid, startTime: spawned.body.runtime.startTime };
      };
      suite.session = async (id) => (await suite.api.get(`/sessions/${id}`)).body;
      suite.events = async (id) => (await suite.api.get(`/sessions/${id}/events?limit=1000`)).body.events;
      suite.toolCalls = async (id) => (await suite.api.get(`/sessions/${id}/tool-calls`)).body.toolCalls;

      beforeAll(async () => {
        suite.root = mkdtempSync(join(tmpdir(), `rl-agent-${engine}-`));
        if (engine === 'postgres' && !('skip' in pg)) ({ url: databaseUrl, drop } = await createTestDatabase(pg));
        await suite.start();
      });
      afterAll(async () => {
        killProcessGroups(agents);
        await suite.server?.stop('SIGKILL');
        await drop?.();
        if (suite.root) rmSync(suite.root, { recursive: true, force: true });
      });
      body(suite);
    });
  }
};
