/**
 * Crash-test harness: the real all-in-one `runledger start` on a throw-away PostgreSQL database, driven by
 * concurrent clients (command sessions with and without a prompt, managed and observed tool calls, fake Claude Code
 * sessions through the hook endpoint with a transcript on disk, and real Claude Code, Codex, OpenCode and Gemini CLI sessions: real-agents.ts), SIGKILLed at a random point with requests in flight,
 * restarted on the same database, and checked after its `ReconcileCompleted` (see checks.ts). Violations are counted,
 * not thrown. Agent processes are real and outlive the server; everything the run started is killed at the end.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { readProcStat } from '@runledger/infra/runtime';
import { git, makeRepo } from '../support/git-repo';
import { freePort } from '../support/free-port';
import { chosenPostgres, createTestDatabase, LOCAL_POSTGRES_URL, PostgresServer } from '../support/postgres-server';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { planSoak, RunPlan } from './soak-plan';
import {
  Ack, AgentOrphan, AgentRecord, checkAgentSessions, checkOrphans, checkRestart, checkWork, HookName, foldSessions, orphanStopped, RestartObservation, RuntimeId, StoredEvent,
  Violation, VIOLATION_KINDS, ViolationKind, WorkObservation,
} from './checks';
import { agentOrphans, OpenedAgent, REAL_AGENT_KITS, REAL_AGENTS, RealAgent, removeSharedAgentFiles, ticksPerSecond, uptimeNow } from './real-agents';

const TOKEN = 'crash-harness-token-0123456789';
/** Agents sleep this long (s): longer than any soak, and a value nothing else uses, so the scan finds only ours. */
const AGENT_SLEEP = '86399';
const PROJECT = 'crash';
const LANES = 3;
/**
 * Real agent sessions of one run alive at once, at most, shared evenly between the agent kinds it runs (at least one
 * each): each is a real CLI process (OpenCode's start alone takes about 20 s of CPU here), and the 2-core machine runs
 * three runs at once. Four is what two kinds had at two each.
 */
const REAL_AGENTS_MAX_LIVE = 4;

/** Options of a crash soak; every field has a default. */
export interface CrashSoakOptions {
  /** Kill/restart/check cycles (default 3). */
  iterations?: number;
  /** PRNG seed; the same seed replays the same choices (timing still varies). Default: random, printed. */
  seed?: number;
  /** Where progress lines go (default: nowhere). */
  log?: (line: string) => void;
  /** Server on which to create the throw-away database (default: the jest-chosen one, else TEST_DATABASE_URL, else local). */
  postgres?: PostgresServer;
  /** Most operations started before the kill (default 40). */
  maxOpsBeforeKill?: number;
  /** Deadline for the new process's `ReconcileCompleted` (ms, default 120000). */
  reconcileTimeoutMs?: number;
  /** How long the checks are retried while the read side settles (ms, default 20000). */
  settleTimeoutMs?: number;
  /**
   * Also drive real sessions of these agents (each CLI against its scripted model stand-in), those whose CLI is
   * installed: kills land in their tool calls, and the checks of invariants 14 and 15 (and, for Codex, OpenCode and
   * Gemini CLI, of the orphans their shell children become) run after every restart. Default none.
   */
  realAgents?: readonly RealAgent[];
  /** Chance that an iteration kills agents while runledger is down (then each real agent with chance 1/2, each command agent 1/3); default 0.3. */
  killAgentsWhileDown?: number;
  /** Iterations per epoch: each epoch starts on a fresh database, repo and project, so an iteration's cost stays bounded (default DEFAULT_EPOCH). */
  epoch?: number;
  /** Independent runs at once (own database, repo, server, data dir, marker and seed), the iterations split between them (default DEFAULT_PARALLEL). */
  parallel?: number;
}

/** Iterations per epoch unless told: long enough to accumulate sessions, agents and restarts, short enough to keep checks cheap. */
export const DEFAULT_EPOCH = 25;
/**
 * Runs at once unless told: on the 2-core machine, shared with other work, 3 runs did the most iterations per minute
 * (measured with 6 iterations each: 1 run 1.6, 2 runs 2.1, 3 runs 3.7 iterations per minute, epoch set-up excluded).
 */
export const DEFAULT_PARALLEL = 3;
/** Pause between two rounds of the checks while the read side settles (ms). */
const CHECK_RETRY_MS = 250;
/** Pause before the round that confirms violations found when the settle time ran out (ms): twice the runtime watcher's default 1 s interval. */
const CONFIRM_AFTER_MS = 2_000;

/** Counts of one iteration (or, summed, of a whole soak). */
export interface CrashCounts {
  iterations: number;
  opsAcked: number;
  opsRejected: number;
  opsInFlightAtKill: number;
  kills: number;
  killsDuringReconcile: number;
  /** Kills that landed while a projection rebuild, a session cleanup or a reaper sweep was still running. */
  killsDuringRebuild: number;
  killsDuringCleanup: number;
  killsDuringSweep: number;
  agentsKilledWhileDown: number;
  liveAgentsAtKill: number;
  unrecordedAgents: number;
  sessions: number;
  adopted: number;
  interrupted: number;
  relaunched: number;
  notResumable: number;
  toolCallsInterrupted: number;
  transcriptResults: number;
  snapshotsRebuilt: number;
  /** Sessions the reconcile skipped because another owner's lease was on them (`skippedLeased`, when reported). */
  skippedLeased: number;
  /** Sessions still appending when the checks gave up waiting: their snapshot was not compared at this restart. */
  unsettled: number;
  /** Processes a dead Codex left running (exec children), sampled after the kill; those the restart stopped before they would have ended on their own. */
  agentOrphans: number;
  agentOrphansStopped: number;
  /** Wall time of the iteration (drive, kill, restart, checks), ms; summed in totals. */
  ms: number;
  /** Its phases (ms): clients driving until the kill; kill, agents killed while down and a kill during reconcile; restart to `ReconcileCompleted`; checks until settled. */
  driveMs: number;
  killMs: number;
  restartMs: number;
  checkMs: number;
  /** Rounds of the checks (1 when the read side had settled at the first look). */
  checkRounds: number;
  violations: Record<ViolationKind, number>;
}

/** Result of a soak: the seed, the summed counts, and every violation with its iteration. */
export interface CrashSoakReport {
  seed: number;
  /** Each run's seed (pass it as `seed` with `parallel: 1` and the run's iterations to replay that run), iterations and epochs. */
  runs: { run: number; seed: number; iterations: number; epochs: number }[];
  totals: CrashCounts;
  perIteration: CrashCounts[];
  /** Every violation, with its run and the run's iteration (1-based) where it first appeared. */
  violations: (Violation & { run: number; iteration: number })[];
  /** Iterations that could not complete (the server stopped answering): each gave up the rest of its epoch (`skipped`). */
  failures: { run: number; epoch: number; iteration: number; skipped: number; error: string }[];
  /** The real agent sessions of each kind that ran, summed over runs and epochs. */
  realAgents: Record<RealAgent, RealAgentCounts>;
}

/** Zeroed counts. */
export const emptyCounts = (): CrashCounts => ({
  iterations: 0, opsAcked: 0, opsRejected: 0, opsInFlightAtKill: 0, kills: 0, killsDuringReconcile: 0, killsDuringRebuild: 0, killsDuringCleanup: 0, killsDuringSweep: 0, agentsKilledWhileDown: 0,
  liveAgentsAtKill: 0, unrecordedAgents: 0, sessions: 0, adopted: 0, interrupted: 0, relaunched: 0, notResumable: 0,
  toolCallsInterrupted: 0, transcriptResults: 0, snapshotsRebuilt: 0, skippedLeased: 0, unsettled: 0, agentOrphans: 0, agentOrphansStopped: 0, ms: 0, driveMs: 0, killMs: 0, restartMs: 0, checkMs: 0, checkRounds: 0,
  violations: Object.fromEntries(VIOLATION_KINDS.map((k) => [k, 0])) as Record<ViolationKind, number>,
});

