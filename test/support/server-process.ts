import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { seedPgliteDataDir } from './pglite-template';

const BIN = join(__dirname, '../../bin/runledger.js');

/** A real `runledger <command>` child process listening on an ephemeral port. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  pid: number;
  output: () => string;
  /** Sends `signal` and resolves with the exit code/signal once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `runledger start` (or `api`, or `worker`) with PORT=0 and resolves once it logs its URL (a worker, which serves
 * no HTTP: once it logs that it started, at `info`; its url is ''); rejects with its output if it exits first. On the embedded store a data directory without a cluster gets a copy of the run's empty one (seedPgliteDataDir)
 * unless `options.freshStore`, which leaves PGlite's own initdb to the server.
 */
export const startServerProcess = (env: Record<string, string | undefined>, command = 'start', options: { freshStore?: boolean } = {}): Promise<ServerProcess> => {
  if (!existsSync(join(__dirname, '../../dist/apps/cli/src/main.js'))) {
    throw new Error('run `npm run build` first (npm test does): these tests start the compiled server');
  }
  const effective = { ...process.env, ...env };
  if (!options.freshStore && !effective.DATABASE_URL && effective.RUNLEDGER_DATA_DIR) seedPgliteDataDir(effective.RUNLEDGER_DATA_DIR);
  const worker = command === 'worker';
  const child = spawn(process.execPath, [BIN, command], {
    env: { ...process.env, PORT: '0', NO_COLOR: '1', ...env, ...(worker ? { RUNLEDGER_LOG_LEVEL: 'info' } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = (worker ? /worker started on/ : /listening on (https?:\/\/\S+)\/api\/v1/).exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
        resolve({
          child,
          url: match[1] ?? '',
          pid: child.pid!,
          output: () => output,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then(({ code, signal }) => reject(new Error(`runledger ${command} exited (${code ?? signal}) before listening:\n${output}`)));
  });
};

/** Runs `runledger <args>` to completion (in `cwd`, default the test's) and returns its exit code and output. */
export const runCli = (args: string[], env: Record<string, string | undefined>, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });

/** Runs `command args` with `input` on stdin (a hook reads its input there) and `env` over the test's; its exit code and output. */
export const runWithInput = (command: string, args: string[], input: string, env: Record<string, string | undefined>): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {}); // a command that exits before reading its input
    child.stdin.end(input);
  });
