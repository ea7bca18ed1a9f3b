import { epochSizes, planSoak, runSeed, splitIterations } from './soak-plan';

describe('crash soak plan: iterations split between runs and cut into epochs', () => {
  it('splits iterations between runs as evenly as possible, the first runs taking the remainder', () => {
    expect(splitIterations(1000, 1)).toEqual([1000]);
    expect(splitIterations(1000, 3)).toEqual([334, 333, 333]);
    expect(splitIterations(7, 2)).toEqual([4, 3]);
  });

  it('leaves out runs that would get no iteration', () => {
    expect(splitIterations(2, 3)).toEqual([1, 1]);
  });

  it('cuts a run into epochs of at most K iterations, the last one shorter', () => {
    expect(epochSizes(50, 25)).toEqual([25, 25]);
    expect(epochSizes(334, 25)).toEqual([...Array(13).fill(25), 9]);
    expect(epochSizes(3, 25)).toEqual([3]);
    expect(epochSizes(5, 1)).toEqual([1, 1, 1, 1, 1]);
  });

  it('refuses counts that are not integers ≥ 1, naming the field', () => {
    expect(() => splitIterations(0, 1)).toThrow(/iterations/);
    expect(() => splitIterations(10, 0)).toThrow(/parallel/);
    expect(() => epochSizes(10, 2.5)).toThrow(/epoch/);
  });

  it('keeps the seed for run 0 and derives a distinct, stable 31-bit seed for each other run', () => {
    expect(runSeed(12345, 0)).toBe(12345);
    const seeds = [0, 1, 2, 3, 4, 5, 6, 7].map((run) => runSeed(12345, run));
    expect(new Set(seeds).size).toBe(seeds.length);
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true);
    expect(runSeed(12345, 3)).toBe(seeds[3]);
    expect(runSeed(54321, 1)).not.toBe(runSeed(12345, 1));
  });

  it('plans every iteration exactly once: runs, seeds and epochs', () => {
    const plan = planSoak(1000, 3, 25, 7);
    expect(plan.map((p) => p.run)).toEqual([0, 1, 2]);
    expect(plan.map((p) => p.seed)).toEqual([7, runSeed(7, 1), runSeed(7, 2)]);
    expect(plan.flatMap((p) => p.epochs).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(plan.every((p) => p.epochs.every((e) => e >= 1 && e <= 25))).toBe(true);
  });
});
