/** Agent runtime adapters: detached child processes identified by (pid, start time). */
export * from './process-runtime';
export * from './process-finder';
