/** Default grace window (ms) a worktree's owner must stay dead before its worktree may be removed (docs/ARCHITECTURE.md §4b). */
export const ORPHAN_GRACE_MS = 30 * 60_000;
/** Default time (ms) before a stranded worktree is flagged again. */
export const STRANDED_COOLDOWN_MS = 6 * 60 * 60_000;
/** Default interval (ms) between reaper sweeps. */
export const REAPER_INTERVAL_MS = 5 * 60_000;

/** The reaper's configuration: `mode` from RUNLEDGER_REAPER (`remove` default, `detect` reports without removing). */
export interface ReaperSettingsConfig {
  mode: 'remove' | 'detect';
  graceMs: number;
  strandCooldownMs: number;
  intervalMs: number;
}

const integer = (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}: expected an integer in [${min}, ${max}], got ${raw}`);
  return n;
};

/**
 * Reads RUNLEDGER_REAPER (`remove` | `detect`), RUNLEDGER_ORPHAN_GRACE_MS (0 to 30 days), RUNLEDGER_STRANDED_COOLDOWN_MS
 * (0 to 30 days) and RUNLEDGER_REAPER_INTERVAL_MS (100 ms to 1 day); throws naming the variable on a bad value.
 */
export const reaperSettings = (env: NodeJS.ProcessEnv = process.env): ReaperSettingsConfig => {
  const mode = env.RUNLEDGER_REAPER === undefined || env.RUNLEDGER_REAPER === '' ? 'remove' : env.RUNLEDGER_REAPER;
  if (mode !== 'remove' && mode !== 'detect') throw new Error(`RUNLEDGER_REAPER: expected remove or detect, got ${mode}`);
  const month = 30 * 86_400_000;
  return {
    mode,
    graceMs: integer(env, 'RUNLEDGER_ORPHAN_GRACE_MS', ORPHAN_GRACE_MS, 0, month),
    strandCooldownMs: integer(env, 'RUNLEDGER_STRANDED_COOLDOWN_MS', STRANDED_COOLDOWN_MS, 0, month),
    intervalMs: integer(env, 'RUNLEDGER_REAPER_INTERVAL_MS', REAPER_INTERVAL_MS, 100, 86_400_000),
  };
};
