import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Env var through which globalSetup hands the test processes the template data directory (absent: none made). */
const TEMPLATE_ENV = 'RL_TEST_PGLITE_TEMPLATE';

/**
 * Creates, once per jest run, an empty PGlite cluster (`<dir>/pgdata`, initdb only: no migration, no event) and names it in
 * RL_TEST_PGLITE_TEMPLATE. A fresh PGlite data directory costs its initdb in wasm, 3-8 s on a loaded 2-core machine, for
 * every server and store a suite opens; a copy of this one costs under 0.5 s. Returns the directory, for globalTeardown.
 */
export const createPgliteTemplate = async (): Promise<string> => {
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = mkdtempSync(join(tmpdir(), 'rl-pglite-template-'));
  const db = await PGlite.create(join(dir, 'pgdata'));
  await db.close();
  process.env[TEMPLATE_ENV] = dir;
  return dir;
};

/** Removes the template made by createPgliteTemplate (globalTeardown). */
export const removePgliteTemplate = (): void => {
  const dir = process.env[TEMPLATE_ENV];
  if (dir) rmSync(dir, { recursive: true, force: true });
};

/**
 * Puts a copy of the template cluster at `<dataDir>/pgdata` when that directory has none yet and a template exists, so
 * the next PGlite open finds an initialized, empty cluster instead of running initdb; migrations, the data-directory lock
 * and the owner-only file modes still happen in the code under test. Returns true when it seeded.
 */
export const seedPgliteDataDir = (dataDir: string): boolean => {
  const template = process.env[TEMPLATE_ENV];
  const target = join(dataDir, 'pgdata');
  if (!template || !existsSync(join(template, 'pgdata')) || existsSync(target)) return false;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  cpSync(join(template, 'pgdata'), target, { recursive: true });
  return true;
};
