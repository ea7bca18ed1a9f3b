import * as fs from 'node:fs';
import * as path from 'node:path';

/** The umask of a runledger server: every file it (and what it starts) creates is at most 0600, every directory 0700 (docs/ARCHITECTURE.md §4c). */
export const PRIVATE_UMASK = 0o077;
/** Mode of runledger's directories: owner only. */
export const PRIVATE_DIRECTORY_MODE = 0o700;

/** Subdirectories of the data directory whose whole tree is runledger's own (tightened recursively); worktrees are the agents'. */
const OWN_TREES = ['pgdata', 'logs', 'secrets'];

/**
 * Owner-only modes for the tree at `target` (files lose their group/other bits, directories become 0700), never
 * following a symlink. PGlite's file system layer creates its files 0666 whatever the umask: the store calls this after
 * opening and after its migrations, and the 0700 directories above keep any file made in between unreachable.
 */
export const tighten = (target: string): void => {
  const stat = fs.lstatSync(target);
  if (stat.isSymbolicLink()) return; // never follow a link out of the data directory
  if (stat.isDirectory()) {
    if ((stat.mode & 0o777) !== PRIVATE_DIRECTORY_MODE) fs.chmodSync(target, PRIVATE_DIRECTORY_MODE);
    for (const entry of fs.readdirSync(target)) tighten(path.join(target, entry));
  } else if ((stat.mode & 0o077) !== 0) {
    fs.chmodSync(target, stat.mode & 0o700);
  }
};

/**
 * Makes the process create private files from now on (umask 077) and tightens what an earlier run left in `dataDir`:
 * the directory itself 0700, its own files (token, lock) and the trees of the embedded store, logs and secrets to
 * owner-only (files keep their owner bits, directories 0700). The worktrees directory becomes 0700 but its content,
 * the agents' checkouts, keeps its modes. Returns the previous umask.
 */
export const makeDataDirectoryPrivate = (dataDir: string): number => {
  const previous = process.umask(PRIVATE_UMASK);
  fs.mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  fs.chmodSync(dataDir, PRIVATE_DIRECTORY_MODE);
  for (const entry of fs.readdirSync(dataDir)) {
    const target = path.join(dataDir, entry);
    const stat = fs.lstatSync(target);
    if (stat.isSymbolicLink()) continue;
    if (!stat.isDirectory() || OWN_TREES.includes(entry)) tighten(target);
    else fs.chmodSync(target, PRIVATE_DIRECTORY_MODE);
  }
  return previous;
};
