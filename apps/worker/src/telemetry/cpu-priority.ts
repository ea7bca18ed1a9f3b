import { readFileSync, writeFileSync } from 'node:fs';
import { constants, setPriority } from 'node:os';

/** The nice value a background process takes: the least CPU share Linux gives (a weight of 15 against 1,024 at nice 0). */
export const BACKGROUND_NICE = constants.priority.PRIORITY_LOW;

/** What lowerCpuPriority set: this process's nice value, and its autogroup's (null where the kernel has no autogroups). */
export interface CpuPriority {
  nice: number;
  autogroupNice: number | null;
}

/**
 * Gives this process the least CPU share (docs/ARCHITECTURE.md §4g): nice `BACKGROUND_NICE`, and the same nice for its
 * autogroup where the kernel schedules by session (sched(7), `/proc/self/autogroup`: with autogroups enabled a
 * process's own nice only weighs against its session's other processes, so a process of its own session must lower the
 * session's weight too). Lowering is always permitted; throws what setpriority or the write throws otherwise (never a
 * silent fallback). Returns what it set, read back.
 */
export const lowerCpuPriority = (autogroupFile = '/proc/self/autogroup'): CpuPriority => {
  setPriority(BACKGROUND_NICE);
  let autogroupNice: number | null = null;
  let current: string | null = null;
  try {
    current = readFileSync(autogroupFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (current !== null) {
    writeFileSync(autogroupFile, String(BACKGROUND_NICE));
    autogroupNice = parseAutogroupNice(readFileSync(autogroupFile, 'utf8'));
  }
  return { nice: BACKGROUND_NICE, autogroupNice };
};

/** The nice value in a `/proc/<pid>/autogroup` line (`/autogroup-123 nice 19`); throws on another shape. */
export const parseAutogroupNice = (line: string): number => {
  const match = /nice (-?\d+)/.exec(line);
  if (!match) throw new Error(`unexpected autogroup line: ${JSON.stringify(line.slice(0, 80))}`);
  return Number(match[1]);
};
