import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Where the executable `name` is: `name` itself when it holds a `/` (absolute, or relative to the cwd), else the first
 * folder of `env.PATH` (absolute folders only) holding an executable regular file of that name; undefined when none does.
 */
export const executablePath = (name: string, env: NodeJS.ProcessEnv = process.env): string | undefined => {
  const candidates = name.includes('/')
    ? [name]
    : (env.PATH ?? '').split(path.delimiter).filter((dir) => path.isAbsolute(dir)).map((dir) => path.join(dir, name));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
};
