// Runs one integration suite through jest (its TypeScript transform, path aliases and PostgreSQL selection) with
// settings passed as environment variables; used by `npm run soak:crash` and `npm run fuzz`.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { parseArgs } = require('node:util');

const root = path.join(__dirname, '..', '..');

/**
 * Parses `--<count> N [--seed S] [--report file.json]` (node:util parseArgs), sets `<PREFIX>_<COUNT>`, `<PREFIX>_SEED`
 * (random unless given) and `<PREFIX>_REPORT` (absolute path), runs `suite`, and exits with jest's status; usage
 * errors exit 2.
 */
const runSuite = ({ script, count, defaultCount, prefix, suite }) => {
  const usage = `usage: npm run ${script} -- --${count} N [--seed S] [--report file.json]\n`;
  let values;
  try {
    ({ values } = parseArgs({ options: { [count]: { type: 'string' }, seed: { type: 'string' }, report: { type: 'string' } } }));
  } catch (error) {
    process.stderr.write(`${error.message}\n${usage}`);
    process.exit(2);
  }
  const n = Number(values[count] ?? defaultCount);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(usage);
    process.exit(2);
  }
  const seed = values.seed ?? String(Math.floor(Math.random() * 2 ** 31));
  const env = { ...process.env, [`${prefix}_${count.toUpperCase()}`]: String(n), [`${prefix}_SEED`]: seed };
  if (values.report !== undefined) env[`${prefix}_REPORT`] = path.resolve(values.report);
  process.stdout.write(`${script}: ${n} ${count}, seed ${seed}\n`);
  const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  const result = spawnSync(
    process.execPath,
    ['--experimental-vm-modules', '--no-warnings', jest, '--runInBand', '--selectProjects', 'integration', '--runTestsByPath', suite],
    { cwd: root, env, stdio: 'inherit' },
  );
  process.exit(result.status ?? 1);
};

module.exports = { runSuite };
