import { spawn } from 'node:child_process';

/** How a process run to completion ended, with everything it printed. */
export interface FinishedProcess {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` with `args` in `cwd` with `env` (stdin /dev/null), to completion: resolves on 'close' (stdout read to
 * its end), rejects when it cannot be spawned; SIGKILLs it after `timeoutMs`.
 */
export const runToCompletion = (command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<FinishedProcess> =>
  new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    // 'close' (not 'exit'): stdout is read to its end. A child left running with the pipe open delays it until the timer.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
