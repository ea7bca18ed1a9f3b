// Runs one integration suite through jest (its TypeScript transform, path aliases and PostgreSQL selection) with
// settings passed as environment variables; used by `npm run soak:crash` and `npm run fuzz`.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { parseArgs } = require('node:util');

const root = path.join(__dirname, '..', '..');

/**
 * Parses `--<count> N [--<extra> M …] [--seed S] [--report file.json]` (node:util parseArgs; each extra an integer ≥ 1),
 * sets `<PREFIX>_<COUNT>`, `<PREFIX>_<EXTRA>` for each extra given, `<PREFIX>_SEED` (random unless given) and
 * `<PREFIX>_REPORT` (absolute path), runs `suite`, and exits with jest's status; usage errors exit 2 naming the option.
 */
const runSuite = ({ script, count, defaultCount, prefix, suite, extra = [] }) => {
  const usage = `usage: npm run ${script} -- --${count} N${extra.map((e) => ` [--${e} N]`).join('')} [--seed S] [--report file.json]\n`;
  let values;
  try {
    const options = { [count]: { type: 'string' }, seed: { type: 'string' }, report: { type: 'string' } };
    for (const name of extra) options[name] = { type: 'string' };
    ({ values } = parseArgs({ options }));
  } catch (error) {
    process.stderr.write(`${error.message}\n${usage}`);
    process.exit(2);
  }
  const n = Number(values[count] ?? defaultCount);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${count} must be an integer ≥ 1\n${usage}`);
    process.exit(2);
  }
  const seed = values.seed ?? String(Math.floor(Math.random() * 2 ** 31));
  const env = { ...process.env, [`${prefix}_${count.toUpperCase()}`]: String(n), [`${prefix}_SEED`]: seed };
  for (const name of extra) {
    if (values[name] === undefined) continue;
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 1) {
      process.stderr.write(`--${name} must be an integer ≥ 1, got ${values[name]}\n${usage}`);
      process.exit(2);
    }
    env[`${prefix}_${name.toUpperCase()}`] = String(value);
  }
  if (values.report !== undefined) env[`${prefix}_REPORT`] = path.resolve(values.report);
  process.stdout.write(`${script}: ${n} ${count}${extra.filter((e) => values[e] !== undefined).map((e) => `, ${e} ${values[e]}`).join('')}, seed ${seed}\n`);
  const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  const result = spawnSync(
    process.execPath,
    ['--experimental-vm-modules', '--no-warnings', jest, '--runInBand', '--selectProjects', 'integration', '--runTestsByPath', suite],
    { cwd: root, env, stdio: 'inherit' },
  );
  process.exit(result.status ?? 1);
};

module.exports = { runSuite };
