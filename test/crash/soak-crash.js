#!/usr/bin/env node
// `npm run soak:crash -- --iterations N [--seed S]`: runs test/crash/soak.test.ts through jest (its TypeScript transform,
// path aliases and PostgreSQL selection) with SOAK_ITERATIONS=N; exits with jest's status (non-zero on any violation).
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i === -1) return undefined;
  return args[i].includes('=') ? args[i].split('=')[1] : args[i + 1];
};
const iterations = Number(option('iterations') ?? 10);
if (!Number.isInteger(iterations) || iterations < 1) {
  process.stderr.write('usage: npm run soak:crash -- --iterations N [--seed S] [--report file.json]\n');
  process.exit(2);
}
const root = path.join(__dirname, '..', '..');
const env = { ...process.env, SOAK_ITERATIONS: String(iterations) };
if (option('seed') !== undefined) env.SOAK_SEED = option('seed');
if (option('report') !== undefined) env.SOAK_REPORT = path.resolve(option('report'));
const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const result = spawnSync(
  process.execPath,
  ['--experimental-vm-modules', '--no-warnings', jest, '--runInBand', '--selectProjects', 'integration', '--runTestsByPath', 'test/crash/soak.test.ts'],
  { cwd: root, env, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
