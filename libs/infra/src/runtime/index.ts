/** Agent runtime adapters: detached child processes identified by (pid, start time), and tmux sessions. */
export * from './process-runtime';
export * from './process-finder';
export * from './tmux-runtime';
export * from './executable-path';
