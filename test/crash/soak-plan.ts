/**
 * How a crash soak's iterations are laid out: split between independent runs (each its own database, repo, server and
 * seed), and within a run cut into epochs (each a fresh database, repo and project), so that an iteration's cost does
 * not grow with the iteration number. Pure functions; harness.ts executes the plan.
 */

/** One run of a soak: its index, its seed, and the iterations of each of its epochs in order. */
export interface RunPlan {
  run: number;
  seed: number;
  /** Iterations of each epoch (each ≥ 1); their sum is the run's share of the soak's iterations. */
  epochs: number[];
}

/** Throws unless `value` is an integer ≥ 1, naming `field`. */
const positive = (field: string, value: number): number => {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${field} must be an integer ≥ 1, got ${value}`);
  return value;
};

/** `iterations` split between `parallel` runs as evenly as possible (the first runs take the remainder); runs with none are left out. */
export const splitIterations = (iterations: number, parallel: number): number[] => {
  positive('iterations', iterations);
  positive('parallel', parallel);
  const base = Math.floor(iterations / parallel);
  const rest = iterations % parallel;
  return Array.from({ length: parallel }, (_, run) => base + (run < rest ? 1 : 0)).filter((n) => n > 0);
};

/** `iterations` cut into epochs of `epoch` iterations, the last one shorter when they do not divide. */
export const epochSizes = (iterations: number, epoch: number): number[] => {
  positive('iterations', iterations);
  positive('epoch', epoch);
  return Array.from({ length: Math.ceil(iterations / epoch) }, (_, i) => Math.min(epoch, iterations - i * epoch));
};

/**
 * The seed of run `run` of a soak seeded `seed`: run 0 uses `seed` itself (so a one-run soak replays as before), the
 * others a value derived from it (a 31-bit integer); passing a run's printed seed to a one-run soak replays that run.
 */
export const runSeed = (seed: number, run: number): number => (run === 0 ? seed : (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(run, 0x85ebca6b)) >>> 1);

/** The plan of a soak: `iterations` split between `parallel` runs, each cut into epochs of `epoch` iterations. */
export const planSoak = (iterations: number, parallel: number, epoch: number, seed: number): RunPlan[] =>
  splitIterations(iterations, parallel).map((share, run) => ({ run, seed: runSeed(seed, run), epochs: epochSizes(share, epoch) }));