const addCounts = (into: CrashCounts, from: CrashCounts): void => {
  for (const key of Object.keys(from) as (keyof CrashCounts)[]) {
    if (key === 'violations') for (const kind of VIOLATION_KINDS) into.violations[kind] += from.violations[kind];
    else (into[key] as number) += from[key] as number;
  }
};

/** One line of counts, as the soak prints them. */
export const formatCounts = (c: CrashCounts): string => {
  const violations = VIOLATION_KINDS.reduce((n, k) => n + c.violations[k], 0);
  const byKind = VIOLATION_KINDS.filter((k) => c.violations[k] > 0).map((k) => `${k} ${c.violations[k]}`).join(', ');
  return (
    `ops acked ${c.opsAcked} (rejected ${c.opsRejected}, in flight at kill ${c.opsInFlightAtKill}); kills ${c.kills} (${c.killsDuringReconcile} during reconcile, ` +
    `${c.killsDuringRebuild} during a rebuild, ${c.killsDuringCleanup} during a cleanup, ${c.killsDuringSweep} during a sweep); ` +
    `agents: ${c.liveAgentsAtKill} live at kill, ${c.agentsKilledWhileDown} killed while down, ${c.unrecordedAgents} unrecorded; ` +
    `reconcile: ${c.sessions} sessions, ${c.adopted} adopted, ${c.interrupted} interrupted, ${c.relaunched} relaunched, ${c.notResumable} not resumable, ` +
    `${c.toolCallsInterrupted} tool calls interrupted, ${c.transcriptResults} transcript results, ${c.snapshotsRebuilt} snapshots rebuilt, ${c.skippedLeased} skipped (leased); ${c.unsettled} unsettled; ` +
    (c.agentOrphans > 0 ? `agent orphans ${c.agentOrphans} (${c.agentOrphansStopped} stopped by the restart); ` : '') +
    `violations ${violations}${byKind ? ` (${byKind})` : ''}; ${(c.ms / 1000).toFixed(1)} s ` +
    `(drive ${(c.driveMs / 1000).toFixed(1)}, kill ${(c.killMs / 1000).toFixed(1)}, restart ${(c.restartMs / 1000).toFixed(1)}, check ${(c.checkMs / 1000).toFixed(1)} in ${c.checkRounds} round(s))` +
    (c.iterations > 1 ? ` (${(c.ms / 1000 / c.iterations).toFixed(1)} s per iteration)` : '')
  );
};

// ---------------------------------------------------------------- small helpers

/** mulberry32: a seeded PRNG in [0, 1). */
const prng = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True when (pid, start time) names a live, non-zombie process now. */
export const runtimeAlive = (runtime: RuntimeId): boolean => {
  try {
    const stat = readProcStat(runtime.pid);
    return stat !== null && stat.startTime === runtime.startTime && !['Z', 'X', 'x'].includes(stat.state);
  } catch {
    return false;
  }
};

/**
 * Liveness of every process at this instant, from one scan of /proc: a function of (pid, start time) that says whether
 * that process was alive (not a zombie) when the scan ran, whatever happens to it later.
 */
export const livenessNow = (): ((runtime: RuntimeId) => boolean) => {
  const live = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readProcStat(Number(entry));
      if (stat && !['Z', 'X', 'x'].includes(stat.state)) live.set(Number(entry), stat.startTime);
    } catch {
      /* it ended during the scan */
    }
  }
  return (runtime) => live.get(runtime.pid) === runtime.startTime;
};

/** Live processes started (directly or through a server) by this run: their environment carries the run's marker. */
const markedProcesses = (marker: string): { pid: number; agent: boolean; startTime: string; leader: boolean }[] => {
  const found: { pid: number; agent: boolean; startTime: string; leader: boolean }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker)) continue;
      const stat = readProcStat(pid);
      if (!stat || ['Z', 'X', 'x'].includes(stat.state)) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
      found.push({ pid, agent: argv[0] === 'sleep' && argv[1] === AGENT_SLEEP, startTime: stat.startTime, leader: stat.pgrp === pid });
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return found;
};

interface Reply {
  status: number;
  body: any;
  /** Why no answer arrived (status 0): the error, its cause, and after how long. */
  failure?: string;
}

/** How long a request may wait for its answer (ms). */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * A JSON request to the server; resolves with status 0 (and why) when no answer arrived (connection refused or cut by
 * the kill, or no answer within REQUEST_TIMEOUT_MS). A GET whose connection failed before any answer (not a timeout)
 * is sent once more: fetch reuses an idle keep-alive connection, and when this process was busy in synchronous work
 * (its /proc scans, git, sqlite3) for longer than the server's keep-alive timeout (Node's 5 s), it may send on one the
 * server has just closed ("other side closed"), a request the server never read.
 */
const request = async (base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, retried = false): Promise<Reply> => {
  const started = Date.now();
  try {
    const response = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    if (method === 'GET' && !retried && e.name !== 'TimeoutError') return request(base, method, path, body, headers, true);
    return { status: 0, body: undefined, failure: `${e.name}: ${e.message}${e.cause ? ` (${e.cause.code ?? ''} ${e.cause.message ?? ''})` : ''} after ${Date.now() - started} ms${retried ? ', sent twice' : ''}` };
  }
};

const ok = (reply: Reply) => reply.status >= 200 && reply.status < 300;

// ---------------------------------------------------------------- database reads

const readLog = async (db: Client): Promise<StoredEvent[]> => {
  const { rows } = await db.query(
    'SELECT global_position, stream_id, revision, event_id, type, data, hash FROM rl_events ORDER BY global_position',
  );
  return rows.map((r) => ({
    position: Number(r.global_position), streamId: r.stream_id, revision: Number(r.revision), eventId: r.event_id, type: r.type, data: r.data, hash: r.hash,
  }));
};

const reconcileReport = async (db: Client, pid: number): Promise<Record<string, number> | null> => {
  const { rows } = await db.query(
    `SELECT data FROM rl_events WHERE stream_id = 'system' AND type = 'ReconcileCompleted' ORDER BY global_position`,
  );
  return rows.map((r) => r.data).find((d) => d?.pid === pid) ?? null;
};

// ---------------------------------------------------------------- the driver

interface FakeClaude {
  agentSessionId: string;
  transcript: string;
  phase: 'start' | 'prompt' | 'pre' | 'post' | 'stop' | 'done';
  toolsLeft: number;
  call?: { callId: string; fail: boolean; written?: boolean };
  busy: boolean;
}

/** Where an iteration's kill lands: after some operations, or during a projection rebuild, a session cleanup or a reaper sweep. */
type KillPoint = 'ops' | 'rebuild' | 'cleanup' | 'sweep';

interface DriveStats {
  acked: number;
  rejected: number;
  inFlightAtKill: number;
}

