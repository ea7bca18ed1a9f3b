import * as fs from 'node:fs';
import * as path from 'node:path';

/** Adds `pattern` to the repository's shared `info/exclude` (worktrees share it) unless already there; a directory without `.git` is left alone. */
export const excludeFromGit = (worktree: string, pattern: string): void => {
  const dotGit = path.join(worktree, '.git');
  if (!fs.existsSync(dotGit)) return;
  const gitdir = fs.statSync(dotGit).isFile() ? fs.readFileSync(dotGit, 'utf8').replace(/^gitdir:\s*/, '').trim() : dotGit;
  const commonFile = path.join(gitdir, 'commondir');
  const common = fs.existsSync(commonFile) ? path.resolve(gitdir, fs.readFileSync(commonFile, 'utf8').trim()) : gitdir;
  const exclude = path.join(common, 'info', 'exclude');
  const current = fs.existsSync(exclude) ? fs.readFileSync(exclude, 'utf8') : '';
  if (current.split('\n').includes(pattern)) return;
  fs.mkdirSync(path.dirname(exclude), { recursive: true });
  fs.appendFileSync(exclude, `${current.endsWith('\n') || current === '' ? '' : '\n'}${pattern}\n`);
};
