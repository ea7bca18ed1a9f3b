import { writeFileSync } from 'node:fs';
import { PrivatePostgres, startPrivatePostgres } from '../support/private-postgres';
import { runCrashSoak } from './harness';
import { REAL_AGENTS, RealAgent } from './real-agents';

// `npm run soak:crash -- --iterations N [--epoch K] [--parallel P]` (test/crash/soak-crash.js) sets SOAK_ITERATIONS (SOAK_EPOCH, SOAK_PARALLEL); plain `npm test` skips this file.
const iterations = Number(process.env.SOAK_ITERATIONS ?? 0);
const seed = process.env.SOAK_SEED ? Number(process.env.SOAK_SEED) : undefined;
const epoch = process.env.SOAK_EPOCH ? Number(process.env.SOAK_EPOCH) : undefined;
const parallel = process.env.SOAK_PARALLEL ? Number(process.env.SOAK_PARALLEL) : undefined;
// SOAK_AGENTS=codex (or claude-code, opencode, gemini-cli, several comma-separated; default all four) chooses which real agents the soak runs.
const realAgents = (process.env.SOAK_AGENTS ?? REAL_AGENTS.join(',')).split(',').map((a) => a.trim()).filter(Boolean) as RealAgent[];
const unknown = realAgents.filter((a) => !REAL_AGENTS.includes(a));
if (unknown.length > 0) throw new Error(`SOAK_AGENTS: unknown agent(s) ${unknown.join(', ')}; known: ${REAL_AGENTS.join(', ')}`);

(iterations > 0 ? describe : describe.skip)(`crash soak: ${iterations || 'SOAK_ITERATIONS'} kill/restart cycles (npm run soak:crash)`, () => {
  // A PostgreSQL server of the soak's own: a subscription reads only below the server's oldest open writing transaction
  // (any database's), so on a shared server another program's long transaction holds every projection of the soak
  // back (measured: a bench's 7-minute INSERT stalled all three runs; each API request then waited 5 s for the projection).
  let pg: PrivatePostgres | undefined;
  afterAll(async () => pg?.destroy());

  it('prints the counts and ends with zero violations', async () => {
    pg = await startPrivatePostgres();
    const postgres = { adminUrl: pg.url, source: 'private' as const };
    const report = await runCrashSoak({ iterations, seed, epoch, parallel, realAgents, postgres, log: (line) => process.stdout.write(`[soak] ${line}\n`) });
    if (process.env.SOAK_REPORT) writeFileSync(process.env.SOAK_REPORT, `${JSON.stringify(report, null, 2)}\n`);
    const total = report.violations.length;
    const failed = report.failures.length;
    process.stdout.write(`[soak] ${report.totals.iterations} iterations, ${report.totals.kills} kills, ${total} violation(s), ${failed} failed iteration(s) (seed ${report.seed}; ${report.runs.map((r) => `run ${r.run} seed ${r.seed}`).join(', ')}); ` +
      `real sessions: ${realAgents.map((a) => `${a} ${report.realAgents[a].spawned}`).join(', ')}\n`);
    expect({ violations: report.violations, failures: report.failures }).toEqual({ violations: [], failures: [] });
  }, 24 * 3600 * 1000);
});
