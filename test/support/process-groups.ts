/** SIGKILLs the process group of each pid (agents a suite spawned), skipping groups already gone (ESRCH); never throws. */
export const killProcessGroups = (pids: Iterable<number>): void => {
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
};
