import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { executablePath } from '@runledger/infra/runtime/executable-path';

/**
 * The agent CLI a launch runs (docs/ARCHITECTURE.md §4d): `override` (the agent's RUNLEDGER_<AGENT>_BIN) when set; else
 * `name` on the PATH; else the one installed with runledger (the nearest `node_modules/.bin/<name>` above this module);
 * else `name`, whose spawn then fails and is recorded as a launch failure. Never throws.
 */
export const agentExecutable = (name: string, override: string | undefined, env: NodeJS.ProcessEnv = process.env): string => {
  if (override) return override;
  if (executablePath(name, env)) return name;
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const bin = path.join(dir, 'node_modules', '.bin', name);
    if (existsSync(bin)) return bin;
  }
  return name;
};
