#!/usr/bin/env node
// `npm run fuzz -- --requests N [--seed S] [--report file.json]`: runs test/fuzz/fuzz.test.ts through jest (its TypeScript
// transform and path aliases) with FUZZ_REQUESTS=N; a random seed unless given; exits non-zero on any violated invariant.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i === -1) return undefined;
  return args[i].includes('=') ? args[i].split('=')[1] : args[i + 1];
};
const requests = Number(option('requests') ?? 2000);
if (!Number.isInteger(requests) || requests < 1) {
  process.stderr.write('usage: npm run fuzz -- --requests N [--seed S] [--report file.json]\n');
  process.exit(2);
}
const seed = option('seed') ?? String(Math.floor(Math.random() * 2 ** 31));
const root = path.join(__dirname, '..', '..');
const env = { ...process.env, FUZZ_REQUESTS: String(requests), FUZZ_SEED: seed };
if (option('report') !== undefined) env.FUZZ_REPORT = path.resolve(option('report'));
process.stdout.write(`fuzz: ${requests} requests, seed ${seed}\n`);
const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const result = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', '--no-warnings', jest, '--runInBand', '--selectProjects', 'integration', '--runTestsByPath', 'test/fuzz/fuzz.test.ts'],
  { cwd: root, env, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
