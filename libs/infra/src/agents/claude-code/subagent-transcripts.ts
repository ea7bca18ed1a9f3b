import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';

/**
 * Paths of the sub-agent transcripts of a session: `<dir>/<basename without .jsonl>/subagents/*.jsonl`, sorted;
 * `[]` when that folder does not exist. Rejects on other I/O errors.
 */
export const findSubagentTranscripts = async (transcriptPath: string): Promise<string[]> => {
  const dir = path.join(path.dirname(transcriptPath), path.basename(transcriptPath, '.jsonl'), 'subagents');
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
    .map((e) => path.join(dir, e.name))
    .sort();
};