/** What the clients know and remember across restarts: acknowledged operations and the sessions they can use. */
class Driver {
  readonly acks: Ack[] = [];
  running: string[] = [];
  readonly keyed: { key: string; body: unknown; sessionId: string }[] = [];
  readonly pendingObserved: { sessionId: string; callId: string; attempt: number }[] = [];
  readonly claudes: FakeClaude[] = [];
  /** Worktree path of each command session, from its spawn answer. */
  readonly worktrees = new Map<string, string>();
  /** Work the clients did in a session's worktree, as its agent would (see checkWork). */
  readonly work = new Map<string, { path: string; commits: string[]; files: Map<string, string> }>();
  /** Sessions a client is writing to, killing or cleaning up: never two of those at once on one session. */
  private readonly busySessions = new Set<string>();
  /** Cleanups cut by a kill: retried after the restart, as a person whose `runledger cleanup` failed would. */
  readonly cutCleanups = new Set<string>();
  private seq = 0;
  base = '';
  stats: DriveStats = { acked: 0, rejected: 0, inFlightAtKill: 0 };

  constructor(private readonly rand: () => number, private readonly repo: string, private readonly claudeDir: string, private readonly tag: string) {}

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length ? items[Math.floor(this.rand() * items.length)] : undefined;
  }

  private next(prefix: string): string {
    return `${prefix}-${this.tag}-${++this.seq}`;
  }

  private async send(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply> {
    const reply = await request(this.base, method, path, body, headers);
    if (ok(reply)) this.stats.acked++;
    else if (reply.status !== 0) this.stats.rejected++;
    return reply;
  }

  /** Registers the project (idempotent across restarts: a 409 for an existing id is fine). */
  async registerProject(): Promise<void> {
    const reply = await request(this.base, 'POST', '/projects', { name: PROJECT, id: PROJECT, repoPath: this.repo });
    if (ok(reply)) this.acks.push({ op: 'project', projectId: reply.body.id });
    else if (reply.status !== 409) throw new Error(`POST /projects answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  }

  /** Re-reads which command sessions are running (after a restart some are interrupted or relaunched). */
  async refresh(): Promise<void> {
    const reply = await request(this.base, 'GET', `/sessions?projectId=${PROJECT}&status=running`);
    if (!ok(reply)) throw new Error(`GET /sessions answered ${reply.status}${reply.failure ? ` (${reply.failure})` : ''}`);
    this.running = (reply.body.sessions as { id: string; agent: string }[]).filter((s) => s.agent === 'command').map((s) => s.id);
  }

  /** One random operation; resolves once its requests are answered or cut. */
  async operation(): Promise<void> {
    const r = this.rand();
    const live = this.running.length;
    if (r < 0.14 || live === 0) return this.spawn();
    if (r < 0.3) return this.managed(false);
    if (r < 0.38) return this.managed(true);
    if (r < 0.52) return this.observed();
    if (r < 0.58 && this.pendingObserved.length > 0) return this.observedResult();
    if (r < 0.86) return this.realAgents.length > 0 && r > 0.78 ? this.realAgent(this.pick(this.realAgents)!) : this.claudeStep();
    if (r < 0.92 && live > 6) {
      if (this.rand() < 0.5) return this.kill();
      await this.cleanup();
      return;
    }
    if (r < 0.96) return this.writeWork();
    if (r < 0.98 && this.keyed.length > 0) return this.spawnRetry();
    return this.spawn();
  }

  private async spawn(): Promise<void> {
    const body = {
      projectId: PROJECT, agent: 'command', command: ['sh', '-c', `exec sleep ${AGENT_SLEEP}`],
      ...(this.rand() < 0.5 ? { prompt: 'keep working on the crash test' } : {}),
    };
    const key = this.rand() < 0.5 ? this.next('spawn') : undefined;
    const reply = await this.send('POST', '/sessions', body, key ? { 'idempotency-key': key } : {});
    if (!ok(reply)) return;
    const view = reply.body;
    const runtime = view.runtime?.pid ? { pid: view.runtime.pid, startTime: view.runtime.startTime } : undefined;
    this.acks.push({ op: 'spawn', sessionId: view.id, projectId: view.projectId, revision: view.revision, ...(runtime ? { runtime } : {}), ...(key ? { idempotencyKey: key } : {}) });
    if (key) this.keyed.push({ key, body, sessionId: view.id });
    if (view.worktrees?.[0]?.path) this.worktrees.set(view.id, view.worktrees[0].path);
    if (view.status === 'running') this.running.push(view.id);
  }

  private async spawnRetry(): Promise<void> {
    const first = this.pick(this.keyed)!;
    const reply = await this.send('POST', '/sessions', first.body, { 'idempotency-key': first.key });
    if (ok(reply)) this.acks.push({ op: 'spawn-retry', sessionId: reply.body.id, expectedSessionId: first.sessionId, idempotencyKey: first.key });
  }

  private async managed(long: boolean): Promise<void> {
    const sessionId = this.pick(this.running);
    if (!sessionId) return this.spawn();
    const callId = this.next('managed');
    const command = long ? 'sleep 5; echo long' : 'sleep 0.2; echo x';
    const query = long ? '' : '?wait=true&timeoutMs=20000';
    const reply = await this.send('POST', `/sessions/${sessionId}/tool-calls${query}`, { callId, tool: 'shell', input: { command }, mode: 'managed' });
    if (!ok(reply)) return;
    this.acks.push({ op: 'dispatch', sessionId, callId, attempt: reply.body.attempt });
    if (reply.body.status === 'completed' || reply.body.status === 'failed') this.acks.push({ op: 'result', sessionId, callId, attempt: reply.body.attempt, late: false });
  }

  private async observed(): Promise<void> {
    const sessionId = this.pick(this.running);
    if (!sessionId) return this.spawn();
    const callId = this.next('observed');
    const reply = await this.send('POST', `/sessions/${sessionId}/tool-calls`, { callId, tool: 'Bash', input: { command: 'ls' }, mode: 'observed' });
    if (!ok(reply)) return;
    const call = { sessionId, callId, attempt: reply.body.attempt as number };
    this.acks.push({ op: 'dispatch', ...call });
    if (this.rand() < 0.6) await this.result(call);
    else this.pendingObserved.push(call);
  }

  private async observedResult(): Promise<void> {
    const index = Math.floor(this.rand() * this.pendingObserved.length);
    const [call] = this.pendingObserved.splice(index, 1);
    await this.result(call);
  }

  private async result(call: { sessionId: string; callId: string; attempt: number }): Promise<void> {
    const reply = await this.send('POST', `/sessions/${call.sessionId}/tool-calls/${call.callId}/result`, { status: 'completed', output: 'ok', exitCode: 0 });
    if (ok(reply)) this.acks.push({ op: 'result', ...call, late: reply.body.status === 'interrupted' });
  }

  private async kill(): Promise<void> {
    const sessionId = this.pick(this.running.filter((id) => !this.busySessions.has(id)));
    if (!sessionId) return;
    this.running = this.running.filter((id) => id !== sessionId);
    this.busySessions.add(sessionId);
    try {
      const reply = await this.send('POST', `/sessions/${sessionId}/kill`, { reason: 'crash harness' });
      if (ok(reply)) this.acks.push({ op: 'kill', sessionId });
    } finally {
      this.busySessions.delete(sessionId);
    }
  }

  /**
   * Works in a running session's worktree as its agent would: appends to the tracked README, writes an untracked file,
   * and half the time commits a file of its own on the session's branch (the other files stay uncommitted).
   */
  async writeWork(): Promise<void> {
    const sessionId = this.pick(this.running.filter((id) => this.worktrees.has(id) && !this.busySessions.has(id) && existsSync(this.worktrees.get(id)!)));
    if (!sessionId) return this.spawn();
    const path = this.worktrees.get(sessionId)!;
    const work = this.work.get(sessionId) ?? { path, commits: [], files: new Map<string, string>() };
    this.busySessions.add(sessionId);
    try {
      const n = ++this.seq;
      if (this.rand() < 0.5) {
        writeFileSync(join(path, `done-${n}.txt`), `committed ${n}\n`);
        git(path, 'add', '--', `done-${n}.txt`);
        git(path, 'commit', '-q', '-m', `crash harness: step ${n}`, '--', `done-${n}.txt`);
        work.commits.push(git(path, 'rev-parse', 'HEAD'));
      }
      const readme = `${readFileSync(join(path, 'README.md'), 'utf8')}work ${n}\n`;
      writeFileSync(join(path, 'README.md'), readme);
      writeFileSync(join(path, `wip-${n}.txt`), `uncommitted ${n} ${randomUUID()}\n`);
      work.files.set('README.md', readme);
      work.files.set(`wip-${n}.txt`, readFileSync(join(path, `wip-${n}.txt`), 'utf8'));
      this.work.set(sessionId, work);
    } catch {
      /* the worktree went away meanwhile (reaped, or removed by a kill of a clean worktree) */
    } finally {
      this.busySessions.delete(sessionId);
    }
  }

  /** `POST /sessions/:id/cleanup` of a session with work when there is one (it must be preserved first); resolves when answered or cut. */
  async cleanup(sessionId?: string): Promise<Reply> {
    const candidates = [...this.work.keys()].filter((id) => !this.busySessions.has(id) && !this.cleaned.has(id));
    const id = sessionId ?? this.pick(candidates.length > 0 ? candidates : this.running.filter((x) => !this.busySessions.has(x)));
    if (!id) return { status: 0, body: undefined };
    this.running = this.running.filter((x) => x !== id);
    this.busySessions.add(id);
    this.cutCleanups.add(id);
    try {
      const reply = await this.send('POST', `/sessions/${id}/cleanup`);
      if (reply.status !== 0) this.cutCleanups.delete(id);
      if (ok(reply)) {
        this.cleaned.add(id);
        this.acks.push({ op: 'kill', sessionId: id });
      }
      return reply;
    } finally {
      this.busySessions.delete(id);
    }
  }

  /** Sessions whose cleanup was answered 200. */
  readonly cleaned = new Set<string>();

  /** The agents whose real sessions this driver spawns (their CLI installed and asked for). */
  realAgents: RealAgent[] = [];
  /** Every real agent session spawned: its agent, id and first runtime. */
  readonly real: { agent: RealAgent; sessionId: string; runtime: RuntimeId }[] = [];

  /** Spawns a real session of `agent` (at most its share of REAL_AGENTS_MAX_LIVE alive at once), else takes a fake Claude step. */
  private async realAgent(agent: RealAgent): Promise<void> {
    const share = Math.max(1, Math.floor(REAL_AGENTS_MAX_LIVE / this.realAgents.length));
    if (this.real.filter((c) => c.agent === agent && runtimeAlive(c.runtime)).length >= share) return this.claudeStep();
    const reply = await this.send('POST', '/sessions', { projectId: PROJECT, agent, prompt: 'soak: run the scripted steps' });
    if (!ok(reply)) return;
    const view = reply.body;
    const runtime = view.runtime?.pid ? { pid: view.runtime.pid, startTime: view.runtime.startTime } : undefined;
    this.acks.push({ op: 'spawn', sessionId: view.id, projectId: view.projectId, revision: view.revision, ...(runtime ? { runtime } : {}) });
    if (runtime) this.real.push({ agent, sessionId: view.id, runtime });
  }

  /** Spawns one real session of each agent that has none alive, so that every iteration's kill finds one of each at work. */
  async warmRealAgents(): Promise<void> {
    for (const agent of this.realAgents) if (!this.real.some((c) => c.agent === agent && runtimeAlive(c.runtime))) await this.realAgent(agent);
  }

  /** Next step of a fake Claude Code session: it writes its transcript like Claude does and calls the hooks. */
  private async claudeStep(): Promise<void> {
    const idle = this.claudes.filter((c) => !c.busy && c.phase !== 'done');
    let claude = idle.length > 0 && (idle.length >= 3 || this.rand() < 0.8) ? this.pick(idle)! : undefined;
    if (!claude) {
      const agentSessionId = randomUUID();
      claude = { agentSessionId, transcript: join(this.claudeDir, `${agentSessionId}.jsonl`), phase: 'start', toolsLeft: 0, busy: false };
      this.claudes.push(claude);
    }
    claude.busy = true;
    try {
      await this.advance(claude);
    } finally {
      claude.busy = false;
    }
  }

  private async advance(c: FakeClaude): Promise<void> {
    const at = new Date().toISOString();
    const common = { session_id: c.agentSessionId, transcript_path: c.transcript, cwd: this.repo };
    const line = (value: object) => appendFileSync(c.transcript, `${JSON.stringify({ sessionId: c.agentSessionId, cwd: this.repo, uuid: randomUUID(), timestamp: at, ...value })}\n`);
    const hook = async (name: HookName, extra: object, callId?: string) => {
      const reply = await this.send('POST', '/hooks/claude-code', { ...common, hook_event_name: name, ...extra });
      if (ok(reply)) this.acks.push({ op: 'hook', hook: name, agentSessionId: c.agentSessionId, ...(callId ? { callId } : {}) });
    };
    // Claude goes on whether or not a hook was answered (a failed HTTP hook does not stop it).
    switch (c.phase) {
      case 'start':
        line({ type: 'system', subtype: 'init', content: 'session started' });
        await hook('SessionStart', { source: 'startup' });
        c.phase = 'prompt';
        return;
      case 'prompt': {
        const prompt = `step ${++this.seq} of the crash test`;
        line({ type: 'user', message: { role: 'user', content: prompt } });
        await hook('UserPromptSubmit', { prompt });
        c.toolsLeft = 1 + Math.floor(this.rand() * 4);
        c.phase = 'pre';
        return;
      }
      case 'pre': {
        const callId = `toolu_${this.tag}_${++this.seq}`;
        c.call = { callId, fail: this.rand() < 0.2 };
        line({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'tool_use', id: callId, name: 'Bash', input: { command: 'echo hi' } }] } });
        await hook('PreToolUse', { tool_name: 'Bash', tool_input: { command: 'echo hi' }, tool_use_id: callId }, callId);
        c.phase = 'post';
        return;
      }
      case 'post': {
        const { callId, fail } = c.call!;
        if (!c.call!.written) {
          line({
            type: 'user',
            message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: callId, content: fail ? 'boom' : 'hi', is_error: fail }] },
            toolUseResult: fail ? 'Error: boom' : { stdout: 'hi', stderr: '', interrupted: false },
          });
          c.call!.written = true;
          // Half the time the result sits in the transcript for a while before PostToolUse is sent: a kill in
          // between leaves a result only the transcript knows, which reconcile must recover.
          if (this.rand() < 0.5) return;
        }
        if (fail) await hook('PostToolUseFailure', { tool_name: 'Bash', tool_input: { command: 'echo hi' }, tool_use_id: callId, error: 'boom' }, callId);
        else await hook('PostToolUse', { tool_name: 'Bash', tool_input: { command: 'echo hi' }, tool_use_id: callId, tool_response: { stdout: 'hi', stderr: '' } }, callId);
        c.phase = --c.toolsLeft > 0 ? 'pre' : 'stop';
        return;
      }
      case 'stop':
        line({ type: 'system', subtype: 'stop_hook_summary', content: 'turn ended' });
        await hook('Stop', { stop_hook_active: false });
        c.phase = this.rand() < 0.5 ? 'prompt' : 'done';
        return;
      case 'done':
        return;
    }
  }
}

// ---------------------------------------------------------------- the soak

interface Run {
  root: string;
  repo: string;
  dataDir: string;
  url: string;
  db: Client;
  drop: () => Promise<void>;
  marker: string;
  /**
   * The port every server of this epoch listens on, as a deployment's does (8787): the URL an agent's hooks were
   * launched with still reaches runledger after a restart, so a hook held across it gets through.
   */
  port: number;
  server?: ServerProcess;
  /** The real agents of this epoch: each one's model stand-in and CLI environment (only those asked for and installed). */
  agents: Map<RealAgent, OpenedAgent>;
  /** The HOME of the server and so of every agent it launches: each kit writes what its CLI reads from there. */
  home: string;
}

const serverEnv = (run: Run) => ({
  // Every kit wrote what its CLI reads from HOME into the run's one HOME (and set HOME to it).
  ...Object.assign({}, ...[...run.agents.values()].map((a) => a.env)),
  HOME: run.home,
  DATABASE_URL: run.url, RUNLEDGER_DATA_DIR: run.dataDir, RUNLEDGER_TOKEN: TOKEN, RUNLEDGER_KILL_GRACE_MS: '1000', PORT: String(run.port),
  // No grace window: a sweep removes every orphan it may, so a kill can land in the middle of a removal.
  RUNLEDGER_ORPHAN_GRACE_MS: '0',
  RUNLEDGER_URL: undefined, RL_CRASH_RUN: run.marker.slice('RL_CRASH_RUN='.length),
});

const startServer = async (run: Run): Promise<ServerProcess> => {
  run.server = await startServerProcess(serverEnv(run), 'start');
  return run.server;
};

const killServer = async (run: Run): Promise<void> => {
  if (!run.server) return;
  await run.server.stop('SIGKILL');
  run.server = undefined;
};

/** Waits for `ReconcileCompleted` of `server` (polling the system stream); null at the deadline or if the server died. */
const awaitReconcile = async (run: Run, server: ServerProcess, timeoutMs: number): Promise<Record<string, number> | null> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await reconcileReport(run.db, server.pid);
    if (report) return report;
    if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`runledger exited during reconcile:\n${server.output().slice(-4000)}`);
    if (Date.now() > deadline) return null;
    await delay(100);
  }
};

/** Everything the checks need, read now from the database, the API and /proc. */
const observe = async (
  run: Run, server: ServerProcess, base: Omit<RestartObservation, 'after' | 'leases' | 'snapshots' | 'listedIds' | 'replays' | 'serverPid' | 'isAlive' | 'moving'>,
): Promise<RestartObservation & { uptime: number }> => {
  // Liveness is sampled before the log is read: a call the log shows dispatched is judged against its owner's state at
  // an instant before that read (an agent that finished the call and exited after the read is not an orphan).
  const isAlive = livenessNow();
  const uptime = uptimeNow();
  const after = await readLog(run.db);
  const { rows: leases } = await run.db.query<{ resource: string; owner: string }>('SELECT resource, owner FROM rl_leases WHERE expires_at >= now()');
  const list = await request(server.url, 'GET', '/sessions');
  const snapshots = new Map<string, unknown>();
  const listedIds: string[] = [];
  for (const view of ok(list) ? (list.body.sessions as { id: string; runtime?: object | null }[]) : []) {
    listedIds.push(view.id);
    // `runtime.alive` and `health` are read-time facts (liveness, the clock), not folds of the log: left out of the comparison.
    const { health: _health, ...folded } = view as typeof view & { health?: unknown };
    snapshots.set(view.id, { ...folded, runtime: view.runtime ? { ...view.runtime, alive: null } : view.runtime });
  }
  const replays = new Map<string, { view: unknown; head: number }>();
  for (const sessionId of foldSessions(after).keys()) {
    const reply = await request(server.url, 'GET', `/sessions/${encodeURIComponent(sessionId)}/state`);
    if (ok(reply)) replays.set(sessionId, { view: reply.body.view, head: reply.body.head });
  }
  // Live agents keep appending (hooks, the runtime watcher): a stream whose head moved meanwhile was read at two heads.
  const heads = (log: StoredEvent[]) => new Map([...foldSessions(log).values()].map((s) => [s.sessionId, s.head]));
  const [first, last] = [heads(after), heads(await readLog(run.db))];
  const moving = new Set([...last].filter(([id, head]) => first.get(id) !== head).map(([id]) => id));
  return { ...base, after, leases, snapshots, listedIds, replays, serverPid: server.pid, isAlive, moving, uptime };
};

/** What is left of the clients' work in each session's worktree: on its branch, on disk, in the preserved ref it records. */
const observeWork = (
  repo: string,
  work: Driver['work'],
  replays: Map<string, { view: unknown; head: number }>,
): WorkObservation[] =>
  [...work].map(([sessionId, w]) => {
    const view = replays.get(sessionId)?.view as { worktrees?: { state: string; preservedRef?: string }[] } | undefined;
    const worktree = view?.worktrees?.[0];
    const read = (file: string): string | null => {
      try {
        return readFileSync(join(w.path, file), 'utf8');
      } catch {
        return null;
      }
    };
    const show = (ref: string, file: string): string | null => {
      try {
        return execFileSync('git', ['show', `${ref}:${file}`], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        return null;
      }
    };
    const onBranch = (sha: string): boolean => {
      try {
        execFileSync('git', ['merge-base', '--is-ancestor', sha, `refs/heads/runledger/${sessionId}`], { cwd: repo, stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    };
    const names = [...w.files.keys()];
    return {
      sessionId,
      expected: w.files,
      commits: w.commits.map((sha) => ({ sha, onBranch: onBranch(sha) })),
      recorded: worktree ? { state: worktree.state, ...(worktree.preservedRef ? { preservedRef: worktree.preservedRef } : {}) } : null,
      onDisk: existsSync(w.path) ? new Map(names.map((n) => [n, read(n)])) : null,
      inRef: worktree?.preservedRef ? new Map(names.map((n) => [n, show(worktree.preservedRef!, n)])) : null,
    };
  });

const openRun = async (options: CrashSoakOptions): Promise<Run> => {
  const chosen = chosenPostgres();
  const postgres = options.postgres ?? ('skip' in chosen ? { adminUrl: process.env.TEST_DATABASE_URL ?? LOCAL_POSTGRES_URL, source: 'local' as const } : chosen);
  const root = mkdtempSync(join(tmpdir(), 'rl-crash-'));
  const repo = makeRepo(join(root, 'repo'));
  mkdirSync(join(root, 'claude'));
  const { url, drop } = await createTestDatabase(postgres);
  const db = new Client({ connectionString: url });
  db.on('error', () => undefined);
  await db.connect();
  const agents = new Map<RealAgent, OpenedAgent>();
  const home = join(root, 'home');
  mkdirSync(home);
  for (const kind of REAL_AGENTS) if (options.realAgents?.includes(kind) && !REAL_AGENT_KITS[kind].unavailable()) agents.set(kind, await REAL_AGENT_KITS[kind].open(root, home));
  return { root, repo, home, dataDir: join(root, 'data'), url, db, drop, marker: `RL_CRASH_RUN=${randomUUID()}`, port: await freePort(), agents };
};

const closeRun = async (run: Run): Promise<void> => {
  await run.server?.stop('SIGTERM').catch(() => undefined);
  for (const p of markedProcesses(run.marker)) {
    try {
      process.kill(p.leader ? -p.pid : p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const agent of run.agents.values()) await agent.close().catch(() => undefined);
  await run.db.end().catch(() => undefined);
  await run.drop().catch(() => undefined);
  rmSync(run.root, { recursive: true, force: true });
};

/** What one run of a soak carries from iteration to iteration within an epoch (a fresh database, repo and project). */
interface EpochState {
  run: Run;
  driver: Driver;
  server: ServerProcess;
  /** Claude Code session id → runledger session id, as first seen (stable across restarts). */
  agentSessions: Map<string, string>;
  /** Violations already counted in this epoch (`kind|detail`): one still present at a later restart is not counted again. */
  seen: Set<string>;
}

/** What a run carries across its epochs: its PRNG, and how long the last answered rebuild, cleanup and sweep took (ms). */
interface RunState {
  rand: () => number;
  between: (lo: number, hi: number) => number;
  pointMs: Partial<Record<KillPoint, number>>;
}

/** Counts of the real sessions of one agent kind, summed over runs and epochs. */
export interface RealAgentCounts {
  spawned: number;
  exited: number;
  launches: number;
  native: number;
  toolCalls: number;
  fromTranscript: number;
}

/** What one iteration found: its counts, its new violations, how many earlier ones were still present, where its kill landed. */
interface IterationResult {
  counts: CrashCounts;
  fresh: Violation[];
  carried: number;
  point: KillPoint;
}

/** One drive → SIGKILL → restart → check cycle; returns its counts and its new violations (not yet numbered). */
const runIteration = async (epoch: EpochState, state: RunState, options: CrashSoakOptions, log: (line: string) => void): Promise<IterationResult> => {
  const { run, driver } = epoch;
  const { rand, between, pointMs } = state;
  const counts = emptyCounts();
  counts.iterations = 1;
  const fresh: Violation[] = [];
  const iterationStarted = Date.now();
  await driver.refresh();
  driver.stats = { acked: 0, rejected: 0, inFlightAtKill: 0 };
  await driver.warmRealAgents();

  // Cleanups a kill cut are retried first, as a person would: they must complete, with the work preserved.
  for (const sessionId of [...driver.cutCleanups]) {
    let reply = await driver.cleanup(sessionId);
    // No answer and no timeout: the request went out on a keep-alive connection the kill had closed (the restarted
    // server listens on the killed one's port) and the server never read it (see `request`). A person sends it again;
    // a cleanup repeated is a cleanup.
    if (reply.status === 0 && !reply.failure?.startsWith('TimeoutError')) reply = await driver.cleanup(sessionId);
    if (!ok(reply)) {
      const v: Violation = { kind: 'cleanup-refused', detail: `${sessionId}: cleanup retried after a restart answered ${reply.status} ${JSON.stringify(reply.body)?.slice(0, 300)}${reply.failure ? ` (${reply.failure})` : ''}` };
      counts.violations[v.kind]++;
      fresh.push(v);
    }
  }

  // Drive with LANES concurrent clients until the kill: after a random number of operations, or a random delay;
  // some kills land on purpose during a projection rebuild, a session cleanup or a reaper sweep.
  const killAtOps = between(5, options.maxOpsBeforeKill ?? 40);
  const pointDraw = rand();
  const point: KillPoint = pointDraw < 0.15 ? 'rebuild' : pointDraw < 0.3 ? 'cleanup' : pointDraw < 0.38 ? 'sweep' : 'ops';
  const killAfterMs = point === 'ops' && rand() < 0.3 ? between(300, 5000) : undefined;
  let started = 0;
  let inFlight = 0;
  let killed = false;
  const current = epoch.server;
  const kill = () => {
    if (killed) return;
    killed = true;
    counts.opsInFlightAtKill = inFlight;
    current.child.kill('SIGKILL');
  };
  const timer = killAfterMs !== undefined ? setTimeout(kill, killAfterMs) : undefined;
  let pointTaken = false;
  /** Starts the kill point's request, waits a random part of how long the last one took, then kills (counted when it was still running). */
  const killDuring = async () => {
    const t0 = Date.now();
    let answered = false;
    const action = point === 'rebuild' ? request(current.url, 'POST', '/projections/rebuild')
      : point === 'sweep' ? request(current.url, 'POST', '/worktrees/sweep')
      : driver.cleanup();
    void action.then((reply) => {
      answered = true;
      if (ok(reply)) pointMs[point] = Date.now() - t0;
    });
    if (point === 'rebuild') {
      // Wait until the rebuild is under way (the shadow tables exist) before choosing the moment.
      for (const until = Date.now() + 5000; !answered && Date.now() < until; await delay(10)) {
        if ((await request(current.url, 'GET', '/projections/status')).body?.rebuilding) break;
      }
    }
    await delay(Math.floor(rand() * (pointMs[point] ?? 300)));
    if (!answered) counts[point === 'rebuild' ? 'killsDuringRebuild' : point === 'sweep' ? 'killsDuringSweep' : 'killsDuringCleanup']++;
    kill();
  };
  const lane = async () => {
    while (!killed) {
      if (killAfterMs === undefined && started >= killAtOps) {
        if (point === 'ops') return kill();
        if (!pointTaken) {
          pointTaken = true;
          await killDuring();
        }
        return;
      }
      started++;
      inFlight++;
      await driver.operation().catch(() => undefined);
      inFlight--;
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  if (timer) clearTimeout(timer);
  const driven = Date.now();
  counts.driveMs = driven - iterationStarted;
  const killedOutput = run.server?.output() ?? '';
  await killServer(run);
  counts.kills++;

  // Sometimes agents die while runledger is down (a reboot, an OOM kill): reconcile must see them dead.
  if (rand() < (options.killAgentsWhileDown ?? 0.3)) {
    const gone: RuntimeId[] = [];
    for (const p of markedProcesses(run.marker).filter((p) => p.agent)) {
      if (rand() < 0.34) {
        process.kill(-p.pid, 'SIGKILL');
        gone.push({ pid: p.pid, startTime: p.startTime });
        counts.agentsKilledWhileDown++;
      }
    }
    // A real agent's recorded runtime: the first launch, or the native resume that followed a kill (its group: the CLI
    // and its native binary; a shell call of Codex, OpenCode or Gemini CLI runs in a session of its own and outlives it, an orphan).
    const sessionsNow = foldSessions(await readLog(run.db));
    const realRuntimes = driver.real.map((c) => sessionsNow.get(c.sessionId)?.runtime ?? c.runtime);
    for (const runtime of realRuntimes.filter(runtimeAlive)) {
      if (rand() < 0.5) {
        process.kill(-runtime.pid, 'SIGKILL');
        gone.push(runtime);
        counts.agentsKilledWhileDown++;
      }
    }
    // SIGKILL lands asynchronously: wait until the killed agents are gone before judging who was alive at the kill.
    for (const deadline = Date.now() + 5000; gone.some(runtimeAlive) && Date.now() < deadline; ) await delay(20);
  }

  // What dead agents left running (the tool children of Codex, OpenCode, Gemini CLI), sampled before any restart may stop them.
  const atKill = foldSessions(await readLog(run.db));
  const orphans: AgentOrphan[] = agentOrphans(run.marker, (sessionId) => {
    const s = atKill.get(sessionId);
    return s?.runtime && !runtimeAlive(s.runtime) && run.agents.has(s.agent as RealAgent) ? REAL_AGENT_KITS[s.agent as RealAgent] : undefined;
  });
  counts.agentOrphans = orphans.length;

  // Sometimes the restart itself is killed while it reconciles.
  if (rand() < 0.2) {
    const early = await startServer(run);
    await delay(between(0, 800));
    await killServer(run);
    counts.kills++;
    const done = await reconcileReport(run.db, early.pid);
    if (!done) counts.killsDuringReconcile++;
  }

  const before = await readLog(run.db);
  const recorded = new Set<string>();
  const liveAtKill = new Map<string, RuntimeId>();
  for (const s of foldSessions(before).values()) {
    for (const e of s.events) if (e.data?.runtime?.pid) recorded.add(`${e.data.runtime.pid}:${e.data.runtime.startTime}`);
    // A one-shot real agent (`claude -p`, `codex exec`, `opencode run`, `gemini -p`) may finish on its own around the restart (then `exited`, not adopted): invariants 14 and 15 check those.
    if (s.status !== 'terminated' && !REAL_AGENTS.includes(s.agent as RealAgent) && s.runtime && runtimeAlive(s.runtime)) liveAtKill.set(s.sessionId, s.runtime);
  }
  counts.liveAgentsAtKill = liveAtKill.size;
  counts.unrecordedAgents = markedProcesses(run.marker).filter((p) => p.agent && !recorded.has(`${p.pid}:${p.startTime}`)).length;

  const restarting = Date.now();
  counts.killMs = restarting - driven;
  const server = await startServer(run);
  epoch.server = server;
  driver.base = server.url;
  const reconciled = await awaitReconcile(run, server, options.reconcileTimeoutMs ?? 120_000);
  for (const key of ['sessions', 'adopted', 'interrupted', 'relaunched', 'notResumable', 'toolCallsInterrupted', 'transcriptResults', 'snapshotsRebuilt', 'skippedLeased'] as const) {
    counts[key] += Number(reconciled?.[key] ?? 0);
  }
  const checking = Date.now();
  counts.restartMs = checking - restarting;

  // The read side may still be projecting reconcile's own events: retry the checks until they hold or time runs out.
  const deadline = Date.now() + (options.settleTimeoutMs ?? 20_000);
  let violations: Violation[];
  let observation!: RestartObservation & { uptime: number };
  const records: Partial<Record<string, AgentRecord>> = Object.fromEntries([...run.agents].map(([kind, agent]) => [kind, agent.record]));
  const checkRound = async (): Promise<Violation[]> => {
    counts.checkRounds++;
    observation = await observe(run, server, { before, acks: driver.acks, liveAtKill, reconciled: reconciled !== null, agentSessions: epoch.agentSessions });
    return [
      ...checkRestart(observation), ...checkAgentSessions(observation.after, observation.isAlive, records),
      ...checkOrphans(orphans, observation.after, observation.isAlive, observation.uptime),
      ...checkWork(observeWork(run.repo, driver.work, observation.replays)),
    ];
  };
  const settledOn = (found: Violation[]) => found.every((v) => epoch.seen.has(`${v.kind}|${v.detail}`));
  for (;;) {
    violations = await checkRound();
    if (observation.moving.size === 0 && settledOn(violations)) break;
    if (Date.now() > deadline) {
      // Time is up with new violations: one that is real holds in a second round taken after the runtime watcher had
      // time to act (an agent that exited just before the last round is reconciled within its interval, not orphaned).
      if (!settledOn(violations)) {
        await delay(CONFIRM_AFTER_MS);
        const again = new Set((await checkRound()).map((v) => `${v.kind}|${v.detail}`));
        violations = violations.filter((v) => again.has(`${v.kind}|${v.detail}`));
      }
      break;
    }
    await delay(CHECK_RETRY_MS);
  }
  counts.unsettled = observation.moving.size;
  counts.agentOrphansStopped = orphans.filter((o) => orphanStopped(o, observation.isAlive, observation.uptime)).length;
  for (const s of foldSessions(observation.after).values()) for (const a of s.agentSessionIds) if (!epoch.agentSessions.has(a)) epoch.agentSessions.set(a, s.sessionId);

  counts.opsAcked = driver.stats.acked;
  counts.opsRejected = driver.stats.rejected;
  // A violation still present from an earlier restart is counted once, where it first appeared.
  const newlySeen = violations.filter((v) => !epoch.seen.has(`${v.kind}|${v.detail}`));
  for (const v of newlySeen) {
    epoch.seen.add(`${v.kind}|${v.detail}`);
    counts.violations[v.kind]++;
    fresh.push(v);
  }
  counts.checkMs = Date.now() - checking;
  counts.ms = Date.now() - iterationStarted;
  for (const v of fresh) v.diagnosis = diagnose(v, observation.after, [killedOutput, server.output()]);
  if (observation.moving.size > 0) {
    const folded = foldSessions(observation.after);
    log(`  still appending when the checks stopped waiting (snapshots not compared): ${[...observation.moving].map((id) => `${id} (${folded.get(id)?.agent ?? '?'})`).join(', ')}`);
  }
  return { counts, fresh, carried: violations.length - newlySeen.length, point };
};

/**
 * What a violation's session went through, for whoever reads the soak's report: its last events (position, revision,
 * type, the fields that say who and why) and the servers' log lines naming it (the killed one, then the restarted one).
 * Empty when the violation names no session.
 */
export const diagnose = (v: Violation, log: readonly StoredEvent[], outputs: string[]): string[] => {
  const sessionId = /^([\w.-]+)[/:]/.exec(v.detail)?.[1];
  if (!sessionId) return [];
  const brief = (d: Record<string, unknown> | undefined): string => {
    const runtime = d?.runtime as { pid?: number; startTime?: string } | undefined;
    const picked = { callId: d?.callId, attempt: d?.attempt, mode: d?.mode, reason: d?.reason, pid: runtime?.pid, start: runtime?.startTime, exitCode: d?.exitCode, signal: d?.signal, source: d?.source, agentSessionId: d?.agentSessionId };
    return JSON.stringify(Object.fromEntries(Object.entries(picked).filter(([, x]) => x !== undefined)));
  };
  const events = log.filter((e) => e.streamId === `session-${sessionId}`).sort((a, b) => a.position - b.position).slice(-40);
  const lines = outputs.flatMap((o, i) => o.split('\n').filter((l) => l.includes(sessionId)).slice(-30).map((l) => `server ${i === 0 ? 'killed' : 'restarted'}: ${l.slice(0, 400)}`));
  return [...events.map((e) => `#${e.position} r${e.revision} ${e.type} ${brief(e.data)}`), ...lines];
};

/**
 * An iteration's error with what tells a server that stopped answering apart: exited or not; if not, its CPU use over
 * one second (a blocked event loop keeps it near 100 %), whether `GET /health` answers within 5 s, the database's other
 * connections (what each waits on, for how long: a lock, a hung query) and the server's open writing transactions of
 * any database (the oldest holds every subscription back); then the tail of its output.
 */
const describeFailure = async (error: unknown, server: ServerProcess, db: Client): Promise<string> => {
  const exited = server.child.exitCode !== null || server.child.signalCode !== null;
  const lines = [`${(error as Error)?.message ?? String(error)}; ${exited ? `server pid ${server.pid} exited (${server.child.exitCode ?? server.child.signalCode})` : `server pid ${server.pid} still running`}`];
  if (!exited) {
    const cpuTicks = (): number => {
      try {
        const fields = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return Number(fields[11]) + Number(fields[12]); // utime + stime
      } catch {
        return Number.NaN;
      }
    };
    const t0 = cpuTicks();
    const started = Date.now();
    const health = await fetch(`${server.url}/api/v1/health`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(5000) }).then((r) => `${r.status}`, (e: Error) => `no answer (${e.name})`);
    await delay(Math.max(0, 1000 - (Date.now() - started)));
    lines.push(`GET /health: ${health} after ${Date.now() - started} ms; server CPU ${(((cpuTicks() - t0) / ticksPerSecond()) * 100_000 / Math.max(1, Date.now() - started)).toFixed(0)} % over that time`);
  }
  const activity = await db.query(
    `SELECT pid, datname, state, wait_event_type, wait_event, round(extract(epoch FROM now() - query_start)::numeric, 1) AS secs, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query
     FROM pg_stat_activity WHERE (datname = current_database() OR backend_xid IS NOT NULL) AND pid <> pg_backend_pid() ORDER BY query_start`,
  ).then((r) => r.rows.map((row) => `  pg ${row.pid} ${row.datname} ${row.state} ${row.wait_event_type ?? '-'}:${row.wait_event ?? '-'} ${row.secs} s: ${row.query}`), (e: Error) => [`  pg_stat_activity unreadable: ${e.message}`]);
  lines.push(`database connections (${activity.length}):`, ...activity, `its output ends:\n${server.output().slice(-3000)}`);
  return lines.join('\n');
};

/** Runs one run of a soak: its epochs in order, each on a fresh database, repo and project; cleans each up, also on failure. */
const runSoakRun = async (plan: RunPlan, options: CrashSoakOptions, log: (line: string) => void, into: CrashSoakReport): Promise<void> => {
  const rand = prng(plan.seed);
  const state: RunState = { rand, between: (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1)), pointMs: {} };
  const total = plan.epochs.reduce((a, b) => a + b, 0);
  let iteration = 0;
  for (const [index, size] of plan.epochs.entries()) {
    const opened = Date.now();
    const run = await openRun(options);
    let failed = false;
    try {
      const driver = new Driver(rand, run.repo, join(run.root, 'claude'), `${plan.seed.toString(36)}e${index + 1}`);
      driver.realAgents = [...run.agents.keys()];
      if (index === 0) {
        for (const kit of Object.values(REAL_AGENT_KITS)) {
          log(`real ${kit.label} sessions: ${run.agents.has(kit.kind) ? 'on (the CLI against its scripted model stand-in)' : `off (${options.realAgents?.includes(kit.kind) ? kit.unavailable() : 'not asked for'})`}`);
        }
      }
      const server = await startServer(run);
      driver.base = server.url;
      if (!(await awaitReconcile(run, server, options.reconcileTimeoutMs ?? 120_000))) log('warning: the first start appended no ReconcileCompleted');
      await driver.registerProject();
      log(`epoch ${index + 1}/${plan.epochs.length} (${size} iteration(s)): fresh database ${run.url.replace(/\/\/[^@/]*@/, '//')}, ready in ${((Date.now() - opened) / 1000).toFixed(1)} s`);
      const epoch: EpochState = { run, driver, server, agentSessions: new Map(), seen: new Set() };
      for (let i = 0; i < size; i++) {
        iteration++;
        let result: IterationResult;
        try {
          result = await runIteration(epoch, state, options, log);
        } catch (error) {
          // The world of this epoch is broken (a server that stopped answering, one that died): record it with what the
          // server said last, give up the rest of the epoch and go on with a fresh one.
          const failure = { run: plan.run, epoch: index + 1, iteration, skipped: size - i - 1, error: await describeFailure(error, epoch.server, run.db) };
          into.failures.push(failure);
          log(`iteration ${iteration}/${total} FAILED (${failure.skipped} iteration(s) of this epoch skipped): ${failure.error}`);
          iteration += failure.skipped;
          failed = true;
          break;
        }
        const { counts, fresh, carried, point } = result;
        into.perIteration.push(counts);
        addCounts(into.totals, counts);
        for (const v of fresh) into.violations.push({ ...v, run: plan.run, iteration });
        log(`iteration ${iteration}/${total} (kill ${point === 'ops' ? 'after operations' : `during a ${point}`}): ${formatCounts(counts)}${carried ? ` (+${carried} still present from earlier iterations)` : ''}`);
        for (const v of fresh.slice(0, 10)) {
          log(`  VIOLATION ${v.kind}: ${v.detail}`);
          for (const line of v.diagnosis ?? []) log(`    ${line}`);
        }
        if (fresh.length > 10) log(`  … and ${fresh.length - 10} more`);
      }
      if (failed) continue;
      const finals = foldSessions(await readLog(run.db));
      for (const kind of REAL_AGENTS) {
        const real = into.realAgents[kind];
        const sessions = driver.real.filter((c) => c.agent === kind).map((c) => finals.get(c.sessionId)).filter((s) => s !== undefined);
        real.spawned += sessions.length;
        real.exited += sessions.filter((s) => s!.status === 'exited').length;
        real.launches += sessions.reduce((n, s) => n + s!.events.filter((e) => e.type === 'SessionRuntimeLaunched').length, 0);
        real.native += sessions.reduce((n, s) => n + s!.events.filter((e) => e.type === 'SessionRuntimeLaunched' && e.data?.resumeMode === 'native').length, 0);
        real.toolCalls += sessions.reduce((n, s) => n + s!.calls.size, 0);
        real.fromTranscript += sessions.reduce((n, s) => n + s!.events.filter((e) => e.type === 'ToolCallDispatched' && e.data?.source === 'transcript').length, 0);
      }
    } finally {
      await closeRun(run);
    }
  }
};

