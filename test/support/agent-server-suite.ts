import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiClient } from './http-client';
import { chosenPostgres, createTestDatabase } from './postgres-server';
import { killProcessGroups } from './process-groups';
import { ServerProcess, startServerProcess } from './server-process';

/** The engines the real-agent suites run on. */
export const ENGINES = ['pglite', 'postgres'] as const;

/** One of ENGINES. */
export type Engine = (typeof ENGINES)[number];

/** What a real-agent suite's tests use: the running server (restartable), its client and the session reads. */
export interface AgentServerSuite {
  readonly engine: Engine;
  /** The suite's own temporary folder (its data directory is `<root>/data`). */
  readonly root: string;
  readonly server: ServerProcess;
  readonly api: ReturnType<typeof apiClient>;
  /** Starts the server again on the same data directory / database (after a stop). */
  start(): Promise<void>;
  /** POST /sessions for `agent` with `prompt` in `projectId` (default: the options' project; expects 201); its agent's process group is killed after the suite. */
  spawn(agent: string, prompt: string, projectId?: string): Promise<{ id: string; worktree: string; pid: number; startTime: string }>;
  /** Adds a pid whose process group is killed after the suite. */
  adopt(pid: number): void;
  session(id: string): Promise<any>;
  events(id: string): Promise<Array<{ type: string; data: any; metadata: any }>>;
  toolCalls(id: string): Promise<Array<Record<string, any>>>;
}

/** One engine's suite: its server, project, stand-ins and tests. */
export interface AgentServerSuiteOptions {
  token: string;
  /** The project every spawn uses by default, registered with `project(root)`'s body (`repoPath`, `hookHoldSeconds`, …); none when absent (the tests register their own). */
  projectId?: string;
  project?(root: string): Record<string, unknown>;
  /** Runs once the root folder exists, before the server starts: starts stand-ins, prepares the agent's home; returns the server's extra env. */
  setup(root: string): Promise<Record<string, string>>;
  /** After the server and its agents are stopped: closes stand-ins. */
  teardown?(): Promise<void>;
  /** Registers the tests with the suite's handle. */
  tests(suite: AgentServerSuite): void;
}

/**
 * One `describe` per engine (PostgreSQL skipped with its reason when none is reachable), each with its own root folder,
 * database, `runledger start` server (RUNLEDGER_KILL_GRACE_MS 1000) and registered project, torn down after the suite
 * (agents' process groups killed, the server SIGKILLed). `suiteFor(engine)` gives each engine's options.
 */
export const agentServerSuite = (suiteFor: (engine: Engine) => AgentServerSuiteOptions): void => {
  for (const engine of ENGINES) {
    const pg = chosenPostgres();
    const skip = engine === 'postgres' && 'skip' in pg ? pg.skip : null;
    (skip ? describe.skip : describe)(`[${engine}${skip ? `: ${skip}` : ''}]`, () => {
      const options = suiteFor(engine);
      let root = '';
      let extraEnv: Record<string, string> = {};
      let databaseUrl = '';
      let drop: (() => Promise<void>) | undefined;
      let server: ServerProcess | undefined;
      let api: ReturnType<typeof apiClient> | undefined;
      const agents: number[] = [];
      const start = async () => {
        server = await startServerProcess({ ...extraEnv, DATABASE_URL: databaseUrl, RUNLEDGER_DATA_DIR: join(root, 'data'), RUNLEDGER_TOKEN: options.token, RUNLEDGER_KILL_GRACE_MS: '1000' });
        api = apiClient(server.url, options.token);
      };
      const suite: AgentServerSuite = {
        engine,
        get root() { return root; },
        get server() { return server!; },
        get api() { return api!; },
        start,
        adopt: (pid) => void agents.push(pid),
        async spawn(agent, prompt, projectId = options.projectId) {
          const spawned = await api!.post('/sessions', { projectId, agent, prompt });
          expect(spawned.status).toBe(201);
          agents.push(spawned.body.runtime.pid);
          return { id: spawned.body.id, worktree: spawned.body.worktrees[0].path, pid: spawned.body.runtime.pid, startTime: spawned.body.runtime.startTime };
        },
        session: async (id) => (await api!.get(`/sessions/${id}`)).body,
        events: async (id) => (await api!.get(`/sessions/${id}/events?limit=1000`)).body.events,
        toolCalls: async (id) => (await api!.get(`/sessions/${id}/tool-calls`)).body.toolCalls,
      };
      beforeAll(async () => {
        root = mkdtempSync(join(tmpdir(), `rl-${options.projectId ?? 'agent'}-${engine}-`));
        extraEnv = await options.setup(root);
        if (engine === 'postgres' && !('skip' in pg)) ({ url: databaseUrl, drop } = await createTestDatabase(pg));
        await start();
        if (options.projectId) expect((await api!.post('/projects', { name: options.projectId, ...options.project?.(root) })).status).toBe(201);
      });
      afterAll(async () => {
        killProcessGroups(agents);
        await server?.stop('SIGKILL');
        await options.teardown?.();
        await drop?.();
        // RL_KEEP_TEST_ROOT=1 keeps the data directory and agent logs of a run for reading after a failure.
        if (root && !process.env.RL_KEEP_TEST_ROOT) rmSync(root, { recursive: true, force: true });
      });
      options.tests(suite);
    });
  }
};

/** agentServerSuite for a suite that registers its own projects: the server gets `env(engine)` (read when each engine's suite starts). */
export const describeEachAgentEngine = (token: string, env: (engine: Engine) => Record<string, string>, tests: (suite: AgentServerSuite) => void): void =>
  agentServerSuite((engine) => ({ token, setup: async () => env(engine), tests }));