/**
 * Runs `iterations` drive → SIGKILL → restart → check cycles, split between `parallel` independent runs, each cut into
 * epochs of `epoch` iterations on a fresh database, repo and project; sums their counts and violations into one
 * report. Cleans everything up, also on failure; throws RangeError for a count that is not an integer ≥ 1.
 */
export const runCrashSoak = async (options: CrashSoakOptions = {}): Promise<CrashSoakReport> => {
  const iterations = options.iterations ?? 3;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const log = options.log ?? (() => undefined);
  const plans = planSoak(iterations, options.parallel ?? DEFAULT_PARALLEL, options.epoch ?? DEFAULT_EPOCH, seed);
  const realAgents = Object.fromEntries(REAL_AGENTS.map((kind) => [kind, { spawned: 0, exited: 0, launches: 0, native: 0, toolCalls: 0, fromTranscript: 0 }])) as Record<RealAgent, RealAgentCounts>;
  const report: CrashSoakReport = {
    seed, runs: plans.map((p) => ({ run: p.run, seed: p.seed, iterations: p.epochs.reduce((a, b) => a + b, 0), epochs: p.epochs.length })), totals: emptyCounts(), perIteration: [], violations: [], failures: [], realAgents,
  };
  log(`crash soak: seed ${seed}, ${iterations} iteration(s) in ${plans.length} run(s) of epochs of at most ${options.epoch ?? DEFAULT_EPOCH}: ` +
    plans.map((p) => `run ${p.run} seed ${p.seed} (${report.runs[p.run].iterations} iterations, ${p.epochs.length} epoch(s))`).join('; '));
  const started = Date.now();
  // Every run ends (and cleans up) before a failure of one is thrown.
  const ended = await Promise.allSettled(plans.map((plan) => runSoakRun(plan, options, plans.length > 1 ? (line) => log(`[run ${plan.run}] ${line}`) : log, report)));
  removeSharedAgentFiles();
  const failed = ended.find((e): e is PromiseRejectedResult => e.status === 'rejected');
  if (failed) throw failed.reason;
  const wall = (Date.now() - started) / 1000;
  log(`crash soak totals (seed ${seed}): iterations ${report.totals.iterations}; ${report.failures.length} failed (${report.failures.reduce((n, f) => n + f.skipped, 0)} skipped); ${formatCounts(report.totals)}; wall ${wall.toFixed(1)} s ` +
    `(${(wall / Math.max(1, report.totals.iterations)).toFixed(1)} s per iteration, ${((report.totals.iterations * 60) / Math.max(wall, 0.001)).toFixed(2)} iterations per minute)`);
  for (const kind of options.realAgents ?? []) {
    const real = realAgents[kind];
    log(`real ${REAL_AGENT_KITS[kind].label} sessions: ${real.spawned} spawned, ${real.exited} exited, ${real.launches} launches (${real.native} native resumes), ${real.toolCalls} tool calls (${real.fromTranscript} appended from transcripts)`);
  }
  return report;
};
